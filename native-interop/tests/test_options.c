/* Bad options (docs/design.md, "Bad input and the edges"): each is FB_ERR_INVALID_ARGUMENT, *out stays NULL, and nothing leaks a handle. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

static void expect_create_fails(const fb_options* o, int expected, const char* what)
{
    fb_arena* a = (fb_arena*)(uintptr_t)0x1234; /* must be overwritten with NULL */
    int status = fb_arena_create(o, &a);
    if (status != expected) {
        fbt_fail_status(__FILE__, __LINE__, what, status, expected);
        if (status == FB_OK)
            fb_arena_destroy(a);
        return;
    }
    CHECK(a == NULL);
    CHECK_EQ(fb_last_error(), expected);
}

#define EXPECT_BAD(o) expect_create_fails(&(o), FB_ERR_INVALID_ARGUMENT, #o)

FB_TEST(create_null_arguments)
{
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    fb_arena* a = (fb_arena*)(uintptr_t)0x1234;
    CHECK_STATUS(fb_arena_create(NULL, &a), FB_ERR_INVALID_ARGUMENT);
    CHECK(a == NULL);
    CHECK_STATUS(fb_arena_create(&o, NULL), FB_ERR_INVALID_ARGUMENT);
}

FB_TEST(bad_struct_size)
{
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.struct_size = 0;
    EXPECT_BAD(o);
    o.struct_size = FB_OPTIONS_MIN_SIZE - 1;
    EXPECT_BAD(o);
    o.struct_size = 4;
    EXPECT_BAD(o);
}

FB_TEST(reserved_field_must_be_zero)
{
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.reserved0 = 1;
    EXPECT_BAD(o);
}

FB_TEST(bad_page_sizes)
{
    uint32_t bad[] = { 0, 1, 3, 32, 100, 4095, 4097, 6000, 2u << 20, 1u << 31, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fb_options o;
        fbt_default_options(&o, 4 * MIB);
        o.page_size = bad[i];
        EXPECT_BAD(o);
    }
}

FB_TEST(edge_page_sizes_accepted)
{
    uint32_t good[] = { 64, 1u << 20 };
    for (size_t i = 0; i < 2; i++) {
        fb_options o;
        fbt_default_options(&o, 4 * MIB);
        o.page_size = good[i];
        fb_arena* a = fbt_arena_with(&o);
        REQUIRE(a != NULL);
        CHECK_EQ(fb_page_size(a), good[i]);
        void* p = fb_alloc_pages(a, 0, FB_KERNEL);
        CHECK(p != NULL);
        CHECK(((uintptr_t)p & (good[i] - 1)) == 0);
        CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
        CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    }
}

FB_TEST(bad_max_orders)
{
    uint32_t bad[] = { 0, 32, 64, 1u << 31, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fb_options o;
        fbt_default_options(&o, 4 * MIB);
        o.max_order = bad[i];
        EXPECT_BAD(o);
    }
}

FB_TEST(no_size_at_all)
{
    fb_options o;
    fbt_default_options(&o, 0);
    EXPECT_BAD(o);
}

FB_TEST(arena_bytes_smaller_than_a_page)
{
    fb_options o;
    fbt_default_options(&o, 4095);
    EXPECT_BAD(o);
}

FB_TEST(zones_and_arena_bytes_both_given)
{
    fb_zone_options zones[1] = { { "Normal", 64 * KIB, 0 } };
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.zones = zones;
    o.zone_count = 1;
    EXPECT_BAD(o);
}

FB_TEST(zone_count_without_zones)
{
    fb_options o;
    fbt_default_options(&o, 0);
    o.zone_count = 2;
    EXPECT_BAD(o);
}

FB_TEST(zero_sized_zones)
{
    fb_zone_options zones[2] = { { "DMA", 64 * KIB, 0 }, { "Normal", 0, 0 } };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = zones;
    o.zone_count = 2;
    EXPECT_BAD(o);
    zones[1].bytes = 100; /* rounds down to no page */
    EXPECT_BAD(o);
}

FB_TEST(bad_zone_names)
{
    fb_zone_options zones[2] = { { NULL, 64 * KIB, 0 }, { "Normal", 64 * KIB, 0 } };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = zones;
    o.zone_count = 2;
    EXPECT_BAD(o);
    zones[0].name = "";
    EXPECT_BAD(o);
    zones[0].name = "Normal"; /* twice */
    EXPECT_BAD(o);
}

