/* The optional callbacks of fb_options: log and out_of_memory. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

typedef struct log_sink {
    atomic_int messages;
    atomic_int writeback_errors;
    int last_level;
    char last[256];
} log_sink;

static void sink_log(void* ctx, int level, const char* message)
{
    log_sink* s = (log_sink*)ctx;
    atomic_fetch_add(&s->messages, 1);
    if (level == FB_LOG_ERROR && strstr(message, "Writeback") != NULL && strstr(message, "-3") != NULL)
        atomic_fetch_add(&s->writeback_errors, 1);
    s->last_level = level;
    strncpy(s->last, message, sizeof s->last - 1);
    s->last[sizeof s->last - 1] = '\0';
}

FB_TEST(log_receives_allocation_failures)
{
    static log_sink sink;
    memset(&sink, 0, sizeof sink);
    fb_options o;
    fbt_default_options(&o, 256 * KIB);
    o.log = sink_log;
    o.log_ctx = &sink;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    CHECK(fb_alloc_pages(a, 7, FB_ATOMIC) == NULL); /* 128 pages in a 64-page zone */
    CHECK(atomic_load(&sink.messages) >= 1);
    CHECK_EQ(sink.last_level, FB_LOG_WARNING);
    CHECK(strstr(sink.last, "7-order allocation failed") != NULL);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

static void evict_throws_nothing(void* ctx, void* page) { (void)ctx; (void)page; }
static int writeback_fails(void* ctx, void* page) { (void)ctx; (void)page; return -3; }

FB_TEST(log_receives_writeback_errors)
{
    static log_sink sink;
    memset(&sink, 0, sizeof sink);
    fb_zone_options zone = { "Normal", 1 * MIB, 8 };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = &zone;
    o.zone_count = 1;
    o.log = sink_log;
    o.log_ctx = &sink;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    fb_page_ops ops = { writeback_fails, evict_throws_nothing };
    static void* cached[100];
    for (int i = 0; i < 100; i++) {
        cached[i] = fb_alloc_pages(a, 0, FB_KERNEL);
        REQUIRE(cached[i] != NULL);
        CHECK_STATUS(fb_cache_add(a, cached[i], &ops, NULL, 1), FB_OK);
    }
    static void* held[300];
    int n = 0;
    while (n < 300 && (held[n] = fb_alloc_pages(a, 0, FB_KERNEL)) != NULL)
        n++;
    CHECK(atomic_load(&sink.writeback_errors) >= 1); /* logged as an error, with the code writeback returned */
    CHECK(strstr(sink.last, "allocation failed") != NULL);
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, held[i], 0), FB_OK);
    for (int i = 0; i < 100; i++)
        CHECK_STATUS(fb_cache_remove(a, cached[i]), FB_OK);
    CHECK_STATUS(fb_validate(a), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

typedef struct oom_state {
    atomic_int calls;
    void* spare;       /* freed by the handler to let the allocation succeed */
    uint32_t order;
    uint32_t flags;
    fb_arena* arena_seen;
} oom_state;

static int release_spare(void* ctx, fb_arena* arena, uint32_t order, uint32_t flags)
{
    oom_state* s = (oom_state*)ctx;
    atomic_fetch_add(&s->calls, 1);
    s->order = order;
    s->flags = flags;
    s->arena_seen = arena;
    if (s->spare == NULL)
        return 0;
    int ok = fb_free_pages(arena, s->spare, 3) == FB_OK;
    s->spare = NULL;
    return ok; /* retry once */
}

FB_TEST(out_of_memory_handler_frees_and_retries)
{
    static oom_state state;
    memset(&state, 0, sizeof state);
    fb_options o;
    fbt_default_options(&o, 256 * KIB); /* 64 pages */
    o.out_of_memory = release_spare;
    o.out_of_memory_ctx = &state;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    /* 7 blocks of 8 pages and 7 single pages: one page stays free */
    void* blocks[8];
    void* singles[7];
    for (int i = 0; i < 7; i++) {
        blocks[i] = fb_alloc_pages(a, 3, FB_MEMALLOC);
        REQUIRE(blocks[i] != NULL);
    }
    for (int i = 0; i < 7; i++) {
        singles[i] = fb_alloc_pages(a, 0, FB_MEMALLOC);
        REQUIRE(singles[i] != NULL);
    }
    CHECK_EQ(atomic_load(&state.calls), 0);
    int n = 7;
    state.spare = blocks[--n];
    void* p = fb_alloc_pages(a, 3, FB_KERNEL);
    CHECK(p != NULL);
    CHECK_EQ(atomic_load(&state.calls), 1);
    CHECK(state.arena_seen == a);
    CHECK_EQ(state.order, 3);
    CHECK_EQ(state.flags & FB_WAIT, FB_WAIT);
    /* nothing more to give: the handler says no and the allocation fails */
    CHECK(fb_alloc_pages(a, 3, FB_ATOMIC) == NULL);
    CHECK_EQ(atomic_load(&state.calls), 2);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    if (p != NULL)
        blocks[n++] = p;
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free_pages(a, blocks[i], 3), FB_OK);
    for (int i = 0; i < 7; i++)
        CHECK_STATUS(fb_free_pages(a, singles[i], 0), FB_OK);
    CHECK_ARENA(a, 64);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
