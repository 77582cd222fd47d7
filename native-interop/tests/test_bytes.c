/* The byte API: fb_alloc, fb_realloc, fb_usable_size, fb_free, FB_ZERO and the edges of docs/design.md ("Bad input and the edges"). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

#define PAGE 4096u

static int all_bytes(const void* p, size_t n, unsigned char value)
{
    const unsigned char* b = (const unsigned char*)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != value)
            return 0;
    return 1;
}

FB_TEST(alloc_rounds_up_to_power_of_two_pages)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    /* above fb_small_max (8 pages at the defaults) a request is a power-of-two block of pages */
    REQUIRE(fb_small_max(a) == 8 * PAGE);
    struct { size_t bytes, usable; } cases[] = {
        { 8 * PAGE + 1, 16 * PAGE }, { 9 * PAGE, 16 * PAGE }, { 16 * PAGE, 16 * PAGE }, { 16 * PAGE + 1, 32 * PAGE },
        { 21 * PAGE - 7, 32 * PAGE }, { 100000, 32 * PAGE }, { 200 * PAGE, 256 * PAGE }, { 1024 * PAGE, 1024 * PAGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void* p = fb_alloc(a, cases[i].bytes, FB_KERNEL);
        REQUIRE(p != NULL);
        CHECK_EQ(fb_last_error(), FB_OK);
        CHECK_EQ(fb_usable_size(a, p), cases[i].usable);
        CHECK(((uintptr_t)p & (PAGE - 1)) == 0);
        memset(p, 0x5A, cases[i].usable);
        CHECK_STATUS(fb_free(a, p), FB_OK);
    }
    CHECK_ARENA(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(alloc_zero_and_absurd_sizes)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    size_t bad[] = { 0, 1024 * PAGE + 1, (size_t)1 << 40, SIZE_MAX, SIZE_MAX - PAGE };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(fb_alloc(a, bad[i], FB_KERNEL) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    }
    /* valid size, but larger than this 256-page zone */
    CHECK(fb_alloc(a, 512 * PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_null_and_usable_size_null)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    CHECK_STATUS(fb_free(a, NULL), FB_OK);
    CHECK_EQ(fb_usable_size(a, NULL), 0);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_knows_the_order)
{
    fb_arena* a = fbt_arena(4 * MIB);
    REQUIRE(a != NULL);
    for (uint32_t k = 0; k < 9; k++) {
        void* p = fb_alloc_pages(a, k, FB_KERNEL);
        REQUIRE(p != NULL);
        CHECK_EQ(fb_usable_size(a, p), (size_t)PAGE << k);
        CHECK_STATUS(fb_free(a, p), FB_OK); /* pages from fb_alloc_pages may go back through fb_free */
    }
    void* q = fb_alloc(a, 12 * PAGE, FB_KERNEL); /* above fb_small_max: a block of 16 pages */
    REQUIRE(q != NULL);
    CHECK_STATUS(fb_free_pages(a, q, 4), FB_OK); /* and the other way round, with the right order */
    CHECK_ARENA(a, 1024);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_null_allocates)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_realloc(a, NULL, 5000, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_EQ(fb_usable_size(a, p), 5120); /* an object of the 5120-byte class, as fb_alloc(5000) */
    void* big = fb_realloc(a, NULL, 9 * PAGE, FB_KERNEL);
    REQUIRE(big != NULL);
    CHECK_EQ(fb_usable_size(a, big), 16 * PAGE); /* a block, as fb_alloc(9 pages) */
    CHECK(fb_realloc(a, NULL, 0, FB_KERNEL) == NULL); /* nothing to do */
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_STATUS(fb_free(a, big), FB_OK);
    CHECK_TRIMMED(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_zero_frees)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc(a, 9 * PAGE, FB_KERNEL); /* a block of 16 pages */
    REQUIRE(p != NULL);
    CHECK_ARENA(a, 240);
    CHECK(fb_realloc(a, p, 0, FB_KERNEL) == NULL);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_rejects_unknown_flags_even_in_place)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc(a, 32 * PAGE, FB_KERNEL);
    REQUIRE(p != NULL);
    memset(p, 0x5A, 32 * PAGE);
    /* shrinking, keeping the size and freeing need no allocation: the flags are still checked first */
    size_t sizes[] = { 16 * PAGE, 32 * PAGE, 0 };
    for (int i = 0; i < 3; i++) {
        CHECK(fb_realloc(a, p, sizes[i], 0x1000u) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        CHECK_EQ(fb_usable_size(a, p), 32 * PAGE);
    }
    for (size_t i = 0; i < 32 * PAGE; i++)
        if (p[i] != 0x5A) { CHECK(p[i] == 0x5A); break; }
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_grows_and_keeps_contents)
{
    fb_arena* a = fbt_arena(4 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc(a, 100, FB_KERNEL);
    REQUIRE(p != NULL);
    size_t kept = 100;
    fbt_fill(p, kept, 7);
    /* objects of growing classes, then blocks of pages */
    size_t sizes[] = { PAGE + 1, 5 * PAGE, 40 * PAGE, 200 * PAGE };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void* q = fb_realloc(a, p, sizes[i], FB_KERNEL);
        REQUIRE(q != NULL);
        CHECK(fb_usable_size(a, q) >= sizes[i]);
        CHECK(fbt_check_fill(q, kept, 7) || !"contents lost");
        kept = sizes[i];
        fbt_fill(q, kept, 7);
        p = q;
    }
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_TRIMMED(a, 1024);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_moves_when_buddy_busy)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    /* blocks above fb_small_max: 16 pages growing to 64 */
    void* p = fb_alloc_pages(a, 4, FB_KERNEL);
    void* neighbours[8];
    for (int i = 0; i < 8; i++)
        neighbours[i] = fb_alloc_pages(a, 4, FB_KERNEL); /* p's buddies are busy now */
    REQUIRE(p != NULL);
    fbt_fill(p, 16 * PAGE, 99);
    void* q = fb_realloc(a, p, 64 * PAGE, FB_KERNEL);
    REQUIRE(q != NULL);
    CHECK(fbt_check_fill(q, 16 * PAGE, 99));
    CHECK_EQ(fb_usable_size(a, q), 64 * PAGE);
    if (q != p)
        CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE); /* the old block went back */
    CHECK_STATUS(fb_free(a, q), FB_OK);
    for (int i = 0; i < 8; i++)
        CHECK_STATUS(fb_free(a, neighbours[i]), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_shrinks_in_place)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    /* blocks above fb_small_max: 64 pages shrinking to 16 */
    void* p = fb_alloc(a, 64 * PAGE, FB_KERNEL);
    REQUIRE(p != NULL);
    fbt_fill(p, 64 * PAGE, 3);
    void* q = fb_realloc(a, p, 16 * PAGE, FB_KERNEL);
    CHECK(q == p);
    CHECK_EQ(fb_usable_size(a, q), 16 * PAGE);
    CHECK(fbt_check_fill(q, 16 * PAGE, 3));
    CHECK_ARENA(a, 240); /* the tail went back to the free areas */
    CHECK_STATUS(fb_free(a, q), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_failure_keeps_old_block)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc(a, 16 * PAGE, FB_KERNEL);  /* a block */
    void* obj = fb_alloc(a, 100, FB_KERNEL);     /* and an object */
    void* hog = fb_alloc_pages(a, 7, FB_KERNEL); /* half the zone: the whole zone cannot be had now */
    REQUIRE(p != NULL && obj != NULL && hog != NULL);
    fbt_fill(p, 16 * PAGE, 11);
    fbt_fill(obj, 100, 12);
    CHECK(fb_realloc(a, p, 256 * PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK(fbt_check_fill(p, 16 * PAGE, 11));
    CHECK_EQ(fb_usable_size(a, p), 16 * PAGE);
    CHECK(fb_realloc(a, obj, 256 * PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK(fbt_check_fill(obj, 100, 12));
    CHECK_EQ(fb_usable_size(a, obj), 104);
    CHECK(fb_realloc(a, p, SIZE_MAX, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_realloc(a, obj, SIZE_MAX, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fbt_check_fill(obj, 100, 12));
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_STATUS(fb_free(a, obj), FB_OK);
    CHECK_STATUS(fb_free_pages(a, hog, 7), FB_OK);
    CHECK_TRIMMED(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_bad_pointers)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc(a, 16 * PAGE, FB_KERNEL); /* a block (objects: test_objects.c) */
    REQUIRE(p != NULL);
    int local;
    CHECK(fb_realloc(a, &local, PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_OWNED);
    CHECK(fb_realloc(a, p + PAGE, PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
    CHECK(fb_realloc(a, p + 3, PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK(fb_realloc(a, p, PAGE, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zero_flag_alloc)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    for (int round = 0; round < 4; round++) {
        void* dirty = fb_alloc(a, 10 * PAGE, FB_KERNEL);
        REQUIRE(dirty != NULL);
        memset(dirty, 0xC3, 16 * PAGE);
        CHECK_STATUS(fb_free(a, dirty), FB_OK);
        void* z = fb_alloc(a, 10 * PAGE, FB_KERNEL | FB_ZERO);
        REQUIRE(z != NULL);
        CHECK(all_bytes(z, 16 * PAGE, 0)); /* the whole usable size, not only the request */
        CHECK_STATUS(fb_free(a, z), FB_OK);
    }
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zero_flag_realloc_zeroes_the_growth)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    /* dirty every block of 16 pages the zone gives first */
    void* dirty[16];
    int n = 0;
    while (n < 16 && (dirty[n] = fb_alloc_pages(a, 4, FB_ATOMIC)) != NULL)
        memset(dirty[n++], 0x77, 16 * PAGE);
    CHECK(n >= 12);
    while (n > 0)
        CHECK_STATUS(fb_free_pages(a, dirty[--n], 4), FB_OK);

    /* blocks above fb_small_max: 16 pages growing to 64 */
    unsigned char* p = (unsigned char*)fb_alloc(a, 16 * PAGE, FB_KERNEL | FB_ZERO);
    REQUIRE(p != NULL);
    memset(p, 0x11, 16 * PAGE);
    unsigned char* q = (unsigned char*)fb_realloc(a, p, 64 * PAGE, FB_KERNEL | FB_ZERO);
    REQUIRE(q != NULL);
    CHECK(all_bytes(q, 16 * PAGE, 0x11));
    CHECK(all_bytes(q + 16 * PAGE, 48 * PAGE, 0));
    CHECK_STATUS(fb_free(a, q), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(byte_api_mixed_workload)
{
    fb_arena* a = fbt_arena(8 * MIB);
    REQUIRE(a != NULL);
    enum { N = 64 };
    void* p[N] = { 0 };
    size_t len[N] = { 0 };
    uint32_t x = 12345;
    for (int step = 0; step < 2000; step++) {
        x = x * 1664525u + 1013904223u;
        int i = (int)((x >> 8) % N);
        size_t want = 1 + (x >> 12) % (20 * PAGE);
        if (p[i] != NULL)
            CHECK(fbt_check_fill(p[i], len[i] < want ? len[i] : want, (uint32_t)i));
        void* q = fb_realloc(a, p[i], want, FB_ATOMIC);
        if (q == NULL) {
            CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
            continue;
        }
        p[i] = q;
        len[i] = want;
        fbt_fill(q, want, (uint32_t)i);
    }
    for (int i = 0; i < N; i++) {
        if (p[i] != NULL) {
            CHECK(fbt_check_fill(p[i], len[i], (uint32_t)i));
            CHECK_STATUS(fb_free(a, p[i]), FB_OK);
        }
    }
    CHECK_TRIMMED(a, 2048);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* Above the largest block (4 MiB at 11 orders): a run of contiguous largest blocks in one zone, up to the zone. */

FB_TEST(alloc_above_the_largest_block_is_a_run_of_largest_blocks)
{
    fb_arena* a = fbt_arena(64 * MIB); /* 16 largest blocks */
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc(a, 8 * MIB, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_EQ(fb_last_error(), FB_OK);
    CHECK_EQ(fb_usable_size(a, p), 8 * MIB);
    CHECK(((uintptr_t)p & (4 * MIB - 1)) == 0);
    fbt_fill(p, 8 * MIB, 21);
    CHECK_ARENA(a, 16384 - 2048);
    char* q = (char*)fb_alloc(a, 4 * MIB + 1, FB_KERNEL); /* one byte over: two blocks */
    REQUIRE(q != NULL);
    CHECK_EQ(fb_usable_size(a, q), 8 * MIB);
    CHECK_STATUS(fb_free(a, q), FB_OK);
    CHECK(fbt_check_fill(p, 8 * MIB, 21));
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_ARENA(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(realloc_into_a_run_across_runs_and_back_keeps_the_data)
{
    fb_arena* a = fbt_arena(64 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc(a, 3 * MIB, FB_KERNEL);
    REQUIRE(p != NULL);
    fbt_fill(p, 3 * MIB, 22);
    p = (char*)fb_realloc(a, p, 8 * MIB, FB_KERNEL); /* the sorter's realloc that used to fail */
    REQUIRE(p != NULL);
    CHECK_EQ(fb_usable_size(a, p), 8 * MIB);
    CHECK(fbt_check_fill(p, 3 * MIB, 22));
    fbt_fill(p, 8 * MIB, 23);
    p = (char*)fb_realloc(a, p, 20 * MIB, FB_KERNEL); /* a longer run: in place if the blocks after it are free, else moved */
    REQUIRE(p != NULL);
    CHECK_EQ(fb_usable_size(a, p), 20 * MIB);
    CHECK(fbt_check_fill(p, 8 * MIB, 23));
    char* same = (char*)fb_realloc(a, p, 9 * MIB, FB_KERNEL); /* still a run: shrinks in place */
    CHECK(same == p);
    CHECK_EQ(fb_usable_size(a, p), 12 * MIB);
    CHECK_ARENA(a, 16384 - 3072);
    p = (char*)fb_realloc(a, p, 64 * KIB, FB_KERNEL); /* out of the run, into a block of 16 pages */
    REQUIRE(p != NULL);
    CHECK_EQ(fb_usable_size(a, p), 64 * KIB);
    CHECK(fbt_check_fill(p, 64 * KIB, 23));
    CHECK_ARENA(a, 16384 - 16);
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_ARENA(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(run_sizes_and_their_errors)
{
    fb_arena* a = fbt_arena(64 * MIB);
    REQUIRE(a != NULL);
    /* more than the zone: no zone could ever hold it */
    CHECK(fb_alloc(a, 64 * MIB + 1, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    /* the whole zone is a valid size, but a normal caller must leave the reserve (pages_min / 4) */
    CHECK(fb_alloc(a, 64 * MIB, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK_ARENA(a, 16384);
    void* all = fb_alloc(a, 64 * MIB, FB_MEMALLOC);
    REQUIRE(all != NULL);
    CHECK_ARENA(a, 0);
    memset(all, 0xA5, 64 * MIB);
    CHECK_STATUS(fb_free(a, all), FB_OK);
    void* zeroed = fb_alloc(a, 16 * MIB, FB_KERNEL | FB_ZERO); /* recycled memory, zeroed whole */
    REQUIRE(zeroed != NULL);
    CHECK(all_bytes(zeroed, 16 * MIB, 0));
    CHECK_STATUS(fb_free(a, zeroed), FB_OK);
    CHECK_ARENA(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(bad_frees_of_a_run)
{
    fb_arena* a = fbt_arena(64 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc(a, 12 * MIB, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_STATUS(fb_free(a, p + 4 * MIB), FB_ERR_NOT_A_BLOCK);        /* a later block of the run */
    CHECK_STATUS(fb_free(a, p + PAGE), FB_ERR_NOT_A_BLOCK);           /* inside the first block */
    CHECK_STATUS(fb_free_pages(a, p, 10), FB_ERR_ORDER_MISMATCH);     /* the inline path misses: a run is not one block */
    CHECK_STATUS(fb_free_pages(a, p + 8 * MIB, 10), FB_ERR_NOT_A_BLOCK);
    CHECK_EQ(fb_usable_size(a, p + 4 * MIB), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
    CHECK_EQ(fb_usable_size(a, p), 12 * MIB);
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE);
    CHECK_ARENA(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
