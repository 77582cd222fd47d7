/* Version, strings, options defaults, the ABI layout, create/destroy and the arena's shape. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

/* The offsets the C# side (FastBuddy.Native/NativeTypes.cs) assumes. */
_Static_assert(offsetof(fb_options, arena_bytes) == 16, "fb_options layout");
_Static_assert(offsetof(fb_options, zones) == 24, "fb_options layout");
_Static_assert(offsetof(fb_options, zone_count) == 32, "fb_options layout");
_Static_assert(offsetof(fb_options, alloc_wait_ms) + 8 == FB_OPTIONS_MIN_SIZE, "fb_options min size");
_Static_assert(offsetof(fb_options, log) == 64, "fb_options layout");
_Static_assert(offsetof(fb_options, per_cpu_pages) == 96, "fb_options layout");
_Static_assert(sizeof(fb_options) == 136, "fb_options size");
_Static_assert(sizeof(fb_zone_options) == 24, "fb_zone_options size");
_Static_assert(offsetof(fb_stats, total_pages) == 8, "fb_stats layout");
_Static_assert(offsetof(fb_stats, zone_count) + 4 == FB_STATS_MIN_SIZE, "fb_stats min size");
_Static_assert(offsetof(fb_stats, free_pages_min) == 128, "fb_stats layout");
_Static_assert(offsetof(fb_stats, slab_pages) == 240, "fb_stats layout");
_Static_assert(sizeof(fb_stats) == 272, "fb_stats size");
_Static_assert(sizeof(fb_slab_stats) == 48, "fb_slab_stats size");
_Static_assert(offsetof(fb_zone_stats, name) == 4, "fb_zone_stats layout");
_Static_assert(offsetof(fb_zone_stats, pages) == 40, "fb_zone_stats layout");
_Static_assert(offsetof(fb_zone_stats, free_blocks) + 8 * FB_MAX_ORDERS == FB_ZONE_STATS_MIN_SIZE, "fb_zone_stats min size");
_Static_assert(sizeof(fb_zone_stats) == 392, "fb_zone_stats size");
_Static_assert(sizeof(fb_page_ops) == 2 * sizeof(void*), "fb_page_ops size");

FB_TEST(version_matches_header)
{
    REQUIRE(fb_version() != NULL);
    CHECK(strcmp(fb_version(), FB_VERSION_STRING) == 0);
    CHECK(strcmp(FB_VERSION_STRING, "0.1.0") == 0);
    CHECK_EQ(FB_VERSION_MAJOR, 0);
    CHECK_EQ(FB_VERSION_MINOR, 1);
    CHECK_EQ(FB_VERSION_PATCH, 0);
    CHECK(fb_version() == fb_version()); /* a static string */
}

FB_TEST(status_and_flag_values)
{
    CHECK_EQ(FB_OK, 0);
    CHECK_EQ(FB_ERR_INVALID_ARGUMENT, 1);
    CHECK_EQ(FB_ERR_NO_MEMORY, 2);
    CHECK_EQ(FB_ERR_NOT_OWNED, 3);
    CHECK_EQ(FB_ERR_NOT_A_BLOCK, 4);
    CHECK_EQ(FB_ERR_DOUBLE_FREE, 5);
    CHECK_EQ(FB_ERR_ORDER_MISMATCH, 6);
    CHECK_EQ(FB_ERR_CORRUPT, 7);
    CHECK_EQ(FB_ERR_BUSY, 8);
    CHECK_EQ(FB_ERR_RECLAIMED, 9);
    CHECK_EQ(FB_ATOMIC, 0);
    CHECK_EQ(FB_WAIT, 1);
    CHECK_EQ(FB_IO, 2);
    CHECK_EQ(FB_FS, 4);
    CHECK_EQ(FB_MEMALLOC, 8);
    CHECK_EQ(FB_ZERO, 16);
    CHECK_EQ(FB_KERNEL, FB_WAIT | FB_IO | FB_FS);
    CHECK_EQ(FB_NOFS, FB_WAIT | FB_IO);
    CHECK_EQ(FB_NOIO, FB_WAIT);
}

