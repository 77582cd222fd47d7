/*
 * sample.c - a C host of FastBuddy.
 *
 * Creates an arena with two zones, allocates pages of several orders, uses the byte API, keeps a small
 * file-backed page cache in the arena (writeback writes a page to its block of the file, evict forgets
 * it), allocates until the allocation policy takes cached pages back, prints the statistics and a
 * buddyinfo-style table, and destroys the arena.
 *
 * Build: see docs/c-hosts.md (cmake, pkg-config, or gcc -I include -L out -Wl,-rpath,out -lfastbuddy).
 * Usage: fastbuddy_sample [backing-file]
 */
#define _POSIX_C_SOURCE 200809L
#include <fastbuddy.h>

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_BLOCKS 64

/* ------------------------------------------------------------ a tiny file cache */

/* Block i of the backing file is cached in page[i] (or not cached: NULL). The arena may call writeback and
   evict on its reclaimer thread while the host works, hence the lock (never held while allocating). */
typedef struct file_cache {
    pthread_mutex_t lock;
    int fd;
    size_t page_size;
    void* page[CACHE_BLOCKS];
    int writebacks;
    int evictions;
} file_cache;

static int block_of(file_cache* c, const void* page)
{
    for (int i = 0; i < CACHE_BLOCKS; i++)
        if (c->page[i] == page)
            return i;
    return -1;
}

/* Writes the page to its block; 1 = clean now, -1 = I/O error (the arena keeps the page and retries later). */
static int cache_writeback(void* ctx, void* page)
{
    file_cache* c = (file_cache*)ctx;
    pthread_mutex_lock(&c->lock);
    int block = block_of(c, page);
    if (block >= 0)
        c->writebacks++;
    pthread_mutex_unlock(&c->lock);
    if (block < 0)
        return 1;
    ssize_t n = pwrite(c->fd, page, c->page_size, (off_t)block * (off_t)c->page_size);
    return n == (ssize_t)c->page_size ? 1 : -1;
}

/* The arena takes the page back: forget it. The block stays in the file. */
static void cache_evict(void* ctx, void* page)
{
    file_cache* c = (file_cache*)ctx;
    pthread_mutex_lock(&c->lock);
    int block = block_of(c, page);
    if (block >= 0) {
        c->page[block] = NULL;
        c->evictions++;
    }
    pthread_mutex_unlock(&c->lock);
}

static const fb_page_ops file_cache_ops = { cache_writeback, cache_evict };

/* Reads block i into buf: from the cache when it is there (touching it), else from the file. Returns 1 if it came
   from the cache, 0 from the file, -1 on error. The copy happens under the lock: evict takes the same lock, so a
   page cannot be handed to someone else while it is being read. */
