/*
 * The header's inline path (and, in the fbtests_plain build with FB_NO_INLINE, the plain exports): the layout
 * handshake, the shared offsets, every free status through the route, racing frees of one block from two threads,
 * and a thread's exit giving its parked pages back.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "fbtest.h"
#include "helpers.h"

FB_TEST(inline_layout_offsets_match_the_library)
{
    CHECK_EQ(fb__layout_offset(FB__MAG_ARENA_KEY), offsetof(fb_magazine, arena_key));
    CHECK_EQ(fb__layout_offset(FB__MAG_IN_USE), offsetof(fb_magazine, in_use));
    CHECK_EQ(fb__layout_offset(FB__MAG_DRAIN_REQUESTED), offsetof(fb_magazine, drain_requested));
    CHECK_EQ(fb__layout_offset(FB__MAG_HEAD_TAG), offsetof(fb_magazine, head_tag));
    CHECK_EQ(fb__layout_offset(FB__MAG_BASE), offsetof(fb_magazine, base));
    CHECK_EQ(fb__layout_offset(FB__MAG_DESC), offsetof(fb_magazine, desc));
    CHECK_EQ(fb__layout_offset(FB__MAG_GATE), offsetof(fb_magazine, gate));
    CHECK_EQ(fb__layout_offset(FB__MAG_PAGES), offsetof(fb_magazine, pages));
    CHECK_EQ(fb__layout_offset(FB__MAG_PAGE_SHIFT), offsetof(fb_magazine, page_shift));
    CHECK_EQ(fb__layout_offset(FB__MAG_LAST_ERROR), offsetof(fb_magazine, last_error));
    CHECK_EQ(fb__layout_offset(FB__MAG_EXITED), offsetof(fb_magazine, exited));
    CHECK_EQ(fb__layout_offset(FB__MAG_ORDERS), offsetof(fb_magazine, orders));
    CHECK_EQ(fb__layout_offset(FB__MAG_FREED), offsetof(fb_magazine, freed));
    CHECK_EQ(fb__layout_offset(FB__MAG_LISTS), sizeof(fb_magazine) + FB__OBJECT_BYTES);
    CHECK_EQ(fb__layout_offset(FB__MAG_SLABS), offsetof(fb_magazine, slabs));
    CHECK_EQ(fb__layout_offset(FB__MAG_CURRENT), sizeof(fb_magazine));
    CHECK_EQ(fb__layout_offset(FB__MAG_OWNED), sizeof(fb_magazine) + FB__CLASSES * sizeof(fb__slab*));
    CHECK_EQ(fb__layout_offset(FB__SLAB_BASE), offsetof(fb__slab, base));
    CHECK_EQ(fb__layout_offset(FB__SLAB_SIZE), offsetof(fb__slab, size));
    CHECK_EQ(fb__layout_offset(FB__SLAB_OBJECTS), offsetof(fb__slab, objects));
    CHECK_EQ(fb__layout_offset(FB__SLAB_INVERSE), offsetof(fb__slab, inverse));
    CHECK_EQ(fb__layout_offset(FB__SLAB_OWNER), offsetof(fb__slab, owner));
    CHECK_EQ(fb__layout_offset(FB__SLAB_USED), offsetof(fb__slab, used));
    CHECK_EQ(fb__layout_offset(FB__SLAB_CURSOR), offsetof(fb__slab, cursor));
    CHECK_EQ(fb__layout_offset(FB__SLAB_REMOTE_PENDING), offsetof(fb__slab, remote_pending));
    CHECK_EQ(fb__layout_offset(FB__SLAB_CLASS), offsetof(fb__slab, cls));
    CHECK_EQ(fb__layout_offset(FB__SLAB_FREE), offsetof(fb__slab, free));
    CHECK_EQ(fb__layout_offset(FB__SLAB_REMOTE), offsetof(fb__slab, remote));
    CHECK_EQ(fb__layout_offset(FB__TAG_SLAB), (long long)FB__SLAB_BIT);
    CHECK_EQ(fb__layout_offset(FB__SLAB_TWOS), offsetof(fb__slab, twos));
    CHECK_EQ(fb__layout_offset(FB__CLASSES_FIELD), FB__CLASSES);
    CHECK_EQ(fb__layout_offset(FB__SMALL_MAX_FIELD), FB__SMALL_MAX);
    CHECK_EQ(fb__layout_offset(FB__MAG_RECENT), offsetof(fb_magazine, recent));
    CHECK_EQ(fb__layout_offset(FB__MAG_REUSE), sizeof(fb_magazine) + FB__CLASSES * (sizeof(fb__slab*) + sizeof(int32_t)));
    CHECK_EQ(fb__layout_offset(FB__REUSE_DEPTH_FIELD), FB__REUSE_DEPTH);
    CHECK_EQ(fb__layout_offset(FB__LIST_COUNT), offsetof(fb_magazine_list, count));
    CHECK_EQ(fb__layout_offset(FB__LIST_CAP), offsetof(fb_magazine_list, cap));
    CHECK_EQ(fb__layout_offset(FB__LIST_OFFSET), offsetof(fb_magazine_list, offset));
    CHECK_EQ(fb__layout_offset(FB__DESC_NEXT), offsetof(fb_page_desc, next));
    CHECK_EQ(fb__layout_offset(FB__DESC_PREV), offsetof(fb_page_desc, prev));
    CHECK_EQ(fb__layout_offset(FB__DESC_TAG), offsetof(fb_page_desc, tag));
    CHECK_EQ(fb__layout_offset(FB__TAG_ORDER_SHIFT), FB__TAG_ORDER_BITS);
    CHECK_EQ(fb__layout_offset(FB__TAG_PARKED), (long long)FB__PARKED_BIT);
    CHECK_EQ(fb__layout_offset(FB__LAYOUT_FIELDS), -1);
}

FB_TEST(inline_create_refuses_a_header_of_another_layout)
{
    fb_options o;
    fbt_default_options(&o, 4 * MIB);
    fb_arena* a = (fb_arena*)1;
    CHECK_STATUS(fb__arena_create_layout(&o, &a, FB_LAYOUT_VERSION + 1, sizeof(fb_magazine), sizeof(fb_page_desc),
                                         sizeof(fb_magazine_list), sizeof(fb__slab)), FB_ERR_INVALID_ARGUMENT);
    CHECK(a == NULL);
    CHECK(strstr(fb_last_error_message(), "layout version") != NULL);
    CHECK_STATUS(fb__arena_create_layout(&o, &a, FB_LAYOUT_VERSION, sizeof(fb_magazine) + 8, sizeof(fb_page_desc),
                                         sizeof(fb_magazine_list), sizeof(fb__slab)), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb__arena_create_layout(&o, &a, FB_LAYOUT_VERSION, sizeof(fb_magazine), 24, sizeof(fb_magazine_list),
                                         sizeof(fb__slab)), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb__arena_create_layout(&o, &a, FB_LAYOUT_VERSION, sizeof(fb_magazine), sizeof(fb_page_desc),
                                         sizeof(fb_magazine_list), sizeof(fb__slab) + 64), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_arena_create(&o, &a), FB_OK); /* this header's own layout */
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(inline_pairs_park_and_reuse_without_touching_free_pages)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    void* first = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(first != NULL);
    CHECK_STATUS(fb_free_pages(a, first, 0), FB_OK);
    int64_t free_before = fbt_stats(a).free_pages;
    for (int i = 0; i < 1000; i++) {
        void* p = fb_alloc_pages(a, 0, FB_KERNEL);
        REQUIRE(p != NULL);
        CHECK(p == first); /* the most recently parked block comes back */
        CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    }
    CHECK_EQ(fbt_stats(a).free_pages, free_before);
    CHECK_EQ(fb_last_error(), FB_OK);
    CHECK_ARENA(a, fbt_stats(a).total_pages);
    fb_arena_destroy(a);
}

