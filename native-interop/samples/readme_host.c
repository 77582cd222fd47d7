#include <stdio.h>
#include <string.h>
#include <fastbuddy.h>

/* A page-cache owner: writeback stores a dirty page, evict forgets it. */
static int writeback(void* ctx, void* page) { (void)ctx; (void)page; return 1; /* clean now */ }
static void evict(void* ctx, void* page) { (void)page; ++*(int*)ctx; }

int main(void)
{
    fb_zone_options zones[2] = { { "DMA", 16u << 20, 0 }, { "Normal", 48u << 20, 0 } };
    fb_options options;
    fb_options_init(&options);               /* 4 KiB pages, 11 orders, background reclaim on */
    options.zones = zones;
    options.zone_count = 2;

    fb_arena* arena = NULL;
    if (fb_arena_create(&options, &arena) != FB_OK) {
        fprintf(stderr, "create: %s\n", fb_strerror(fb_last_error()));
        return 1;
    }

    void* page = fb_alloc_pages(arena, 0, FB_KERNEL);          /* one 4 KiB page */
    void* block = fb_alloc_pages(arena, 4, FB_KERNEL | FB_ZERO); /* 64 KiB, zeroed, 64 KiB-aligned */
    void* bytes = fb_alloc(arena, 10000, FB_KERNEL);           /* an object of the 10240-byte slab class */
    bytes = fb_realloc(arena, bytes, 40000, FB_KERNEL);        /* above 32 KiB: moves to a 64 KiB block */
    printf("usable: %zu\n", fb_usable_size(arena, bytes));

    int evicted = 0;
    fb_page_ops ops = { writeback, evict };
    fb_cache_add(arena, page, &ops, &evicted, 0);               /* the arena may now reclaim it */
    if (fb_cache_remove(arena, page) == FB_OK)                  /* take it back before freeing */
        fb_free_pages(arena, page, 0);

    int status = fb_free_pages(arena, block, 3);               /* wrong order: refused, nothing changes */
    printf("wrong order: %s\n", fb_strerror(status));
    fb_free_pages(arena, block, 4);
    fb_free(arena, bytes);

    fb_stats stats = { .struct_size = sizeof stats };
    fb_get_stats(arena, &stats);
    printf("%lld of %lld pages free, %d evicted\n",
           (long long)stats.free_pages, (long long)stats.total_pages, evicted);
    return fb_validate(arena) == FB_OK && fb_arena_destroy(arena) == FB_OK ? 0 : 1;
}
