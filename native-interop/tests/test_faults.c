/* A create the operating system refuses: FB_ERR_NO_MEMORY, *out NULL, a message, and nothing kept. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"

/* Virtual size of this process in KiB (/proc/self/status VmSize), or -1. */
static long long vm_size_kib(void)
{
    FILE* f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %lld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Zone "Small" of 256 MiB, then zone "Huge" of a petabyte (2^30 pages of 1 MiB): no address space holds it. */
static int create_refused(void)
{
    fb_zone_options zones[2] = { { "Small", 256u << 20, 0 }, { "Huge", (size_t)1 << 50, 0 } };
    fb_options o;
    fbt_default_options(&o, 0);
    o.page_size = 1u << 20;
    o.zones = zones;
    o.zone_count = 2;
    fb_arena* a = (fb_arena*)(uintptr_t)0x1234; /* must be overwritten with NULL */
    int status = fb_arena_create(&o, &a);
    if (status == FB_OK)
        fb_arena_destroy(a);
    else
        CHECK(a == NULL);
    return status;
}

FB_TEST(create_refused_by_the_os_is_no_memory)
{
    if (fbt_under_valgrind())
        return; /* valgrind's memalign aborts on alignments of 1 GiB */
    CHECK_STATUS(create_refused(), FB_ERR_NO_MEMORY);
    CHECK_EQ(fb_last_error(), FB_ERR_NO_MEMORY);
    const char* message = fb_last_error_message();
    CHECK(message != NULL && message[0] != '\0');
}

FB_TEST(create_refused_by_the_os_keeps_no_reservation)
{
    if (fbt_under_valgrind())
        return;
    CHECK_STATUS(create_refused(), FB_ERR_NO_MEMORY); /* warm up: the runtime's own first-use mappings */
    long long before = vm_size_kib();
    REQUIRE(before > 0);
    for (int i = 0; i < 32; i++)
        CHECK_STATUS(create_refused(), FB_ERR_NO_MEMORY);
    long long grown = vm_size_kib() - before;
    /* A leaked "Small" zone would add 256 MiB per try: 8 GiB after 32 tries. */
    if (grown >= 256 * 1024)
        fprintf(stderr, "VmSize grew by %lld KiB over 32 refused creates\n", grown);
    CHECK(grown < 256 * 1024);
    /* The same process still creates arenas. */
    fb_arena* a = fbt_arena(1u << 20);
    REQUIRE(a != NULL);
    CHECK_STATUS(fb_validate(a), FB_OK);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
