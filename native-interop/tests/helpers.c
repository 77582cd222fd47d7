#define _POSIX_C_SOURCE 200809L
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fbtest.h"

void fbt_default_options(fb_options* o, size_t bytes)
{
    CHECK_STATUS(fb_options_init(o), FB_OK);
    o->arena_bytes = bytes;
    o->background_reclaim = 0;
    o->alloc_wait_ms = 20;
}

fb_arena* fbt_arena_with(const fb_options* o)
{
    fb_arena* a = NULL;
    CHECK_STATUS(fb_arena_create(o, &a), FB_OK); /* prints fb_last_error_message on failure */
    CHECK(a != NULL);
    return a;
}

fb_arena* fbt_arena(size_t bytes)
{
    fb_options o;
    fbt_default_options(&o, bytes);
    return fbt_arena_with(&o);
}

fb_arena* fbt_arena_two_zones(size_t dma_bytes, size_t normal_bytes)
{
    fb_zone_options zones[2] = {
        { "DMA", dma_bytes, 0 },
        { "Normal", normal_bytes, 0 },
    };
    fb_options o;
    fbt_default_options(&o, 0);
    o.zones = zones;
    o.zone_count = 2;
    return fbt_arena_with(&o);
}

fb_stats fbt_stats(fb_arena* a)
{
    fb_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_STATUS(fb_get_stats(a, &s), FB_OK);
    return s;
}

fb_zone_stats fbt_zone_stats(fb_arena* a, uint32_t zone)
{
    fb_zone_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_STATUS(fb_get_zone_stats(a, zone, &s), FB_OK);
    return s;
}

void fbt_check_arena(fb_arena* a, int64_t expected_free, const char* file, int line)
{
    int status = fb_validate(a);
    if (status != FB_OK)
        fbt_fail_status(file, line, "fb_validate(a)", status, FB_OK);
    if (expected_free >= 0) {
        fb_stats s = fbt_stats(a);
        if (s.free_pages + s.per_cpu_pages != expected_free)
            fbt_fail_eq(file, line, "free_pages + per_cpu_pages", "expected", s.free_pages + s.per_cpu_pages,
                        expected_free);
    }
}

void fbt_fill(void* p, size_t n, uint32_t seed)
{
    unsigned char* b = (unsigned char*)p;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
}

int fbt_check_fill(const void* p, size_t n, uint32_t seed)
{
    const unsigned char* b = (const unsigned char*)p;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        if (b[i] != (unsigned char)(x >> 16))
            return 0;
    }
    return 1;
}

int64_t fbt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fbt_scale(int n)
{
    const char* quick = getenv("FBT_QUICK");
    if (quick == NULL || quick[0] == '\0' || quick[0] == '0')
        return n;
    return n / 20 > 0 ? n / 20 : 1;
}

int fbt_under_valgrind(void)
{
    const char* v = getenv("FBT_VALGRIND");
    return v != NULL && v[0] != '\0' && v[0] != '0';
}

void fbt_check_trimmed(fb_arena* a, int64_t expected_free, const char* file, int line)
{
    int64_t trimmed = fb_trim(a);
    if (trimmed < 0)
        fbt_fail_status(file, line, "fb_trim(a)", (int)-trimmed, FB_OK);
    fbt_check_arena(a, expected_free, file, line);
    fb_stats s = fbt_stats(a);
    if (expected_free == s.total_pages && (s.slab_pages != 0 || s.slab_objects != 0))
        fbt_fail_eq(file, line, "slab_pages + slab_objects", "0", s.slab_pages + s.slab_objects, 0);
}
