/* fb_get_stats / fb_get_zone_stats: struct_size rules, counters, the buddyinfo table. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

#define PAGE 4096u

FB_TEST(stats_totals_and_counters)
{
    fb_arena* a = fbt_arena_two_zones(256 * KIB, 1 * MIB);
    REQUIRE(a != NULL);
    fb_stats s0 = fbt_stats(a);
    CHECK_EQ(s0.struct_size, sizeof(fb_stats)); /* left as the caller set it */
    CHECK_EQ(s0.total_pages, 320);
    CHECK_EQ(s0.free_pages + s0.per_cpu_pages, 320);
    CHECK_EQ(s0.zone_count, 2);
    CHECK_EQ(s0.page_size, PAGE);
    CHECK_EQ(s0.max_order, 11);
    CHECK_EQ(s0.active_pages + s0.inactive_dirty_pages + s0.inactive_clean_pages, 0);
    void* p[10];
    for (int i = 0; i < 10; i++)
        p[i] = fb_alloc_pages(a, 1, FB_KERNEL);
    for (int i = 0; i < 4; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], 1), FB_OK);
    fb_stats s1 = fbt_stats(a);
    CHECK_EQ(s1.allocations - s0.allocations, 10);
    CHECK_EQ(s1.frees - s0.frees, 4);
    CHECK_EQ(s1.free_pages + s1.per_cpu_pages, 320 - 12);
    CHECK_EQ(s1.step_fast_path - s0.step_fast_path, 10);
    CHECK(fb_alloc_pages(a, 10, FB_ATOMIC) == NULL);
    fb_stats s2 = fbt_stats(a);
    CHECK_EQ(s2.failures - s1.failures, 1);
    CHECK_EQ(s2.step_failed - s1.step_failed, 1);
    fb_zone_stats z0 = fbt_zone_stats(a, 0), z1 = fbt_zone_stats(a, 1);
    CHECK_EQ(s2.free_pages_min, z0.pages_min + z1.pages_min);
    CHECK_EQ(s2.free_pages_low, z0.pages_low + z1.pages_low);
    CHECK_EQ(s2.free_pages_high, z0.pages_high + z1.pages_high);
    for (int i = 4; i < 10; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], 1), FB_OK);
    CHECK_ARENA(a, 320);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zone_stats_buddyinfo_adds_up)
{
    fb_arena* a = fbt_arena(4 * MIB + 5 * PAGE); /* 1029 pages: one order-10 block and a tail of orders 2 and 0 */
    REQUIRE(a != NULL);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(z.pages, 1029);
    CHECK_EQ(z.free_blocks[10], 1);
    CHECK_EQ(z.free_blocks[2], 1);
    CHECK_EQ(z.free_blocks[0], 1);
    for (int k = 11; k < FB_MAX_ORDERS; k++)
        CHECK_EQ(z.free_blocks[k], 0);
    void* p[5];
    for (int i = 0; i < 5; i++)
        p[i] = fb_alloc_pages(a, (uint32_t)i, FB_KERNEL);
    z = fbt_zone_stats(a, 0);
    int64_t sum = 0;
    for (int k = 0; k < FB_MAX_ORDERS; k++)
        sum += z.free_blocks[k] << k;
    CHECK_EQ(sum, z.free_pages);
    CHECK_EQ(z.free_pages + z.per_cpu_pages, 1029 - 31);
    for (int i = 0; i < 5; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], (uint32_t)i), FB_OK);
    CHECK_ARENA(a, 1029);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zone_stats_watermarks)
{
    fb_arena* a = fbt_arena_two_zones(1 * MIB, 4 * MIB); /* 256 + 1024 pages */
    REQUIRE(a != NULL);
    fb_zone_stats dma = fbt_zone_stats(a, 0), normal = fbt_zone_stats(a, 1);
    /* the 2.4 rule: m = pages / ratio (32 for the lowest zone, 128 otherwise), clamped to [10, 255], at most pages / 16 */
    CHECK_EQ(dma.pages_min, 10);
    CHECK_EQ(normal.pages_min, 10);
    CHECK_EQ(dma.pages_low, 2 * dma.pages_min);
    CHECK_EQ(dma.pages_high, 3 * dma.pages_min);
    CHECK(normal.pages_min < normal.pages_low && normal.pages_low < normal.pages_high);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(stats_bad_arguments)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    fb_stats s;
    fb_zone_stats z;
    memset(&s, 0, sizeof s);
    memset(&z, 0, sizeof z);
    CHECK_STATUS(fb_get_stats(a, NULL), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_zone_stats(a, 0, NULL), FB_ERR_INVALID_ARGUMENT);
    s.struct_size = 0;
    CHECK_STATUS(fb_get_stats(a, &s), FB_ERR_INVALID_ARGUMENT);
    s.struct_size = FB_STATS_MIN_SIZE - 1;
    CHECK_STATUS(fb_get_stats(a, &s), FB_ERR_INVALID_ARGUMENT);
    s.struct_size = 0xFFFFFFFFu; /* an uninitialised field, not a future struct */
    CHECK_STATUS(fb_get_stats(a, &s), FB_ERR_INVALID_ARGUMENT);
    z.struct_size = FB_ZONE_STATS_MIN_SIZE - 8;
    CHECK_STATUS(fb_get_zone_stats(a, 0, &z), FB_ERR_INVALID_ARGUMENT);
    z.struct_size = sizeof z;
    CHECK_STATUS(fb_get_zone_stats(a, 1, &z), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_zone_stats(a, UINT32_MAX, &z), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(stats_older_smaller_struct_is_not_overrun)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    unsigned char buffer[sizeof(fb_stats) + 16];
    memset(buffer, 0xCD, sizeof buffer);
    fb_stats* s = (fb_stats*)(void*)buffer;
    s->struct_size = FB_STATS_MIN_SIZE;
    CHECK_STATUS(fb_get_stats(a, s), FB_OK);
    CHECK_EQ(s->total_pages, 256);
    CHECK_EQ(s->zone_count, 1);
    for (size_t i = FB_STATS_MIN_SIZE; i < sizeof buffer; i++)
        CHECK(buffer[i] == 0xCD);

    unsigned char zbuffer[sizeof(fb_zone_stats) + 16];
    memset(zbuffer, 0xCD, sizeof zbuffer);
    fb_zone_stats* z = (fb_zone_stats*)(void*)zbuffer;
    z->struct_size = FB_ZONE_STATS_MIN_SIZE;
    CHECK_STATUS(fb_get_zone_stats(a, 0, z), FB_OK);
    CHECK_EQ(z->pages, 256);
    CHECK_EQ(z->free_blocks[8], 1);
    for (size_t i = FB_ZONE_STATS_MIN_SIZE; i < sizeof zbuffer; i++)
        CHECK(zbuffer[i] == 0xCD);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(stats_newer_larger_struct_gets_zeros)
{
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    struct {
        fb_stats s;
        unsigned char future[40];
    } big;
    memset(&big, 0xCD, sizeof big);
    big.s.struct_size = sizeof big;
    CHECK_STATUS(fb_get_stats(a, &big.s), FB_OK);
    CHECK_EQ(big.s.struct_size, sizeof big);
    CHECK_EQ(big.s.total_pages, 256);
    for (size_t i = 0; i < sizeof big.future; i++)
        CHECK(big.future[i] == 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(validate_ok_through_a_workload)
{
    fb_arena* a = fbt_arena_two_zones(512 * KIB, 2 * MIB);
    REQUIRE(a != NULL);
    void* p[200] = { 0 };
    uint32_t ord[200] = { 0 };
    uint32_t x = 77;
    for (int step = 0; step < 3000; step++) {
        x = x * 1664525u + 1013904223u;
        int i = (int)((x >> 10) % 200);
        if (p[i] != NULL) {
            CHECK_STATUS(fb_free_pages(a, p[i], ord[i]), FB_OK);
            p[i] = NULL;
        } else {
            ord[i] = (x >> 20) % 5;
            p[i] = fb_alloc_pages_zonelist(a, ord[i], FB_ATOMIC, (x >> 28) & 1);
        }
        if (step % 500 == 0)
            CHECK_STATUS(fb_validate(a), FB_OK);
    }
    for (int i = 0; i < 200; i++)
        if (p[i] != NULL)
            CHECK_STATUS(fb_free_pages(a, p[i], ord[i]), FB_OK);
    CHECK_ARENA(a, 640);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