FB_TEST(inline_every_bad_free_gets_its_status_and_changes_nothing)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc_pages(a, 2, FB_KERNEL);
    void* q = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL && q != NULL);
    fb_stats before = fbt_stats(a);
    static char foreign[4096];
    CHECK_STATUS(fb_free_pages(a, foreign, 0), FB_ERR_NOT_OWNED);
    CHECK_STATUS(fb_free_pages(a, p + 4096, 0), FB_ERR_NOT_A_BLOCK);  /* interior page */
    CHECK_STATUS(fb_free_pages(a, p + 8, 2), FB_ERR_NOT_A_BLOCK);     /* misaligned */
    CHECK_STATUS(fb_free_pages(a, p, 1), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_free_pages(a, p, 40), FB_ERR_INVALID_ARGUMENT);
    fb_stats after = fbt_stats(a);
    CHECK_EQ(after.free_pages, before.free_pages);
    CHECK_EQ(after.per_cpu_pages, before.per_cpu_pages);
    CHECK_STATUS(fb_free_pages(a, q, 0), FB_OK);
    CHECK_STATUS(fb_free_pages(a, q, 0), FB_ERR_DOUBLE_FREE);          /* parked: a double free */
    CHECK_STATUS(fb_free_pages(a, p, 2), FB_OK);
    CHECK_STATUS(fb_free_pages(a, p, 2), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free_pages(a, NULL, 0), FB_ERR_NOT_OWNED);
    CHECK_ARENA(a, fbt_stats(a).total_pages);
    fb_arena_destroy(a);
}

