/* Several pthreads on one arena at once, with data checks; per-thread fb_last_error; cache races. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "cache_owner.h"
#include "fbtest.h"
#include "helpers.h"

#define PAGE 4096u
#define THREADS 4

typedef struct worker {
    fb_arena* arena;
    int id;
    int iterations;
    uint32_t flags;
    int failures_seen;
} worker;

/* Each thread keeps up to 32 blocks of random orders, writes its pattern, checks it before freeing. */
static void* churn(void* arg)
{
    worker* w = (worker*)arg;
    void* held[32] = { 0 };
    uint32_t order[32] = { 0 };
    uint32_t seed[32] = { 0 };
    uint32_t x = 0x9E3779B9u * (uint32_t)(w->id + 1);
    for (int it = 0; it < w->iterations; it++) {
        x = x * 1664525u + 1013904223u;
        int slot = (int)((x >> 8) & 31);
        if (held[slot] != NULL) {
            if (!fbt_check_fill(held[slot], PAGE << order[slot], seed[slot]))
                fbt_fail(__FILE__, __LINE__, "another thread wrote into this thread's block");
            if (fb_free_pages(w->arena, held[slot], order[slot]) != FB_OK)
                fbt_fail(__FILE__, __LINE__, "fb_free_pages failed");
            held[slot] = NULL;
            continue;
        }
        order[slot] = (x >> 16) % 4;
        held[slot] = fb_alloc_pages(w->arena, order[slot], w->flags);
        if (held[slot] == NULL) {
            if (fb_last_error() != FB_ERR_NO_MEMORY)
                fbt_fail(__FILE__, __LINE__, "allocation failed with a status other than FB_ERR_NO_MEMORY");
            w->failures_seen++;
            continue;
        }
        seed[slot] = x;
        fbt_fill(held[slot], PAGE << order[slot], seed[slot]);
    }
    for (int slot = 0; slot < 32; slot++) {
        if (held[slot] == NULL)
            continue;
        if (!fbt_check_fill(held[slot], PAGE << order[slot], seed[slot]))
            fbt_fail(__FILE__, __LINE__, "block corrupted");
        if (fb_free_pages(w->arena, held[slot], order[slot]) != FB_OK)
            fbt_fail(__FILE__, __LINE__, "fb_free_pages failed at the end");
    }
    return NULL;
}

