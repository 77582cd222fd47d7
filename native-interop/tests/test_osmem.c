/* Memory from and back to the OS: mmap'd zones, munmap on destroy, guard pages, decommit, the new options and stats. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fbtest.h"
#include "helpers.h"

_Static_assert(offsetof(fb_options, decommit_after_ms) == 112, "fb_options layout");
_Static_assert(offsetof(fb_options, reserved2) == 132, "fb_options layout");
_Static_assert(offsetof(fb_stats, committed_bytes) == 216, "fb_stats layout");
_Static_assert(offsetof(fb_zone_stats, committed_bytes) == 368, "fb_zone_stats layout");

/* The permissions ("rw-p", "---p") of the mapping that holds `address`, or "" when it lies in none. */
static void mapping_of(uintptr_t address, char perms[5])
{
    perms[0] = '\0';
    FILE* maps = fopen("/proc/self/maps", "r");
    if (maps == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, maps) != NULL)
    {
        unsigned long start, end;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, p) == 3 && address >= start && address < end)
        {
            memcpy(perms, p, 5);
            break;
        }
    }
    fclose(maps);
}

/* Resident bytes of this process, from /proc/self/statm. */
static int64_t resident_bytes(void)
{
    FILE* statm = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (statm == NULL)
        return -1;
    if (fscanf(statm, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(statm);
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static fb_arena* decommitting_arena(size_t bytes, int64_t after_ms)
{
    fb_options o;
    fbt_default_options(&o, bytes);
    o.decommit_after_ms = after_ms;
    return fbt_arena_with(&o);
}

FB_TEST(osmem_options_init_defaults)
{
    fb_options o;
    memset(&o, 0xAB, sizeof o);
    CHECK_STATUS(fb_options_init(&o), FB_OK);
    CHECK(o.decommit_after_ms < 0);
    CHECK(o.decommit_min_order < 0);
    CHECK_EQ(o.guard_pages, 0);
    CHECK_EQ(o.transparent_huge_pages, 0);
    CHECK_EQ(o.reserved2, 0);
}

FB_TEST(osmem_bad_decommit_options_and_reserved2_are_refused)
{
    fb_options o;
    fbt_default_options(&o, 1 * MIB);
    o.decommit_min_order = 11; /* max_order is 11: orders 0 .. 10 */
    fb_arena* a = NULL;
    CHECK_STATUS(fb_arena_create(&o, &a), FB_ERR_INVALID_ARGUMENT);
    CHECK(a == NULL);
    fbt_default_options(&o, 1 * MIB);
    o.reserved2 = 1;
    CHECK_STATUS(fb_arena_create(&o, &a), FB_ERR_INVALID_ARGUMENT);
    CHECK(a == NULL);
    fbt_default_options(&o, 1 * MIB);
    o.decommit_after_ms = INT64_MAX; /* beyond what a TimeSpan holds */
    CHECK_STATUS(fb_arena_create(&o, &a), FB_ERR_INVALID_ARGUMENT);
    CHECK(a == NULL);
}

FB_TEST(osmem_destroyed_arena_is_unmapped)
{
    fb_arena* a = fbt_arena(8 * MIB);
    REQUIRE(a != NULL);
    char* p = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL);
    p[0] = 1;
    char perms[5];
    mapping_of((uintptr_t)p, perms);
    CHECK(strcmp(perms, "rw-p") == 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    mapping_of((uintptr_t)p, perms);
    CHECK(strcmp(perms, "") == 0); /* a stale pointer now faults instead of landing in the host's heap */
}

FB_TEST(osmem_guard_pages_surround_the_zone)
{
    fb_options o;
    fbt_default_options(&o, 4 * MIB);
    o.guard_pages = 1;
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    char* page = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(page != NULL);
    /* the zone is aligned to its largest block, 4 MiB, and is exactly one of them */
    uintptr_t base = (uintptr_t)page & ~(uintptr_t)(4 * MIB - 1), end = base + 4 * MIB;
    CHECK_EQ(fb_owns(a, (void*)base), 1);
    CHECK_EQ(fb_owns(a, (void*)(end - 1)), 1);
    char perms[5];
    mapping_of(base - 1, perms);
    CHECK(strcmp(perms, "---p") == 0);
    mapping_of(end, perms);
    CHECK(strcmp(perms, "---p") == 0);
    mapping_of(base, perms);
    CHECK(strcmp(perms, "rw-p") == 0);
    CHECK_STATUS(fb_free_pages(a, page, 0), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(osmem_fresh_arena_is_all_decommitted_and_allocation_commits)
{
    fb_arena* a = fbt_arena(8 * MIB); /* two blocks of order 10 (4 MiB) */
    REQUIRE(a != NULL);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.committed_bytes, 0);
    CHECK_EQ(s.decommitted_bytes, 8 * MIB);
    void* p = fb_alloc_pages(a, 0, FB_KERNEL);
    REQUIRE(p != NULL);
    s = fbt_stats(a);
    fb_zone_stats z = fbt_zone_stats(a, 0);
    CHECK_EQ(s.committed_bytes, 4 * MIB); /* the unit (a top-order block) it came from */
    CHECK_EQ(s.committed_bytes + s.decommitted_bytes, 8 * MIB);
    CHECK_EQ(z.committed_bytes, s.committed_bytes);
    CHECK_EQ(z.decommitted_bytes, s.decommitted_bytes);
    CHECK_STATUS(fb_free_pages(a, p, 0), FB_OK);
    CHECK_STATUS(fb_balance(a), FB_OK); /* decommit is off by default: nothing goes back */
    s = fbt_stats(a);
    CHECK_EQ(s.committed_bytes, 4 * MIB);
    CHECK_EQ(s.decommits, 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(osmem_balance_decommits_free_blocks_and_they_stay_allocatable)
{
    fb_options o;
    fbt_default_options(&o, 16 * MIB);
    o.decommit_after_ms = 0;
    o.per_cpu_pages = 0; /* every page goes straight back to the buddy system and merges */
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    enum { N = 2048 }; /* 8 MiB */
    static char* pages[N];
    for (int i = 0; i < N; i++)
    {
        pages[i] = fb_alloc_pages(a, 0, FB_KERNEL);
        REQUIRE(pages[i] != NULL);
        memset(pages[i], 0x5A, 4096);
    }
    CHECK_EQ(fbt_stats(a).committed_bytes, 8 * MIB);
    for (int i = 0; i < N; i++)
        CHECK_STATUS(fb_free_pages(a, pages[i], 0), FB_OK);
    CHECK_STATUS(fb_balance(a), FB_OK);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.committed_bytes, 0);
    CHECK_EQ(s.decommitted_bytes, 16 * MIB);
    CHECK_EQ(s.decommits, 2);
    CHECK_EQ(fbt_zone_stats(a, 0).decommits, 2);
    /* decommitted blocks are allocated as usual and read as zero */
    char* big = fb_alloc_pages(a, 10, FB_KERNEL);
    REQUIRE(big != NULL);
    int zero = 1;
    for (size_t i = 0; i < 4 * MIB; i += 4096)
        zero &= big[i] == 0;
    CHECK(zero);
    fbt_fill(big, 4 * MIB, 7);
    CHECK(fbt_check_fill(big, 4 * MIB, 7));
    CHECK_EQ(fbt_stats(a).committed_bytes, 4 * MIB);
    CHECK_STATUS(fb_free_pages(a, big, 10), FB_OK);
    CHECK_ARENA(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(osmem_blocks_younger_than_decommit_after_stay_committed)
{
    fb_arena* a = decommitting_arena(8 * MIB, 60 * 60 * 1000);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 10, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 10), FB_OK);
    CHECK_STATUS(fb_balance(a), FB_OK);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.decommits, 0);
    CHECK_EQ(s.committed_bytes, 4 * MIB);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(osmem_resident_size_falls_after_decommit)
{
    fb_arena* a = decommitting_arena(96 * MIB, 0);
    REQUIRE(a != NULL);
    enum { BLOCKS = 64 }; /* 64 blocks of order 8 (1 MiB): 64 MiB */
    char* blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++)
    {
        blocks[i] = fb_alloc_pages(a, 8, FB_KERNEL);
        REQUIRE(blocks[i] != NULL);
        memset(blocks[i], 1, 1 * MIB);
    }
    int64_t touched = resident_bytes();
    for (int i = 0; i < BLOCKS; i++)
        CHECK_STATUS(fb_free_pages(a, blocks[i], 8), FB_OK);
    CHECK_STATUS(fb_balance(a), FB_OK);
    int64_t after = resident_bytes();
    printf("resident size: %lld MiB with 64 MiB touched, %lld MiB after fb_balance decommitted them\n",
           (long long)(touched >> 20), (long long)(after >> 20));
    CHECK(touched - after >= 48 * (int64_t)MIB);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(osmem_host_built_against_the_older_fb_options_gets_no_decommit)
{
    fb_options o;
    fbt_default_options(&o, 8 * MIB);
    o.decommit_after_ms = 0;                               /* beyond the older struct: must not be read */
    o.struct_size = offsetof(fb_options, decommit_after_ms); /* 112: fastbuddy.h before these fields */
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    void* p = fb_alloc_pages(a, 10, FB_KERNEL);
    REQUIRE(p != NULL);
    CHECK_STATUS(fb_free_pages(a, p, 10), FB_OK);
    CHECK_STATUS(fb_balance(a), FB_OK);
    CHECK_EQ(fbt_stats(a).decommits, 0);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