static int cache_read(fb_arena* arena, file_cache* c, int block, char* buf)
{
    pthread_mutex_lock(&c->lock);
    void* page = c->page[block];
    if (page != NULL) {
        fb_cache_touch(arena, page); /* referenced: it ages up and stays longer */
        memcpy(buf, page, c->page_size);
        pthread_mutex_unlock(&c->lock);
        return 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (pread(c->fd, buf, c->page_size, (off_t)block * (off_t)c->page_size) != (ssize_t)c->page_size)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ printing */

static void print_stats(fb_arena* arena)
{
    fb_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (fb_get_stats(arena, &s) != FB_OK) {
        fprintf(stderr, "fb_get_stats: %s\n", fb_strerror(fb_last_error()));
        return;
    }
    printf("arena: %" PRId64 " pages of %u bytes in %u zones, %" PRId64 " free\n", s.total_pages, s.page_size,
           s.zone_count, s.free_pages);
    printf("  page cache: %" PRId64 " active, %" PRId64 " inactive_dirty, %" PRId64 " inactive_clean\n",
           s.active_pages, s.inactive_dirty_pages, s.inactive_clean_pages);
    printf("  allocations %" PRId64 ", frees %" PRId64 ", failures %" PRId64 ", reclaimed %" PRId64
           ", laundered %" PRId64 "\n",
           s.allocations, s.frees, s.failures, s.reclaimed, s.laundered);
    printf("  memory_pressure %" PRId64 ", inactive_target %" PRId64 ", freepages min/low/high %" PRId64
           "/%" PRId64 "/%" PRId64 "\n",
           s.memory_pressure, s.inactive_target, s.free_pages_min, s.free_pages_low, s.free_pages_high);
    printf("  served by: fast path %" PRId64 ", high %" PRId64 ", low %" PRId64 ", min %" PRId64
           ", direct reclaim %" PRId64 ", higher-order reclaim %" PRId64 ", final phase %" PRId64
           ", failed %" PRId64 "\n",
           s.step_fast_path, s.step_high, s.step_low, s.step_min, s.step_direct_reclaim,
           s.step_higher_order_reclaim, s.step_final_phase, s.step_failed);

    printf("\n%-8s %6s %6s %4s %4s %4s %6s %6s %6s\n", "zone", "pages", "free", "min", "low", "high", "active",
           "idirty", "iclean");
    for (uint32_t i = 0; i < s.zone_count; i++) {
        fb_zone_stats z;
        memset(&z, 0, sizeof z);
        z.struct_size = sizeof z;
        if (fb_get_zone_stats(arena, i, &z) != FB_OK)
            continue;
        printf("%-8s %6" PRId64 " %6" PRId64 " %4" PRId64 " %4" PRId64 " %4" PRId64 " %6" PRId64 " %6" PRId64
               " %6" PRId64 "\n",
               z.name, z.pages, z.free_pages, z.pages_min, z.pages_low, z.pages_high, z.active_pages,
               z.inactive_dirty_pages, z.inactive_clean_pages);
    }

    /* like /proc/buddyinfo: free blocks per order */
    printf("\nbuddyinfo%*s", 8, "");
    for (uint32_t k = 0; k < s.max_order; k++)
        printf(" %5u", k);
    printf("\n");
    for (uint32_t i = 0; i < s.zone_count; i++) {
        fb_zone_stats z;
        memset(&z, 0, sizeof z);
        z.struct_size = sizeof z;
        if (fb_get_zone_stats(arena, i, &z) != FB_OK)
            continue;
        printf("zone %-12s", z.name);
        for (uint32_t k = 0; k < s.max_order; k++)
            printf(" %5" PRId64, z.free_blocks[k]);
        printf("\n");
    }
    printf("\n");
}

/* ------------------------------------------------------------ main */

#define FAIL(what) do { fprintf(stderr, "%s: %s\n", what, fb_strerror(fb_last_error())); return 1; } while (0)

int main(int argc, char** argv)
{
    const char* path = argc > 1 ? argv[1] : "fastbuddy-sample.bin";
    printf("FastBuddy %s (header %s)\n\n", fb_version(), FB_VERSION_STRING);

    /* 1. An arena of two zones: 1 MiB "DMA" (zonelist 0) and 7 MiB "Normal" (the default zonelist). */
    fb_zone_options zones[2] = {
        { "DMA", 1u << 20, 0 },      /* pages_min 0: computed by the 2.4 rule */
        { "Normal", 7u << 20, 0 },
    };
    fb_options options;
    fb_options_init(&options);      /* 4 KiB pages, 11 orders, background reclaim, 200 ms wait */
    options.zones = zones;
    options.zone_count = 2;
    fb_arena* arena = NULL;
    int status = fb_arena_create(&options, &arena);
    if (status != FB_OK) {
        fprintf(stderr, "fb_arena_create: %s\n", fb_strerror(status));
        return 1;
    }
    size_t page_size = fb_page_size(arena);

    /* 2. Pages of several orders: blocks of 2^order pages, aligned to their size. */
    uint32_t orders[] = { 0, 1, 3, 5, 8 };
    void* blocks[5];
    for (int i = 0; i < 5; i++) {
        blocks[i] = fb_alloc_pages(arena, orders[i], FB_KERNEL);
        if (blocks[i] == NULL)
            FAIL("fb_alloc_pages");
        printf("order %u: %p, %zu bytes\n", orders[i], blocks[i], fb_usable_size(arena, blocks[i]));
    }
    void* dma = fb_alloc_pages_zonelist(arena, 2, FB_KERNEL, 0); /* from the DMA zone only */
    if (dma == NULL)
        FAIL("fb_alloc_pages_zonelist");
    printf("order 2 from zonelist 0 (DMA): %p\n", dma);
    for (int i = 0; i < 5; i++)
        fb_free_pages(arena, blocks[i], orders[i]);
    fb_free_pages(arena, dma, 2);
    status = fb_free_pages(arena, dma, 2);
    printf("freeing it twice: %s\n\n", fb_strerror(status)); /* a status, not a crash */

    /* 3. The byte API: sizes round up to power-of-two page blocks. */
    char* text = (char*)fb_alloc(arena, 100, FB_KERNEL | FB_ZERO);
    if (text == NULL)
        FAIL("fb_alloc");
    strcpy(text, "hello from a FastBuddy block");
    printf("fb_alloc(100): usable %zu bytes\n", fb_usable_size(arena, text));
    char* grown = (char*)fb_realloc(arena, text, 20000, FB_KERNEL);
    if (grown == NULL)
        FAIL("fb_realloc");
    printf("fb_realloc(20000): usable %zu bytes, %s, contents \"%s\"\n", fb_usable_size(arena, grown),
           grown == text ? "grown in place" : "moved", grown);
    fb_free(arena, grown);
    printf("\n");

    /* 4. A file-backed page cache: 64 dirty pages the arena may write back and take away. */
    static file_cache cache;
    pthread_mutex_init(&cache.lock, NULL);
    cache.page_size = page_size;
    cache.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (cache.fd < 0) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < CACHE_BLOCKS; i++) {
        void* page = fb_alloc_pages(arena, 0, FB_KERNEL | FB_ZERO); /* zeroed: the whole page goes to the file */
        if (page == NULL)
            FAIL("fb_alloc_pages (cache)");
        snprintf((char*)page, page_size, "block %d of %s", i, path);
        pthread_mutex_lock(&cache.lock);
        cache.page[i] = page;
        pthread_mutex_unlock(&cache.lock);
        if (fb_cache_add(arena, page, &file_cache_ops, &cache, 1 /* dirty: not in the file yet */) != FB_OK)
            FAIL("fb_cache_add");
    }
    printf("cached %d dirty pages\n", CACHE_BLOCKS);
    print_stats(arena);

    /* 5. Memory pressure: allocate until the policy has taken cached pages back (or nothing is left). */
    fb_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    fb_get_stats(arena, &s);
    size_t capacity = (size_t)s.total_pages, held = 0;
    void** pages = (void**)malloc(capacity * sizeof(void*));
    if (pages == NULL)
        return 1;
    for (;;) {
        pthread_mutex_lock(&cache.lock);
        int evicted = cache.evictions;
        pthread_mutex_unlock(&cache.lock);
        if (evicted >= CACHE_BLOCKS / 2 || held == capacity)
            break;
        void* p = fb_alloc_pages(arena, 0, FB_KERNEL);
        if (p == NULL) {
            printf("allocation failed after %zu pages: %s\n", held, fb_strerror(fb_last_error()));
            break;
        }
        memset(p, 0xA5, page_size);
        pages[held++] = p;
    }
    pthread_mutex_lock(&cache.lock);
    printf("allocated %zu more pages; the arena wrote back %d pages and evicted %d\n", held, cache.writebacks,
           cache.evictions);
    pthread_mutex_unlock(&cache.lock);

    /* 6. Read every block back: cached ones from memory, evicted ones from the file. */
    char* buf = (char*)malloc(page_size);
    char expected[128];
    int from_file = 0, bad = 0;
    for (int i = 0; i < CACHE_BLOCKS; i++) {
        int where = cache_read(arena, &cache, i, buf);
        snprintf(expected, sizeof expected, "block %d of %s", i, path);
        if (where == 0)
            from_file++;
        if (where < 0 || strcmp(buf, expected) != 0)
            bad++;
    }
    printf("read back %d blocks: %d from the file, %d from the cache, %d wrong\n\n", CACHE_BLOCKS, from_file,
           CACHE_BLOCKS - from_file, bad);
    print_stats(arena);

    /* 7. Give everything back and check the arena, then destroy it (which would free everything anyway). */
    for (size_t i = 0; i < held; i++)
        fb_free_pages(arena, pages[i], 0);
    for (int i = 0; i < CACHE_BLOCKS; i++) {
        pthread_mutex_lock(&cache.lock);
        void* page = cache.page[i];
        pthread_mutex_unlock(&cache.lock);
        if (page != NULL && fb_cache_remove(arena, page) == FB_OK) {
            pthread_mutex_lock(&cache.lock);
            cache.page[i] = NULL;
            pthread_mutex_unlock(&cache.lock);
            fb_free_pages(arena, page, 0); /* ours again: free it */
        }
        /* FB_ERR_RECLAIMED: the arena chose it first; its evict forgets it */
    }
    status = fb_validate(arena);
    printf("fb_validate: %s\n", fb_strerror(status));
    fb_arena_destroy(arena);
    close(cache.fd);
    free(pages);
    free(buf);
    return status == FB_OK && bad == 0 ? 0 : 1;
}
