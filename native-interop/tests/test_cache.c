/* The page cache from C: fb_cache_* calls, bad input, and the owner callbacks under memory pressure.
   Arenas here have background_reclaim = 0, so every callback runs on the test's own thread, deterministically. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache_owner.h"
#include "fbtest.h"
#include "helpers.h"

#define PAGE 4096u

/* 256 pages, pages_min 8 (low 16, high 24), no reclaimer thread, 20 ms wait. */
static fb_arena* pressure_arena(void)
{
    fb_zone_options zone = { "Normal", 1 * MIB, 8 };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = &zone;
    o.zone_count = 1;
    return fbt_arena_with(&o);
}

/* Allocates order-0 pages with `flags` until one fails (at most max); returns how many, stored in held. */
static int allocate_until_failure(fb_arena* a, uint32_t flags, void** held, int max)
{
    int n = 0;
    while (n < max && (held[n] = fb_alloc_pages(a, 0, flags)) != NULL) {
        memset(held[n], 0xD0, PAGE); /* the page is really ours, even a reclaimed one */
        n++;
    }
    return n;
}

static void free_all(fb_arena* a, void** held, int n)
{
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, held[i], 0), FB_OK);
}

static int never_called_writeback(void* ctx, void* page) { (void)page; atomic_fetch_add((atomic_int*)ctx, 1); return 1; }
static void never_called_evict(void* ctx, void* page) { (void)page; atomic_fetch_add((atomic_int*)ctx, 1); }
static const fb_page_ops forbidden_ops = { never_called_writeback, never_called_evict };