static void run_churn(fb_arena* a, uint32_t flags, int iterations)
{
    pthread_t threads[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ a, i, iterations, flags, 0 };
        CHECK_EQ(pthread_create(&threads[i], NULL, churn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_join(threads[i], NULL), 0);
}

FB_TEST(threads_churn_plenty_of_memory)
{
    fb_arena* a = fbt_arena(64 * MIB);
    REQUIRE(a != NULL);
    run_churn(a, FB_KERNEL, fbt_scale(20000));
    CHECK_ARENA(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(threads_churn_under_pressure)
{
    /* 4 threads x up to 32 blocks of up to 8 pages need more than 256 pages: allocations fail and recover */
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    run_churn(a, FB_ATOMIC, fbt_scale(20000));
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(threads_churn_with_background_reclaim)
{
    fb_options o;
    fbt_default_options(&o, 2 * MIB);
    o.background_reclaim = 1;
    o.alloc_wait_ms = 5;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    run_churn(a, FB_KERNEL, fbt_scale(5000));
    CHECK_ARENA(a, 512);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ---- fb_last_error is per thread ---- */

static pthread_barrier_t g_barrier;
static fb_arena* g_shared;
static int g_thread_status[2];

static void* fail_then_report(void* arg)
{
    int id = (int)(intptr_t)arg;
    if (id == 0)
        fb_free_pages(g_shared, (void*)&id, 0); /* NOT_OWNED on this thread */
    else
        fb_alloc_pages(g_shared, 99, FB_KERNEL); /* INVALID_ARGUMENT on this one */
    pthread_barrier_wait(&g_barrier);
    g_thread_status[id] = fb_last_error();
    return NULL;
}

FB_TEST(last_error_is_per_thread)
{
    g_shared = fbt_arena(256 * KIB);
    REQUIRE(g_shared != NULL);
    void* p = fb_alloc_pages(g_shared, 0, FB_KERNEL); /* this thread: FB_OK */
    REQUIRE(p != NULL);
    pthread_barrier_init(&g_barrier, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, fail_then_report, (void*)(intptr_t)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&g_barrier);
    CHECK_EQ(g_thread_status[0], FB_ERR_NOT_OWNED);
    CHECK_EQ(g_thread_status[1], FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_last_error(), FB_OK);
    CHECK_STATUS(fb_free_pages(g_shared, p, 0), FB_OK);
    CHECK_STATUS(fb_arena_destroy(g_shared), FB_OK);
}

/* ---- many arenas created and destroyed from many threads ---- */

static void* arena_lifecycle(void* arg)
{
    (void)arg;
    for (int i = 0, n = fbt_scale(50); i < n; i++) {
        fb_options o;
        fb_options_init(&o);
        o.arena_bytes = 256 * KIB;
        o.background_reclaim = i & 1;
        fb_arena* a = NULL;
        if (fb_arena_create(&o, &a) != FB_OK) {
            fbt_fail(__FILE__, __LINE__, "fb_arena_create failed");
            continue;
        }
        void* p = fb_alloc_pages(a, 2, FB_KERNEL);
        if (p == NULL || fb_free_pages(a, p, 2) != FB_OK)
            fbt_fail(__FILE__, __LINE__, "alloc/free on a fresh arena failed");
        if (fb_arena_destroy(a) != FB_OK)
            fbt_fail(__FILE__, __LINE__, "fb_arena_destroy failed");
        if (fb_validate(a) != FB_ERR_INVALID_ARGUMENT)
            fbt_fail(__FILE__, __LINE__, "a destroyed handle was accepted");
    }
    return NULL;
}

FB_TEST(threads_create_and_destroy_arenas)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, arena_lifecycle, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

/* ---- the page cache under concurrent pressure: exactly one of {evict, remove} per page ---- */

static cache_owner g_owner;
static atomic_int g_stop;

static void* allocator_thread(void* arg)
{
    fb_arena* a = (fb_arena*)arg;
    void* held[64];
    int n = 0;
    for (int round = 0; round < 40 && !atomic_load(&g_stop); round++) {
        while (n < 64 && (held[n] = fb_alloc_pages(a, 0, FB_KERNEL)) != NULL) {
            memset(held[n], 0x42, PAGE);
            n++;
        }
        while (n > 0)
            if (fb_free_pages(a, held[--n], 0) != FB_OK)
                fbt_fail(__FILE__, __LINE__, "free failed");
    }
    return NULL;
}

FB_TEST(threads_cache_remove_races_with_reclaim)
{
    fb_zone_options zone = { "Normal", 1 * MIB, 8 };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = &zone;
    o.zone_count = 1;
    o.background_reclaim = 1; /* the reclaimer thread evicts too */
    o.alloc_wait_ms = 5;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    cache_owner_init(&g_owner, a, 0);
    CHECK_EQ(cache_owner_fill(&g_owner, 150, 0, &cache_owner_ops, FB_KERNEL), 150);
    atomic_store(&g_stop, 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, allocator_thread, a), 0);
    /* meanwhile this thread takes pages back out of the cache, racing the reclaimers */
    int removed = 0;
    for (int i = g_owner.count - 1; i >= 0; i -= 2) {
        if (atomic_load(&g_owner.state[i]) != PAGE_CACHED)
            continue;
        int status = fb_cache_remove(a, g_owner.pages[i]);
        if (status == FB_OK) {
            int expected = PAGE_CACHED;
            CHECK(atomic_compare_exchange_strong(&g_owner.state[i], &expected, PAGE_REMOVED));
            CHECK(fbt_check_fill(g_owner.pages[i], PAGE, (uint32_t)i));
            CHECK_STATUS(fb_free_pages(a, g_owner.pages[i], 0), FB_OK);
            removed++;
        } else {
            CHECK_STATUS(status, FB_ERR_RECLAIMED);
        }
    }
    atomic_store(&g_stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    removed += cache_owner_release(&g_owner);
    /* the reclaimer may still be inside an evict that won its race: wait for the count to settle */
    int64_t deadline = fbt_now_ms() + 2000;
    while (removed + atomic_load(&g_owner.evictions) < 150 && fbt_now_ms() < deadline)
        ;
    CHECK_EQ(removed + atomic_load(&g_owner.evictions), 150);
    CHECK_EQ(atomic_load(&g_owner.bad_calls), 0);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ---- destroy while another thread waits for memory: the waiter fails cleanly ---- */

static void* waiter(void* arg)
{
    fb_arena* a = (fb_arena*)arg;
    void* p = fb_alloc_pages(a, 0, FB_KERNEL); /* blocks: no memory, infinite wait, woken by destroy */
    int status = fb_last_error();
    if (p != NULL || (status != FB_ERR_NO_MEMORY && status != FB_ERR_INVALID_ARGUMENT))
        fbt_fail(__FILE__, __LINE__, "a waiting allocation did not fail cleanly at destroy");
    return NULL;
}

FB_TEST(destroy_wakes_waiting_allocations)
{
    fb_options o;
    fbt_default_options(&o, 256 * KIB);
    o.alloc_wait_ms = FB_WAIT_INFINITE;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    void* held[64];
    int n = 0;
    while (n < 64 && (held[n] = fb_alloc_pages(a, 0, FB_MEMALLOC)) != NULL)
        n++;
    CHECK_EQ(n, 64);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, waiter, a), 0);
    struct timespec pause = { 0, 100 * 1000 * 1000 };
    nanosleep(&pause, NULL); /* let it start waiting */
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    pthread_join(t, NULL);
}

/* ---- pages parked in the per-CPU lists of threads that have exited are not lost ---- */

static void* park_and_exit(void* arg)
{
    fb_arena* a = (fb_arena*)arg;
    void* p[32];
    for (int order = 0; order < 3; order++) {
        for (int i = 0; i < 32; i++)
            p[i] = fb_alloc_pages(a, (uint32_t)order, FB_KERNEL);
        for (int i = 0; i < 32; i++)
            if (p[i] != NULL)
                fb_free_pages(a, p[i], (uint32_t)order); /* parked in this thread's lists */
    }
    return NULL;
}

FB_TEST(pages_parked_by_exited_threads_are_not_lost)
{
    fb_arena* a = fbt_arena(4 * MIB); /* 1024 pages: per-CPU lists may hold up to 1/64 of a zone each */
    REQUIRE(a != NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, park_and_exit, a), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_ARENA(a, 1024);
    /* this thread can still get (almost) every page: the parked ones come back when the slow path drains */
    static void* held[1024];
    int n = 0;
    while (n < 1024 && (held[n] = fb_alloc_pages(a, 0, FB_MEMALLOC)) != NULL)
        n++;
    CHECK_EQ(n, 1024);
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, held[i], 0), FB_OK);
    CHECK_ARENA(a, 1024);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
