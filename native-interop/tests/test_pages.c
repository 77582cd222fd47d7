/* Pages: allocation of every order, alignment, zonelists, exhaustion, and every bad free of docs/design.md ("Bad input and the edges"). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

#define PAGE 4096u

FB_TEST(alloc_every_order_aligned)
{
    fb_arena* a = fbt_arena(16 * MIB); /* 4096 pages, 4 blocks of order 10 */
    REQUIRE(a != NULL);
    void* blocks[11];
    for (uint32_t k = 0; k < 11; k++) {
        blocks[k] = fb_alloc_pages(a, k, FB_KERNEL);
        REQUIRE(blocks[k] != NULL);
        CHECK(((uintptr_t)blocks[k] & (((uintptr_t)PAGE << k) - 1)) == 0);
        CHECK_EQ(fb_usable_size(a, blocks[k]), (size_t)PAGE << k);
        CHECK_EQ(fb_owns(a, blocks[k]), 1);
        memset(blocks[k], (int)k, (size_t)PAGE << k); /* the memory is really ours */
    }
    CHECK_ARENA(a, 4096 - 2047);
    for (uint32_t k = 0; k < 11; k++) {
        unsigned char* b = (unsigned char*)blocks[k];
        CHECK(b[0] == k && b[((size_t)PAGE << k) - 1] == k);
        CHECK_STATUS(fb_free_pages(a, blocks[k], k), FB_OK);
    }
    CHECK_ARENA(a, 4096);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(z.free_blocks[10], 4); /* everything merged back */
    for (int k = 0; k < 10; k++)
        CHECK_EQ(z.free_blocks[k], 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(blocks_do_not_overlap)
{
    fb_arena* a = fbt_arena(4 * MIB);
    REQUIRE(a != NULL);
    enum { N = 120 };
    void* p[N];
    uint32_t order[N];
    for (int i = 0; i < N; i++) {
        order[i] = (uint32_t)(i % 4);
        p[i] = fb_alloc_pages(a, order[i], FB_KERNEL);
        REQUIRE(p[i] != NULL);
        fbt_fill(p[i], (size_t)PAGE << order[i], (uint32_t)i);
    }
    for (int i = 0; i < N; i++)
        CHECK(fbt_check_fill(p[i], (size_t)PAGE << order[i], (uint32_t)i));
    for (int i = N - 1; i >= 0; i -= 2)
        CHECK_STATUS(fb_free_pages(a, p[i], order[i]), FB_OK);
    for (int i = 0; i < N; i += 2)
        CHECK_STATUS(fb_free_pages(a, p[i], order[i]), FB_OK);
    CHECK_ARENA(a, 1024);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(order_out_of_range)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    uint32_t bad[] = { 11, 12, 31, 32, 1000, 0x80000000u, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(fb_alloc_pages(a, bad[i], FB_KERNEL) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        CHECK(fb_alloc_pages_zonelist(a, bad[i], FB_KERNEL, 0) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    }
    void* p = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STATUS(fb_free_pages(a, p, bad[i]), FB_ERR_INVALID_ARGUMENT);
    CHECK_ARENA(a, 255);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(unknown_flags_rejected)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    uint32_t bad[] = { 32, 64, 0x80000000u, FB_KERNEL | 256u };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(fb_alloc_pages(a, 0, bad[i]) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        CHECK(fb_alloc(a, 100, bad[i]) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    }
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(every_flag_combination_allocates)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    for (uint32_t f = 0; f < 32; f++) {
        void* p = fb_alloc_pages(a, 1, f);
        REQUIRE(p != NULL);
        CHECK_EQ(fb_last_error(), FB_OK);
        CHECK_STATUS(fb_free_pages(a, p, 1), FB_OK);
    }
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zonelists)
{
    fb_arena* a = fbt_arena_two_zones(256 * KIB, 1 * MIB);
    REQUIRE(a != NULL);
    fb_zone_stats dma = fbt_zone_stats(a, 0);
    CHECK(strcmp(dma.name, "DMA") == 0);
    /* zonelist 0 = DMA only; zonelist 1 (the default) = Normal then DMA */
    void* low = fb_alloc_pages_zonelist(a, 0, FB_KERNEL, 0);
    void* high = fb_alloc_pages_zonelist(a, 0, FB_KERNEL, 1);
    void* dflt = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(low != NULL && high != NULL && dflt != NULL);
    fb_zone_stats z0 = fbt_zone_stats(a, 0), z1 = fbt_zone_stats(a, 1);
    CHECK_EQ(z0.free_pages + z0.per_cpu_pages, 63); /* per-CPU lists may hold some of the free ones */
    CHECK_EQ(z1.free_pages + z1.per_cpu_pages, 254);
    CHECK(fb_alloc_pages_zonelist(a, 0, FB_KERNEL, 2) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_alloc_pages_zonelist(a, 0, FB_KERNEL, UINT32_MAX) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_free_pages(a, low, 0), FB_OK);
    CHECK_STATUS(fb_free_pages(a, high, 0), FB_OK);
    CHECK_STATUS(fb_free_pages(a, dflt, 0), FB_OK);
    CHECK_ARENA(a, 320);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zonelist_falls_back_to_lower_zone)
{
    fb_arena* a = fbt_arena_two_zones(256 * KIB, 256 * KIB); /* 64 + 64 pages */
    REQUIRE(a != NULL);
    void* p[128];
    int n = 0, in_dma = 0;
    uintptr_t dma_lo = 0;
    /* find the DMA zone's range from one zonelist-0 page */
    void* probe = fb_alloc_pages_zonelist(a, 0, FB_ATOMIC, 0);
    REQUIRE(probe != NULL);
    dma_lo = (uintptr_t)probe & ~(uintptr_t)(256 * KIB - 1);
    CHECK_STATUS(fb_free_pages(a, probe, 0), FB_OK);
    while (n < 128 && (p[n] = fb_alloc_pages(a, 0, FB_ATOMIC)) != NULL) {
        if ((uintptr_t)p[n] - dma_lo < 256 * KIB)
            in_dma++;
        n++;
    }
    CHECK(in_dma > 0); /* the default zonelist went on to DMA when Normal ran low */
    CHECK(n > 64);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    CHECK_ARENA(a, 128);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(exhaustion_gives_no_memory_and_recovers)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p[256];
    int n = 0;
    while (n < 256 && (p[n] = fb_alloc_pages(a, 0, FB_KERNEL)) != NULL)
        n++;
    CHECK(n < 256);                  /* the reserve floor keeps pages_min / 4 for FB_MEMALLOC */
    CHECK(n >= 256 - 10);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    fb_stats s = fbt_stats(a);
    CHECK(s.failures >= 1);
    void* reserve = fb_alloc_pages(a, 0, FB_MEMALLOC);
    CHECK(reserve != NULL);          /* only memory management may take the last reserve */
    if (reserve != NULL)
        CHECK_STATUS(fb_free_pages(a, reserve, 0), FB_OK);
    CHECK_STATUS(fb_free_pages(a, p[0], 0), FB_OK);
    p[0] = fb_alloc_pages(a, 0, FB_KERNEL);
    CHECK(p[0] != NULL);
    CHECK_EQ(fb_last_error(), FB_OK);
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(large_block_fails_when_fragmented)
{
    fb_arena* a = fbt_arena(1 * MIB); /* 256 pages */
    REQUIRE(a != NULL);
    void* p[256];
    int n = 0;
    while (n < 256 && (p[n] = fb_alloc_pages(a, 0, FB_MEMALLOC)) != NULL) /* the whole zone */
        n++;
    CHECK_EQ(n, 256);
    for (int i = 0; i < n; i += 2) /* free every other page: lots of free pages, no pair */
        CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    CHECK(fb_alloc_pages(a, 1, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    for (int i = 1; i < n; i += 2)
        CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    CHECK(fb_alloc_pages(a, 7, FB_KERNEL) != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ---- bad frees: every one returns its status and leaves the arena exactly as it was ---- */

FB_TEST(free_foreign_pointers)
{
    fb_arena* a = fbt_arena(1 * MIB);
    fb_arena* b = fbt_arena(1 * MIB);
    REQUIRE(a != NULL && b != NULL);
    void* mine = fb_alloc_pages(a, 0, FB_KERNEL);
    void* other = fb_alloc_pages(b, 0, FB_KERNEL);
    REQUIRE(mine != NULL && other != NULL);
    void* heap = malloc(PAGE);
    int local;
    void* foreign[] = { heap, &local, (void*)(uintptr_t)PAGE, (void*)(uintptr_t)UINTPTR_MAX, other,
                        (char*)mine + 2 * MIB, NULL };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        CHECK_STATUS(fb_free_pages(a, foreign[i], 0), FB_ERR_NOT_OWNED);
        CHECK_EQ(fb_owns(a, foreign[i]), 0);
        if (foreign[i] != NULL) {
            CHECK_STATUS(fb_free(a, foreign[i]), FB_ERR_NOT_OWNED);
            CHECK_EQ(fb_usable_size(a, foreign[i]), 0);
            CHECK_EQ(fb_last_error(), FB_ERR_NOT_OWNED);
        }
    }
    free(heap);
    CHECK_ARENA(a, 255);
    CHECK_ARENA(b, 255);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    CHECK_STATUS(fb_arena_destroy(b), FB_OK);
}

FB_TEST(free_interior_pointer)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 2, FB_KERNEL);
    REQUIRE(p != NULL);
    for (int i = 1; i < 4; i++) {
        void* inner = (char*)p + i * PAGE;
        CHECK_STATUS(fb_free_pages(a, inner, 2), FB_ERR_NOT_A_BLOCK);
        CHECK_STATUS(fb_free_pages(a, inner, 0), FB_ERR_NOT_A_BLOCK);
        CHECK_STATUS(fb_free(a, inner), FB_ERR_NOT_A_BLOCK);
        CHECK_EQ(fb_usable_size(a, inner), 0);
        CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
        CHECK_EQ(fb_owns(a, inner), 1);
    }
    CHECK_ARENA(a, 252);
    CHECK_STATUS(fb_free_pages(a, p, 2), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_misaligned_pointer)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc_pages(a, 1, FB_KERNEL);
    REQUIRE(p != NULL);
    size_t offsets[] = { 1, 8, 64, PAGE - 1, PAGE + 1, 2 * PAGE - 1 };
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        CHECK_STATUS(fb_free_pages(a, p + offsets[i], 1), FB_ERR_NOT_A_BLOCK);
        CHECK_STATUS(fb_free(a, p + offsets[i]), FB_ERR_NOT_A_BLOCK);
    }
    CHECK_ARENA(a, 254);
    CHECK_STATUS(fb_free_pages(a, p, 1), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(double_free)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 3, FB_KERNEL);
    void* q = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL && q != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 3), FB_OK);
    CHECK_STATUS(fb_free_pages(a, p, 3), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE);
    CHECK_EQ(fb_usable_size(a, p), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free(a, q), FB_OK);
    CHECK_STATUS(fb_free(a, q), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free_pages(a, q, 0), FB_ERR_DOUBLE_FREE);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_never_allocated_page)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    char* p = (char*)fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL);
    /* some other page of the zone that was never handed out: free or interior to a free block */
    char* untouched = p + 128 * PAGE;
    if (fb_owns(a, untouched) != 1)
        untouched = p - 128 * PAGE;
    REQUIRE(fb_owns(a, untouched) == 1);
    int status = fb_free_pages(a, untouched, 0);
    CHECK(status == FB_ERR_DOUBLE_FREE || status == FB_ERR_NOT_A_BLOCK);
    CHECK_ARENA(a, 255);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(free_wrong_order)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 2, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_free_pages(a, p, 1), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_free_pages(a, p, 3), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_free_pages(a, p, 10), FB_ERR_ORDER_MISMATCH);
    CHECK_ARENA(a, 252);
    CHECK_STATUS(fb_free_pages(a, p, 2), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(stats_unchanged_by_rejected_frees)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 1, FB_KERNEL);
    REQUIRE(p != NULL);
    fb_stats before = fbt_stats(a);
    fb_zone_stats zbefore = fbt_zone_stats(a, 0);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_ERR_ORDER_MISMATCH);
    CHECK_STATUS(fb_free_pages(a, (char*)p + PAGE, 0), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_free_pages(a, (char*)p + 1, 1), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_free_pages(a, &before, 1), FB_ERR_NOT_OWNED);
    fb_stats after = fbt_stats(a);
    fb_zone_stats zafter = fbt_zone_stats(a, 0);
    CHECK_EQ(after.free_pages, before.free_pages);
    CHECK_EQ(after.frees, before.frees);
    CHECK(memcmp(zbefore.free_blocks, zafter.free_blocks, sizeof zbefore.free_blocks) == 0);
    CHECK_STATUS(fb_validate(a), FB_OK);
    CHECK_STATUS(fb_free_pages(a, p, 1), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zero_flag_on_pages)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    for (int round = 0; round < 3; round++) {
        unsigned char* p = (unsigned char*)fb_alloc_pages(a, 3, FB_KERNEL);
        REQUIRE(p != NULL);
        memset(p, 0xEE, 8 * PAGE);
        CHECK_STATUS(fb_free_pages(a, p, 3), FB_OK);
        unsigned char* z = (unsigned char*)fb_alloc_pages(a, 3, FB_KERNEL | FB_ZERO);
        REQUIRE(z != NULL);
        int all_zero = 1;
        for (size_t i = 0; i < 8 * PAGE; i++)
            all_zero &= z[i] == 0;
        CHECK(all_zero);
        CHECK_STATUS(fb_free_pages(a, z, 3), FB_OK);
    }
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ---- bulk ---- */