struct race {
    fb_arena* arena;
    void* volatile block;
    volatile int round;
    volatile int ready;
    int ok, doubles, others, done;
};

static void race_free(struct race* r, int t)
{
    (void)t;
    int status = fb_free_pages(r->arena, r->block, 0);
    int* counter = status == FB_OK ? &r->ok : status == FB_ERR_DOUBLE_FREE ? &r->doubles : &r->others;
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->done, 1, __ATOMIC_RELEASE);
}

static void* race_other(void* arg)
{
    struct race* r = (struct race*)arg;
    /* Give this thread a magazine of its own, so that both frees can take their fast path. */
    void* mine = fb_alloc_pages(r->arena, 0, FB_KERNEL);
    fb_free_pages(r->arena, mine, 0);
    for (int round = 1; round <= fbt_scale(20000); round++) {
        __atomic_store_n(&r->ready, round, __ATOMIC_RELEASE);
        while (__atomic_load_n(&r->round, __ATOMIC_ACQUIRE) != round)
            sched_yield(); /* lets valgrind, which runs one thread at a time, switch here */
        race_free(r, 1);
    }
    return NULL;
}

FB_TEST(inline_two_threads_racing_to_free_one_block_exactly_one_wins)
{
    struct race r;
    memset(&r, 0, sizeof r);
    r.arena = fbt_arena(16 * MIB);
    REQUIRE(r.arena != NULL);
    pthread_t other;
    REQUIRE(pthread_create(&other, NULL, race_other, &r) == 0);
    int rounds = fbt_scale(20000);
    for (int round = 1; round <= rounds; round++) {
        r.block = fb_alloc_pages(r.arena, 0, FB_KERNEL);
        while (__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE) != round)
            sched_yield();
        __atomic_store_n(&r.round, round, __ATOMIC_RELEASE);
        race_free(&r, 0);
        /* wait for the other thread's free of this round */
        while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) < 2 * round)
            sched_yield();
    }
    pthread_join(other, NULL);
    CHECK_EQ(r.ok, rounds);
    CHECK_EQ(r.doubles, rounds);
    CHECK_EQ(r.others, 0);
    CHECK_ARENA(r.arena, fbt_stats(r.arena).total_pages);
    fb_arena_destroy(r.arena);
}

static void* park_and_exit(void* arg)
{
    fb_arena* a = (fb_arena*)arg;
    void* pages[8];
    for (int i = 0; i < 8; i++)
        pages[i] = fb_alloc_pages(a, 0, FB_KERNEL);
    for (int i = 0; i < 8; i++)
        fb_free_pages(a, pages[i], 0);
    return NULL;
}

FB_TEST(inline_a_thread_that_exits_gives_its_parked_pages_back)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, park_and_exit, a) == 0);
    pthread_join(t, NULL);
    CHECK(fbt_stats(a).per_cpu_pages >= 8);
    /* the exited thread's magazine is flagged; the next sweep (fb_balance runs kswapd's pass) empties it */
    for (int i = 0; i < 200 && fbt_stats(a).per_cpu_pages != 0; i++) {
        CHECK_STATUS(fb_balance(a), FB_OK);
        if (fbt_stats(a).per_cpu_pages != 0) {
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    CHECK_EQ(fbt_stats(a).per_cpu_pages, 0);
    CHECK_ARENA(a, fbt_stats(a).total_pages);
    fb_arena_destroy(a);
}
