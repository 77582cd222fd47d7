/*
 * pair_timing.c - how long one fb_alloc_pages(order 0) + fb_free_pages pair takes from C, next to
 * malloc(4096) + free in the same run. A quick check, not the benchmark suite (bench/ has that).
 * Usage: fastbuddy_pair_timing [pairs]
 */
#define _POSIX_C_SOURCE 200809L
#include <fastbuddy.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char** argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 20000000L;
    fb_options o;
    fb_options_init(&o);
    o.arena_bytes = 64u << 20;
    fb_arena* arena = NULL;
    if (fb_arena_create(&o, &arena) != FB_OK)
        return 1;

    void* volatile sink;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ns();
        for (long i = 0; i < pairs; i++) {
            void* p = fb_alloc_pages(arena, 0, FB_KERNEL);
            sink = p;
            fb_free_pages(arena, p, 0);
        }
        double t1 = now_ns();
        for (long i = 0; i < pairs; i++) {
            void* p = malloc(4096);
            sink = p;
            free(p);
        }
        double t2 = now_ns();
        printf("fb_alloc_pages+fb_free_pages: %6.2f ns/pair   malloc(4096)+free: %6.2f ns/pair\n",
               (t1 - t0) / (double)pairs, (t2 - t1) / (double)pairs);
    }
    (void)sink;
    fb_arena_destroy(arena);
    return 0;
}
