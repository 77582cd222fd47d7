/* Shared helpers of the FastBuddy C tests: arenas of known shape and a few checks. */
#ifndef FB_TEST_HELPERS_H
#define FB_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include <fastbuddy.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

/* One zone "Normal" of `bytes`, 4 KiB pages, 11 orders, no background thread, 20 ms wait. NULL on failure (checked). */
fb_arena* fbt_arena(size_t bytes);

/* Options for fbt_arena, to change before fbt_arena_with. */
void fbt_default_options(fb_options* o, size_t bytes);
fb_arena* fbt_arena_with(const fb_options* o);

/* Two zones "DMA" (dma_bytes) and "Normal" (normal_bytes), otherwise as fbt_arena. */
fb_arena* fbt_arena_two_zones(size_t dma_bytes, size_t normal_bytes);

/* fb_get_stats with struct_size set; checks FB_OK. */
fb_stats fbt_stats(fb_arena* a);
fb_zone_stats fbt_zone_stats(fb_arena* a, uint32_t zone);

/* Checks fb_validate == FB_OK and that free_pages equals `expected_free` (skipped when negative). */
void fbt_check_arena(fb_arena* a, int64_t expected_free, const char* file, int line);
#define CHECK_ARENA(a, expected_free) fbt_check_arena((a), (expected_free), __FILE__, __LINE__)

/* fb_trim (every magazine drained, every empty slab given back; checks it succeeds), then CHECK_ARENA, and that no
   page is left in a slab when expected_free is the whole arena: "everything came back" after objects were used. */
void fbt_check_trimmed(fb_arena* a, int64_t expected_free, const char* file, int line);
#define CHECK_TRIMMED(a, expected_free) fbt_check_trimmed((a), (expected_free), __FILE__, __LINE__)

/* Fills n bytes with a pattern derived from seed, and checks it. */
void fbt_fill(void* p, size_t n, uint32_t seed);
int fbt_check_fill(const void* p, size_t n, uint32_t seed);

/* n, or n / 20 (at least 1) when FBT_QUICK is set (the valgrind runs). */
int fbt_scale(int n);

/* Nonzero in the valgrind runs (FBT_VALGRIND set by CMake). */
int fbt_under_valgrind(void);

/* Monotonic milliseconds. */
int64_t fbt_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