FB_TEST(bulk_alloc_and_free)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* pages[100];
    memset(pages, 0, sizeof pages);
    CHECK_EQ(fb_alloc_pages_bulk(a, pages, 100, FB_KERNEL | FB_ZERO), 100);
    CHECK_EQ(fb_last_error(), FB_OK);
    for (int i = 0; i < 100; i++) {
        REQUIRE(pages[i] != NULL);
        CHECK_EQ(fb_usable_size(a, pages[i]), PAGE);
        CHECK(((unsigned char*)pages[i])[PAGE - 1] == 0);
        for (int j = 0; j < i; j++)
            CHECK(pages[i] != pages[j]);
    }
    CHECK_ARENA(a, 156);
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 100), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_EQ(fb_alloc_pages_bulk(a, pages, 0, FB_KERNEL), 0);
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 0), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(bulk_alloc_partial_when_short)
{
    fb_arena* a = fbt_arena(256 * KIB); /* 64 pages */
    REQUIRE(a != NULL);
    void* pages[100];
    memset(pages, 0, sizeof pages);
    size_t n = fb_alloc_pages_bulk(a, pages, 100, FB_ATOMIC);
    CHECK(n > 50 && n < 64);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK(pages[n] == NULL); /* untouched past the count */
    CHECK_STATUS(fb_free_pages_bulk(a, pages, n), FB_OK);
    CHECK_ARENA(a, 64);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(bulk_free_is_all_or_nothing)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    void* pages[10];
    CHECK_EQ(fb_alloc_pages_bulk(a, pages, 10, FB_KERNEL), 10);
    void* big = fb_alloc_pages(a, 1, FB_KERNEL);
    REQUIRE(big != NULL);
    int local;
    void* saved = pages[5];

    pages[5] = &local;
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_ERR_NOT_OWNED);
    CHECK_ARENA(a, 244);
    pages[5] = (char*)saved + 1;
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_ERR_NOT_A_BLOCK);
    pages[5] = big;
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_ERR_ORDER_MISMATCH);
    pages[5] = pages[4];
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_ERR_DOUBLE_FREE); /* twice in one call */
    CHECK_ARENA(a, 244);

    pages[5] = saved;
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_OK);
    CHECK_STATUS(fb_free_pages_bulk(a, pages, 10), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free_pages(a, big, 1), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(bulk_bad_arguments)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    CHECK_EQ(fb_alloc_pages_bulk(a, NULL, 5, FB_KERNEL), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_free_pages_bulk(a, NULL, 5), FB_ERR_INVALID_ARGUMENT);
    void* pages[4];
    CHECK_EQ(fb_alloc_pages_bulk(a, pages, 4, 1u << 20), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_alloc_pages_bulk(a, pages, SIZE_MAX, FB_KERNEL), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