FB_TEST(strerror_every_status)
{
    const char* seen[10];
    for (int s = FB_OK; s <= FB_ERR_RECLAIMED; s++) {
        const char* text = fb_strerror(s);
        REQUIRE(text != NULL);
        CHECK(strlen(text) > 3);
        CHECK(text == fb_strerror(s)); /* static, same pointer every time */
        CHECK(strcmp(text, "unknown status") != 0);
        for (int t = 0; t < s; t++)
            CHECK(strcmp(seen[t], text) != 0);
        seen[s] = text;
    }
    CHECK(strcmp(fb_strerror(FB_OK), "success") == 0);
    CHECK(strstr(fb_strerror(FB_ERR_DOUBLE_FREE), "double free") != NULL);
}

FB_TEST(strerror_unknown_status)
{
    CHECK(strcmp(fb_strerror(-1), "unknown status") == 0);
    CHECK(strcmp(fb_strerror(10), "unknown status") == 0);
    CHECK(strcmp(fb_strerror(1 << 30), "unknown status") == 0);
}

FB_TEST(options_init_defaults)
{
    fb_options o;
    memset(&o, 0xAB, sizeof o);
    CHECK_STATUS(fb_options_init(&o), FB_OK);
    CHECK_EQ(o.struct_size, sizeof(fb_options));
    CHECK_EQ(o.page_size, 4096);
    CHECK_EQ(o.max_order, 11);
    CHECK_EQ(o.reserved0, 0);
    CHECK_EQ(o.arena_bytes, 0);
    CHECK(o.zones == NULL);
    CHECK_EQ(o.zone_count, 0);
    CHECK_EQ(o.background_reclaim, 1);
    CHECK(o.alloc_wait_ms > 0);
    CHECK_EQ(o.balance_ratio, 128);
    CHECK_EQ(o.lowest_zone_balance_ratio, 32);
    CHECK_EQ(o.balance_min, 10);
    CHECK_EQ(o.balance_max, 255);
    CHECK(o.log == NULL);
    CHECK(o.log_ctx == NULL);
    CHECK(o.out_of_memory == NULL);
    CHECK(o.out_of_memory_ctx == NULL);
    CHECK_EQ(o.per_cpu_pages, 256);
    CHECK_EQ(o.per_cpu_batch, 32);
    CHECK_EQ(o.per_cpu_orders, 9);
    CHECK_EQ(o.reserved1, 0);
}

