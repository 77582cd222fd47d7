/* Handles: NULL, destroyed and made-up fb_arena* values are rejected by every function, never dereferenced. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

static int g_callbacks;
static void count_evict(void* ctx, void* page) { (void)ctx; (void)page; g_callbacks++; }

/* Calls every function that takes an arena with `bad` and checks each reports FB_ERR_INVALID_ARGUMENT. */
static void check_rejected_everywhere(fb_arena* bad, void* some_page)
{
    fb_page_ops ops = { NULL, count_evict };
    fb_stats s;
    fb_zone_stats z;
    memset(&s, 0, sizeof s);
    memset(&z, 0, sizeof z);
    s.struct_size = sizeof s;
    z.struct_size = sizeof z;

    CHECK(fb_alloc_pages(bad, 0, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_alloc_pages_zonelist(bad, 0, FB_KERNEL, 0) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_free_pages(bad, some_page, 0), FB_ERR_INVALID_ARGUMENT);
    void* bulk[2] = { some_page, NULL };
    CHECK_EQ(fb_alloc_pages_bulk(bad, bulk, 2, FB_KERNEL), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(bulk[0] == some_page);
    CHECK_STATUS(fb_free_pages_bulk(bad, bulk, 1), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_alloc(bad, 100, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_realloc(bad, NULL, 100, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_free(bad, some_page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_free(bad, NULL), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_usable_size(bad, some_page), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_owns(bad, some_page), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_page_size(bad), 0);
    CHECK_EQ(fb_max_order(bad), 0);
    CHECK_EQ(fb_zone_count(bad), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_add(bad, some_page, &ops, NULL, 0), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_touch(bad, some_page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_mark_dirty(bad, some_page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_cache_remove(bad, some_page), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_stats(bad, &s), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_zone_stats(bad, 0, &z), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_validate(bad), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_balance(bad), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
}

FB_TEST(null_handle_rejected)
{
    check_rejected_everywhere(NULL, NULL);
}

FB_TEST(destroyed_handle_rejected)
{
    fb_arena* a = fbt_arena(256 * KIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 0, FB_KERNEL);
    CHECK(p != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    check_rejected_everywhere(a, p); /* p is invalid too, but the handle is checked first */
    CHECK_STATUS(fb_arena_destroy(a), FB_ERR_INVALID_ARGUMENT); /* double destroy */
    CHECK_EQ(g_callbacks, 0);
}

FB_TEST(destroyed_handle_stays_dead_after_slot_reuse)
{
    fb_arena* a = fbt_arena(64 * KIB);
    REQUIRE(a != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    fb_arena* b = fbt_arena(64 * KIB); /* likely the same table slot, another generation */
    REQUIRE(b != NULL);
    CHECK(a != b);
    CHECK(fb_alloc_pages(a, 0, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_arena_destroy(a), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_validate(b), FB_OK); /* b untouched by the calls through a */
    CHECK_ARENA(b, 16);
    CHECK_STATUS(fb_arena_destroy(b), FB_OK);
}

FB_TEST(foreign_handles_rejected)
{
    fb_arena* live = fbt_arena(64 * KIB); /* a live arena must not make made-up handles valid */
    REQUIRE(live != NULL);
    int local = 0;
    uintptr_t made_up[] = {
        1, 2, 0xFFFFF, 0x100000, 0xdeadbeef, (uintptr_t)live + ((uintptr_t)1 << 20),
        (uintptr_t)live - ((uintptr_t)1 << 20), (uintptr_t)&local, (uintptr_t)live + 1,
        (uintptr_t)live - 1, (uintptr_t)live ^ ((uintptr_t)1 << 40), UINTPTR_MAX, UINTPTR_MAX - 1,
        (uintptr_t)1 << 63,
    };
    for (size_t i = 0; i < sizeof made_up / sizeof made_up[0]; i++)
        check_rejected_everywhere((fb_arena*)made_up[i], &local);
    CHECK_ARENA(live, 16);
    CHECK_STATUS(fb_arena_destroy(live), FB_OK);
    CHECK_STATUS(fb_arena_destroy((fb_arena*)(uintptr_t)0xdeadbeef), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_arena_destroy((fb_arena*)&local), FB_ERR_INVALID_ARGUMENT);
}