FB_TEST(cache_add_touch_dirty_remove)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    atomic_int calls = 0;
    void* page = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(page != NULL);
    CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, 0), FB_OK);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.active_pages, 1);
    CHECK_STATUS(fb_cache_touch(a, page), FB_OK);
    CHECK_STATUS(fb_cache_mark_dirty(a, page), FB_OK);
    CHECK_STATUS(fb_cache_touch(a, page), FB_OK);
    CHECK_STATUS(fb_validate(a), FB_OK);
    CHECK_STATUS(fb_cache_remove(a, page), FB_OK);
    s = fbt_stats(a);
    CHECK_EQ(s.active_pages + s.inactive_dirty_pages + s.inactive_clean_pages, 0);
    CHECK_STATUS(fb_free_pages(a, page, 0), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_EQ(atomic_load(&calls), 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(cache_readd_after_remove)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    atomic_int calls = 0;
    void* page = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(page != NULL);
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, i & 1), FB_OK);
        CHECK_STATUS(fb_cache_remove(a, page), FB_OK);
    }
    CHECK_STATUS(fb_free_pages(a, page, 0), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(cache_bad_input)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    atomic_int calls = 0;
    fb_page_ops no_evict = { never_called_writeback, NULL };
    char* block = (char*)fb_alloc_pages(a, 1, FB_KERNEL);
    char* page = (char*)fb_alloc_pages(a, 0, FB_KERNEL);
    char* freed = (char*)fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(block != NULL && page != NULL && freed != NULL);
    CHECK_STATUS(fb_free_pages(a, freed, 0), FB_OK);
    void* heap = malloc(64);

    /* ops */
    CHECK_STATUS(fb_cache_add(a, page, NULL, &calls, 0), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_add(a, page, &no_evict, &calls, 0), FB_ERR_INVALID_ARGUMENT);
    /* not an allocated order-0 head */
    CHECK_STATUS(fb_cache_add(a, heap, &forbidden_ops, &calls, 0), FB_ERR_NOT_OWNED);
    CHECK_STATUS(fb_cache_add(a, NULL, &forbidden_ops, &calls, 0), FB_ERR_NOT_OWNED);
    CHECK_STATUS(fb_cache_add(a, block, &forbidden_ops, &calls, 0), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_cache_add(a, block + PAGE, &forbidden_ops, &calls, 0), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_cache_add(a, page + 16, &forbidden_ops, &calls, 0), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_cache_add(a, freed, &forbidden_ops, &calls, 0), FB_ERR_DOUBLE_FREE);
    /* touch / mark dirty of pages that are not cached */
    CHECK_STATUS(fb_cache_touch(a, page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_mark_dirty(a, page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_touch(a, freed), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_cache_mark_dirty(a, freed), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_cache_touch(a, heap), FB_ERR_NOT_OWNED);
    CHECK_STATUS(fb_cache_mark_dirty(a, block), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_cache_touch(a, block + 1), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_cache_remove(a, heap), FB_ERR_NOT_OWNED);
    CHECK_STATUS(fb_cache_remove(a, page + 1), FB_ERR_NOT_A_BLOCK);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
    /* adding twice */
    CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, 0), FB_OK);
    CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, 1), FB_ERR_BUSY);
    CHECK_STATUS(fb_validate(a), FB_OK);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.active_pages, 1);
    CHECK_STATUS(fb_cache_remove(a, page), FB_OK);

    CHECK_STATUS(fb_free_pages(a, page, 0), FB_OK);
    CHECK_STATUS(fb_free_pages(a, block, 1), FB_OK);
    free(heap);
    CHECK_ARENA(a, 256);
    CHECK_EQ(atomic_load(&calls), 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(cache_remove_of_uncached_page)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    void* page = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(page != NULL);
    /* never cached: not in the page cache, so a bad argument (FB_ERR_RECLAIMED would say "evict runs or ran") */
    CHECK_STATUS(fb_cache_remove(a, page), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    /* cached and taken back: a second remove finds it out of the cache again */
    atomic_int calls = 0;
    CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, 1), FB_OK);
    CHECK_STATUS(fb_cache_remove(a, page), FB_OK);
    CHECK_STATUS(fb_cache_remove(a, page), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(atomic_load(&calls), 0);
    CHECK_STATUS(fb_free_pages(a, page, 0), FB_OK);
    /* a free page is not a cached one either */
    CHECK_STATUS(fb_cache_remove(a, page), FB_ERR_DOUBLE_FREE);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_of_cached_page_is_busy)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    atomic_int calls = 0;
    void* page = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(page != NULL);
    CHECK_STATUS(fb_cache_add(a, page, &forbidden_ops, &calls, 1), FB_OK);
    CHECK_STATUS(fb_free_pages(a, page, 0), FB_ERR_BUSY);
    CHECK_STATUS(fb_free(a, page), FB_ERR_BUSY);
    CHECK(fb_realloc(a, page, 2 * PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_BUSY);
    CHECK(fb_realloc(a, page, 0, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_BUSY);
    CHECK_STATUS(fb_validate(a), FB_OK);
    CHECK_EQ(fbt_stats(a).inactive_dirty_pages + fbt_stats(a).active_pages, 1);
    CHECK_STATUS(fb_cache_remove(a, page), FB_OK);
    CHECK_STATUS(fb_free(a, page), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(pressure_evicts_clean_pages)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 0);
    CHECK_EQ(cache_owner_fill(&o, 100, 0, &cache_owner_ops, FB_KERNEL), 100);
    CHECK_EQ(fbt_stats(a).active_pages, 100);

    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(n > 156);                            /* more than the free pages: cached ones were reclaimed */
    CHECK(atomic_load(&o.evictions) > 0);
    CHECK_EQ(atomic_load(&o.writebacks), 0);  /* clean pages need no writeback */
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.reclaimed, atomic_load(&o.evictions));
    CHECK_STATUS(fb_validate(a), FB_OK);

    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100); /* exactly one of {evict, remove} per page */
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    cache_owner_close(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(pressure_writes_dirty_pages_back)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 1);
    CHECK_EQ(cache_owner_fill(&o, 100, 1, &cache_owner_ops, FB_KERNEL), 100);

    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300); /* FB_IO: writeback may run on this thread */
    CHECK(atomic_load(&o.writebacks) > 0);
    CHECK(atomic_load(&o.evictions) > 0);
    fb_stats s = fbt_stats(a);
    CHECK(s.laundered > 0);
    CHECK_EQ(s.reclaimed, atomic_load(&o.evictions));
    /* every evicted page was written to the file first, with the contents it had */
    for (int i = 0; i < o.count; i++) {
        if (atomic_load(&o.state[i]) == PAGE_EVICTED) {
            CHECK(atomic_load(&o.written[i]) > 0);
            CHECK(cache_owner_file_matches(&o, i));
        }
    }
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    cache_owner_close(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(writeback_still_dirty_is_never_evicted)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 1);
    atomic_store(&o.writeback_result, 0); /* "still dirty" */
    CHECK_EQ(cache_owner_fill(&o, 100, 1, &cache_owner_ops, FB_KERNEL), 100);
    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(n <= 156);
    CHECK(atomic_load(&o.writebacks) > 0);
    CHECK_EQ(atomic_load(&o.evictions), 0);
    CHECK_EQ(fbt_stats(a).laundered, 0);
    CHECK_EQ(cache_owner_release(&o), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    cache_owner_close(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(writeback_error_sends_page_back)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 0);
    atomic_store(&o.writeback_result, -5); /* an I/O error: the page goes back to the active list */
    CHECK_EQ(cache_owner_fill(&o, 100, 1, &cache_owner_ops, FB_KERNEL), 100);
    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(atomic_load(&o.writebacks) > 0);
    CHECK_EQ(atomic_load(&o.evictions), 0);
    CHECK(fbt_stats(a).active_pages > 0);
    CHECK_STATUS(fb_validate(a), FB_OK);
    /* the writes succeed now: the same pages can be laundered and reclaimed */
    atomic_store(&o.writeback_result, 1);
    for (int i = 0; i < 50 && atomic_load(&o.evictions) == 0; i++) {
        void* more = fb_alloc_pages(a, 0, FB_KERNEL);
        if (more != NULL && n < 300)
            held[n++] = more;
        else if (more != NULL)
            CHECK_STATUS(fb_free_pages(a, more, 0), FB_OK);
    }
    CHECK(atomic_load(&o.evictions) > 0);
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(null_writeback_means_always_clean)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 0);
    CHECK_EQ(cache_owner_fill(&o, 100, 1, &cache_owner_ops_no_writeback, FB_KERNEL), 100);
    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(n > 156);
    CHECK(atomic_load(&o.evictions) > 0);
    CHECK(fbt_stats(a).laundered > 0);
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(noio_callers_never_write_back)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 1);
    /* clean pages first: the oldest are aged and deactivated first, and a NoIo caller can only use clean ones */
    CHECK_EQ(cache_owner_fill(&o, 60, 0, &cache_owner_ops, FB_KERNEL), 60); /* clean */
    CHECK_EQ(cache_owner_fill(&o, 60, 1, &cache_owner_ops, FB_KERNEL), 60); /* dirty */
    static void* held[300];
    int n = allocate_until_failure(a, FB_NOIO, held, 300);
    CHECK_EQ(atomic_load(&o.writebacks), 0); /* no FB_IO: no writeback on this thread, and there is no other */
    CHECK(atomic_load(&o.evictions) > 0);    /* but clean pages may be reclaimed (FB_WAIT) */
    for (int i = 60; i < 120; i++)
        CHECK(atomic_load(&o.state[i]) == PAGE_CACHED); /* the dirty ones stayed */
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 120);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    cache_owner_close(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(atomic_callers_never_call_back)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 0);
    CHECK_EQ(cache_owner_fill(&o, 50, 1, &cache_owner_ops, FB_KERNEL), 50);
    CHECK_EQ(cache_owner_fill(&o, 50, 0, &cache_owner_ops, FB_KERNEL), 50);
    CHECK_STATUS(fb_balance(a), FB_OK); /* may launder and deactivate, on this thread */
    int writebacks = atomic_load(&o.writebacks), evictions = atomic_load(&o.evictions);
    static void* held[300];
    int n = allocate_until_failure(a, FB_ATOMIC, held, 300);
    CHECK(n <= 156);
    CHECK_EQ(atomic_load(&o.writebacks), writebacks);
    CHECK_EQ(atomic_load(&o.evictions), evictions);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(balance_reclaims_under_shortage)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner o;
    cache_owner_init(&o, a, 1);
    CHECK_EQ(cache_owner_fill(&o, 50, 1, &cache_owner_ops, FB_KERNEL), 50);
    CHECK_EQ(cache_owner_fill(&o, 50, 0, &cache_owner_ops, FB_KERNEL), 50);
    static void* held[300];
    int n = allocate_until_failure(a, FB_ATOMIC, held, 300); /* below pages_min, no callbacks */
    CHECK_EQ(atomic_load(&o.evictions), 0);
    for (int i = 0; i < 10; i++)
        CHECK_STATUS(fb_balance(a), FB_OK); /* kswapd's pass on this thread: launders and refills */
    CHECK(atomic_load(&o.writebacks) > 0);
    CHECK(atomic_load(&o.evictions) > 0);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK(z.free_pages >= z.pages_low);
    int removed = cache_owner_release(&o);
    CHECK_EQ(removed + atomic_load(&o.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    cache_owner_close(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(ops_are_copied_and_contexts_kept_apart)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static cache_owner first, second;
    cache_owner_init(&first, a, 0);
    cache_owner_init(&second, a, 0);
    fb_page_ops ops = cache_owner_ops; /* on the stack, changed after the adds */
    CHECK_EQ(cache_owner_fill(&first, 50, 0, &ops, FB_KERNEL), 50);
    CHECK_EQ(cache_owner_fill(&second, 50, 0, &ops, FB_KERNEL), 50);
    ops.evict = never_called_evict;
    ops.writeback = never_called_writeback;
    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(atomic_load(&first.evictions) + atomic_load(&second.evictions) > 0);
    /* each owner's bad_calls counts callbacks for pages it does not know */
    int removed = cache_owner_release(&first) + cache_owner_release(&second);
    CHECK_EQ(removed + atomic_load(&first.evictions) + atomic_load(&second.evictions), 100);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ---- callbacks that call back into the arena ---- */

typedef struct reentrant_owner {
    fb_arena* arena;
    atomic_int evictions;
    atomic_int nested_ok;
    atomic_int nested_bad;
} reentrant_owner;

static void reentrant_evict(void* ctx, void* page)
{
    reentrant_owner* r = (reentrant_owner*)ctx;
    atomic_fetch_add(&r->evictions, 1);
    /* an allocation inside a callback is FB_MEMALLOC whatever it asks: it neither waits nor reclaims */
    void* p = fb_alloc_pages(r->arena, 0, FB_KERNEL);
    if (p != NULL) {
        if (fb_free_pages(r->arena, p, 0) == FB_OK)
            atomic_fetch_add(&r->nested_ok, 1);
        else
            atomic_fetch_add(&r->nested_bad, 1);
    }
    fb_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (fb_get_stats(r->arena, &s) != FB_OK)
        atomic_fetch_add(&r->nested_bad, 1);
    if (fb_owns(r->arena, page) != 1)
        atomic_fetch_add(&r->nested_bad, 1);
}

static const fb_page_ops reentrant_ops = { NULL, reentrant_evict };

FB_TEST(callbacks_may_call_the_arena)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    static reentrant_owner r;
    memset(&r, 0, sizeof r);
    r.arena = a;
    static void* pages[100];
    for (int i = 0; i < 100; i++) {
        pages[i] = fb_alloc_pages(a, 0, FB_KERNEL);
        REQUIRE(pages[i] != NULL);
        CHECK_STATUS(fb_cache_add(a, pages[i], &reentrant_ops, &r, 0), FB_OK);
    }
    static void* held[300];
    int n = allocate_until_failure(a, FB_KERNEL, held, 300);
    CHECK(atomic_load(&r.evictions) > 0);
    CHECK_EQ(atomic_load(&r.nested_bad), 0);
    for (int i = 0; i < 100; i++)
        if (fb_cache_remove(a, pages[i]) == FB_OK)
            CHECK_STATUS(fb_free_pages(a, pages[i], 0), FB_OK);
    free_all(a, held, n);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(destroy_calls_no_callbacks)
{
    fb_arena* a = pressure_arena();
    REQUIRE(a != NULL);
    atomic_int calls = 0;
    for (int i = 0; i < 100; i++) {
        void* p = fb_alloc_pages(a, 0, FB_KERNEL);
        REQUIRE(p != NULL);
        CHECK_STATUS(fb_cache_add(a, p, &forbidden_ops, &calls, i & 1), FB_OK);
    }
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    CHECK_EQ(atomic_load(&calls), 0);
}