FB_TEST(inconsistent_watermarks)
{
    /* 16 pages: pages_min 6 gives high 18 > 16. */
    fb_zone_options zones[1] = { { "Normal", 64 * KIB, 6 } };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = zones;
    o.zone_count = 1;
    EXPECT_BAD(o);
    zones[0].pages_min = 100;
    EXPECT_BAD(o);
    zones[0].pages_min = -1;
    EXPECT_BAD(o);
    zones[0].pages_min = INT64_MIN;
    EXPECT_BAD(o);
    zones[0].pages_min = 5; /* 5/10/15 <= 16: fine */
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(z.pages_min, 5);
    CHECK_EQ(z.pages_high, 15);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(bad_balance_settings)
{
    fb_options o;
    fbt_default_options(&o, 1 * MIB);
    o.balance_ratio = -1;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.lowest_zone_balance_ratio = -5;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.balance_min = 300; /* above balance_max 255 */
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.balance_min = -2;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.balance_ratio = 0; /* fields within struct_size are used as they are: 0 is not "default" */
    EXPECT_BAD(o);
}

FB_TEST(bad_per_cpu_settings)
{
    fb_options o;
    fbt_default_options(&o, 1 * MIB);
    o.per_cpu_pages = -1;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.per_cpu_batch = 0;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.per_cpu_orders = -1;
    EXPECT_BAD(o);
    fbt_default_options(&o, 1 * MIB);
    o.reserved1 = 7;
    EXPECT_BAD(o);
}

FB_TEST(per_cpu_lists_off)
{
    fb_options o;
    fbt_default_options(&o, 1 * MIB);
    o.per_cpu_pages = 0;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    void* p[10];
    for (int i = 0; i < 10; i++)
        p[i] = fb_alloc_pages(a, 0, FB_KERNEL);
    for (int i = 0; i < 10; i++)
        CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.per_cpu_pages, 0);
    CHECK_EQ(s.free_pages, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(small_max_order_with_default_per_cpu_settings)
{
    /* fb_options_init's per_cpu_orders (9) must not make max_order 1 .. 8 unusable: the public contract (docs/design.md) only limits
       max_order itself. */
    for (uint32_t max_order = 1; max_order <= 11; max_order++) {
        fb_options o;
        fbt_default_options(&o, 1 * MIB);
        o.max_order = max_order;
        fb_arena* a = NULL;
        int status = fb_arena_create(&o, &a);
        if (status != FB_OK)
            fprintf(stderr, "  max_order %u: %s\n", max_order, fb_last_error_message());
        CHECK_STATUS(status, FB_OK);
        if (a != NULL) {
            /* the largest order that fits the 256-page arena above its reserve (an order-8 block is all of it) */
            uint32_t order = max_order - 1 < 7 ? max_order - 1 : 7;
            void* p = fb_alloc_pages(a, order, FB_KERNEL);
            CHECK(p != NULL);
            CHECK_STATUS(fb_free_pages(a, p, order), FB_OK);
            CHECK_STATUS(fb_arena_destroy(a), FB_OK);
        }
    }
}

FB_TEST(balance_settings_used)
{
    fb_options o;
    fbt_default_options(&o, 4 * MIB); /* 1024 pages */
    o.balance_ratio = 64;             /* 1024 / 64 = 16 */
    o.balance_min = 2;
    o.balance_max = 40;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(z.pages_min, 16);
    CHECK_EQ(z.pages_low, 32);
    CHECK_EQ(z.pages_high, 48);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(absurd_sizes)
{
    fb_options o;
    fbt_default_options(&o, SIZE_MAX);
    expect_create_fails(&o, FB_ERR_INVALID_ARGUMENT, "SIZE_MAX arena");
    fbt_default_options(&o, 0);
    fb_zone_options zones[1] = { { "Huge", (size_t)1 << 60, 0 } };
    o.zones = zones;
    o.zone_count = 1;
    expect_create_fails(&o, FB_ERR_INVALID_ARGUMENT, "2^60-byte zone");
}

FB_TEST(absurd_wait)
{
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.alloc_wait_ms = INT64_MAX;
    EXPECT_BAD(o);
}

FB_TEST(infinite_wait_accepted)
{
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.alloc_wait_ms = FB_WAIT_INFINITE;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    CHECK(fb_alloc_pages(a, 0, FB_ATOMIC) != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    o.alloc_wait_ms = -12345; /* any negative value */
    a = fbt_arena_with(&o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(older_smaller_options_struct)
{
    /* A host built against a header with only the minimum fields: the tail is not read (garbage there is fine). */
    fb_options o;
    fbt_default_options(&o, 1 * MIB);
    o.struct_size = FB_OPTIONS_MIN_SIZE;
    o.balance_ratio = -77;
    o.balance_min = 999999;
    o.log = (fb_log_fn)(uintptr_t)0x10;
    o.out_of_memory = (fb_oom_fn)(uintptr_t)0x10;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(z.pages_min, 10); /* the default rule: clamp(256/128, 10, 255), at most 256/16 */
    CHECK(fb_alloc_pages(a, 10, FB_ATOMIC) == NULL); /* fails and logs: must not call the bogus log pointer */
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(newer_larger_options_struct)
{
    struct {
        fb_options o;
        char future[64];
    } big;
    memset(&big, 0, sizeof big);
    fbt_default_options(&big.o, 1 * MIB);
    big.o.struct_size = sizeof big;
    fb_arena* a = fbt_arena_with(&big.o);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(zone_names_utf8_and_long)
{
    fb_zone_options zones[2] = {
        { "Z\xC3\xA4hler", 64 * KIB, 0 }, /* "Zähler" */
        { "a-very-long-zone-name-that-does-not-fit-in-thirty-two-bytes", 64 * KIB, 0 },
    };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = zones;
    o.zone_count = 2;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    fb_zone_stats z0 = fbt_zone_stats(a, 0), z1 = fbt_zone_stats(a, 1);
    CHECK(strcmp(z0.name, "Z\xC3\xA4hler") == 0);
    CHECK_EQ(strlen(z1.name), FB_ZONE_NAME_MAX - 1);
    CHECK(strncmp(z1.name, zones[1].name, FB_ZONE_NAME_MAX - 1) == 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(arena_larger_than_the_address_space_is_no_memory)
{
    /* valid options (2^31 - 2 pages of 1 MiB, about 2 PiB), but no system can reserve that */
    fb_options o;
    fbt_default_options(&o, ((size_t)INT32_MAX - 1) << 20);
    o.page_size = 1u << 20;
    expect_create_fails(&o, FB_ERR_NO_MEMORY, "2 PiB arena");
}