FB_TEST(options_init_null)
{
    CHECK_STATUS(fb_options_init(NULL), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
}

FB_TEST(create_and_destroy_default_zone)
{
    fb_options o;
    CHECK_STATUS(fb_options_init(&o), FB_OK);
    o.arena_bytes = 4 * MIB;
    fb_arena* a = NULL;
    CHECK_STATUS(fb_arena_create(&o, &a), FB_OK);
    REQUIRE(a != NULL);
    CHECK_EQ(fb_page_size(a), 4096);
    CHECK_EQ(fb_max_order(a), 11);
    CHECK_EQ(fb_zone_count(a), 1);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK(strcmp(z.name, "Normal") == 0);
    CHECK_EQ(z.pages, 1024);
    CHECK_EQ(z.free_pages, 1024);
    CHECK_ARENA(a, 1024);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(create_with_background_reclaim_then_destroy)
{
    fb_options o;
    CHECK_STATUS(fb_options_init(&o), FB_OK);
    o.arena_bytes = 1 * MIB;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    void* p[200];
    for (int i = 0; i < 200; i++)
        p[i] = fb_alloc_pages(a, 0, FB_KERNEL); /* goes below the watermarks: wakes the reclaimer thread */
    for (int i = 0; i < 200; i++)
        if (p[i] != NULL)
            CHECK_STATUS(fb_free_pages(a, p[i], 0), FB_OK);
    CHECK_ARENA(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(create_two_zones_with_page_size_and_orders)
{
    fb_zone_options zones[2] = { { "DMA", 64 * KIB, 0 }, { "HighMem", 256 * KIB + 100, 5 } };
    fb_options o;
    fbt_default_options(&o, 0);
    o.page_size = 1024;
    o.max_order = 6;
    o.per_cpu_orders = 4; /* at most max_order (see test_options.small_max_order_with_default_per_cpu_settings) */
    o.zones = zones;
    o.zone_count = 2;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    CHECK_EQ(fb_page_size(a), 1024);
    CHECK_EQ(fb_max_order(a), 6);
    CHECK_EQ(fb_zone_count(a), 2);
    fb_zone_stats z0 = fbt_zone_stats(a, 0), z1 = fbt_zone_stats(a, 1);
    CHECK(strcmp(z0.name, "DMA") == 0);
    CHECK(strcmp(z1.name, "HighMem") == 0);
    CHECK_EQ(z0.pages, 64);
    CHECK_EQ(z1.pages, 256); /* rounded down to whole pages */
    CHECK_EQ(z1.pages_min, 5);
    CHECK_EQ(z1.pages_low, 10);
    CHECK_EQ(z1.pages_high, 15);
    CHECK_ARENA(a, 320);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(create_many_arenas)
{
    fb_arena* arenas[40];
    for (int i = 0; i < 40; i++) {
        arenas[i] = fbt_arena(64 * KIB);
        REQUIRE(arenas[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK(arenas[i] != arenas[j]);
    }
    for (int i = 0; i < 40; i += 2)
        CHECK_STATUS(fb_arena_destroy(arenas[i]), FB_OK);
    for (int i = 0; i < 40; i += 2) {
        fb_arena* again = fbt_arena(64 * KIB); /* reuses table slots, never handles */
        for (int j = 0; j < 40; j++)
            CHECK(again != arenas[j]);
        arenas[i] = again;
    }
    for (int i = 0; i < 40; i++) {
        void* p = fb_alloc_pages(arenas[i], 0, FB_ATOMIC);
        CHECK(p != NULL);
        CHECK_EQ(fb_owns(arenas[i], p), 1);
        CHECK_EQ(fb_owns(arenas[(i + 1) % 40], p), 0);
        CHECK_STATUS(fb_free_pages(arenas[(i + 1) % 40], p, 0), FB_ERR_NOT_OWNED);
        CHECK_STATUS(fb_free_pages(arenas[i], p, 0), FB_OK);
    }
    for (int i = 0; i < 40; i++)
        CHECK_STATUS(fb_arena_destroy(arenas[i]), FB_OK);
}

FB_TEST(destroy_null_is_a_no_op)
{
    CHECK_STATUS(fb_arena_destroy(NULL), FB_OK);
}

FB_TEST(destroy_with_live_blocks_and_cached_pages)
{
    /* fb_arena_destroy frees everything; no callback runs (the ops below would fail the test). */
    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    for (int i = 0; i < 10; i++)
        CHECK(fb_alloc_pages(a, (uint32_t)(i % 4), FB_KERNEL) != NULL);
    CHECK(fb_alloc(a, 10000, FB_KERNEL) != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(last_error_tracks_allocations)
{
    fb_arena* a = fbt_arena(64 * KIB);
    REQUIRE(a != NULL);
    CHECK(fb_alloc_pages(a, 40, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    void* p = fb_alloc_pages(a, 0, FB_KERNEL);
    CHECK(p != NULL);
    CHECK_EQ(fb_last_error(), FB_OK); /* a successful allocation resets it */
    CHECK_STATUS(fb_free_pages(a, p, 1), FB_ERR_ORDER_MISMATCH);
    CHECK_EQ(fb_last_error(), FB_ERR_ORDER_MISMATCH); /* a failing call records its status */
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    CHECK_EQ(fb_last_error(), FB_ERR_ORDER_MISMATCH); /* other successful calls leave it */
    /* the whole 64 KiB zone is 16 pages: an order-5 block cannot exist */
    CHECK(fb_alloc_pages(a, 5, FB_ATOMIC) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(last_error_message_explains)
{
    fb_arena* a = fbt_arena(64 * KIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK(strcmp(fb_last_error_message(), "") == 0); /* FB_OK */
    CHECK(fb_alloc_pages(a, 12, FB_KERNEL) == NULL);
    CHECK(strstr(fb_last_error_message(), "Order 12") != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 3), FB_ERR_ORDER_MISMATCH);
    CHECK(strstr(fb_last_error_message(), "order 3") != NULL);
    CHECK_STATUS(fb_validate(NULL), FB_ERR_INVALID_ARGUMENT);
    CHECK(strstr(fb_last_error_message(), "not a live arena") != NULL);
    CHECK(fb_alloc_pages(a, 5, FB_ATOMIC) == NULL); /* no memory: the status's description */
    CHECK(strcmp(fb_last_error_message(), fb_strerror(FB_ERR_NO_MEMORY)) == 0);
    fb_options o;
    fbt_default_options(&o, 64 * KIB);
    o.page_size = 3000;
    fb_arena* bad = NULL;
    CHECK_STATUS(fb_arena_create(&o, &bad), FB_ERR_INVALID_ARGUMENT);
    CHECK(strstr(fb_last_error_message(), "PageSize") != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
