/*
 * alloc_bench.c - FastBuddy's page pair from C, against the C allocators, in one process.
 *
 * For each block size (4 KiB = order 0, 64 KiB = order 4, 1 MiB = order 8) and each allocator, times batches of
 * alloc + free pairs and prints the median ns per pair as a markdown table:
 *   fastbuddy (inline)   fb_alloc_pages(arena, order, FB_ATOMIC) + fb_free_pages as fastbuddy.h compiles them: the
 *                        header's inline path on the thread's magazine, calling libfastbuddy.so only on a miss
 *                        (one 512 MiB zone, 4 KiB pages, background_reclaim = 0)
 *   fastbuddy (exports)  the same through the plain exported functions, (fb_alloc_pages)(...): the route of hosts
 *                        that cannot use the inline path (FFI), paying NativeAOT's entry and exit on every call
 *   glibc      malloc(size) + free
 *   tcmalloc   tc_malloc + tc_free       (libtcmalloc_minimal.so.4, dlopen)
 *   jemalloc   malloc + free of the lib  (libjemalloc.so.2, dlopen)
 *   mimalloc   mi_malloc + mi_free       (libmimalloc.so.2, dlopen)
 * A peer that cannot be loaded is skipped with a message. The batches of all allocators are interleaved (round
 * after round), so that noise from other jobs on the machine spreads over all of them alike.
 *
 * Debian's libjemalloc.so.2 needs more static TLS than glibc keeps for dlopen; when its dlopen fails for that
 * reason the program runs itself again with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384.
 *
 * Usage: fastbuddy_alloc_bench [--batches N (11)] [--batch-ms MS (20)] [--arena-mib N (512)]
 */
#define _GNU_SOURCE
#include <fastbuddy.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATIC_TLS_TUNABLE "glibc.rtld.optional_static_tls=16384"

typedef void* (*malloc_fn)(size_t);
typedef void (*free_fn)(void*);

enum kind { KIND_FASTBUDDY, KIND_FASTBUDDY_EXPORTS, KIND_GLIBC, KIND_PEER };

typedef struct allocator {
    const char* name;
    enum kind kind;
    malloc_fn malloc;
    free_fn free;
    const char* detail;
} allocator;

static const unsigned k_orders[] = {0, 4, 8};
#define SIZES (sizeof(k_orders) / sizeof(k_orders[0]))
#define PAGE 4096u
#define MAX_ALLOCATORS 6
#define MAX_BATCHES 101

static fb_arena* g_arena;
static void* volatile g_sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One loop per kind, so the measured calls are direct (glibc), through the PLT (libfastbuddy) or through a
 * function pointer from dlsym (the peers) - exactly how a C host would call each of them. */
static double run_fastbuddy(long pairs, unsigned order)
{
    fb_arena* arena = g_arena;
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        void* p = fb_alloc_pages(arena, order, FB_ATOMIC);
        g_sink = p;
        fb_free_pages(arena, p, order);
    }
    double t1 = now_ns();
    if (g_sink == NULL) {
        fprintf(stderr, "fb_alloc_pages(order %u) failed: %s\n", order, fb_strerror(fb_last_error()));
        exit(1);
    }
    return t1 - t0;
}

static double run_fastbuddy_exports(long pairs, unsigned order)
{
    fb_arena* arena = g_arena;
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        void* p = (fb_alloc_pages)(arena, order, FB_ATOMIC);
        g_sink = p;
        (fb_free_pages)(arena, p, order);
    }
    return now_ns() - t0;
}

static double run_glibc(long pairs, size_t size)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        void* p = malloc(size);
        g_sink = p;
        free(p);
    }
    return now_ns() - t0;
}

static double run_peer(const allocator* a, long pairs, size_t size)
{
    malloc_fn m = a->malloc;
    free_fn f = a->free;
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        void* p = m(size);
        g_sink = p;
        f(p);
    }
    return now_ns() - t0;
}

static double run(const allocator* a, long pairs, unsigned order)
{
    size_t size = (size_t)PAGE << order;
    switch (a->kind) {
    case KIND_FASTBUDDY: return run_fastbuddy(pairs, order);
    case KIND_FASTBUDDY_EXPORTS: return run_fastbuddy_exports(pairs, order);
    case KIND_GLIBC: return run_glibc(pairs, size);
    default: return run_peer(a, pairs, size);
    }
}

static int cmp_double(const void* x, const void* y)
{
    double a = *(const double*)x, b = *(const double*)y;
    return (a > b) - (a < b);
}

static int needs_static_tls(const char* err)
{
    return err != NULL && strstr(err, "static TLS") != NULL;
}

/* dlopen a peer; on failure print why and return 0 (the caller skips it). Sets *restart when only the static TLS
 * surplus is missing and the tunable is not set yet. */
static int load_peer(allocator* a, const char* name, const char* lib, const char* m, const char* f, const char* pkg,
                     int* restart)
{
    void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char* err = dlerror();
        const char* tunables = getenv("GLIBC_TUNABLES");
        if (needs_static_tls(err) && (tunables == NULL || strstr(tunables, "optional_static_tls") == NULL)) {
            *restart = 1;
            return 0;
        }
        printf("peer %s missing: skipped (%s; Debian package %s)\n", name, err ? err : "dlopen failed", pkg);
        return 0;
    }
    /* dlsym on the library's own handle finds its symbols first (jemalloc exports plain malloc/free). */
    malloc_fn mf = (malloc_fn)dlsym(h, m);
    free_fn ff = (free_fn)dlsym(h, f);
    if (mf == NULL || ff == NULL) {
        printf("peer %s missing: skipped (%s has no %s/%s)\n", name, lib, m, f);
        return 0;
    }
    a->name = name;
    a->kind = KIND_PEER;
    a->malloc = mf;
    a->free = ff;
    a->detail = lib;
    return 1;
}

static void restart_with_tunable(char** argv)
{
    const char* old = getenv("GLIBC_TUNABLES");
    char buf[512];
    if (old != NULL && *old != '\0')
        snprintf(buf, sizeof buf, "%s:%s", old, STATIC_TLS_TUNABLE);
    else
        snprintf(buf, sizeof buf, "%s", STATIC_TLS_TUNABLE);
    setenv("GLIBC_TUNABLES", buf, 1);
    fflush(stdout);
    execv("/proc/self/exe", argv);
    perror("execv /proc/self/exe");
}

int main(int argc, char** argv)
{
    int batches = 11;
    double batch_ms = 20;
    size_t arena_mib = 512;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--batches") == 0)
            batches = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--batch-ms") == 0)
            batch_ms = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--arena-mib") == 0)
            arena_mib = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--batches N] [--batch-ms MS] [--arena-mib N]\n", argv[0]);
            return 2;
        }
    }
    if (batches < 1 || batches > MAX_BATCHES || batch_ms <= 0 || arena_mib < 16) {
        fprintf(stderr, "bad arguments (batches 1..%d, batch-ms > 0, arena-mib >= 16)\n", MAX_BATCHES);
        return 2;
    }

    allocator all[MAX_ALLOCATORS];
    int n = 0;
    all[n++] = (allocator){"fastbuddy (inline)", KIND_FASTBUDDY, NULL, NULL, "fastbuddy.h's inline fb_alloc_pages/fb_free_pages, FB_ATOMIC"};
    all[n++] = (allocator){"fastbuddy (exports)", KIND_FASTBUDDY_EXPORTS, NULL, NULL, "libfastbuddy.so's exported functions, FB_ATOMIC"};
    all[n++] = (allocator){"glibc", KIND_GLIBC, malloc, free, "malloc/free"};
    int restart = 0;
    n += load_peer(&all[n], "tcmalloc", "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free", "libtcmalloc-minimal4", &restart);
    n += load_peer(&all[n], "jemalloc", "libjemalloc.so.2", "malloc", "free", "libjemalloc2", &restart);
    n += load_peer(&all[n], "mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free", "libmimalloc2.0", &restart);
    if (restart) {
        restart_with_tunable(argv);
        printf("peer jemalloc missing: skipped (needs GLIBC_TUNABLES=%s)\n", STATIC_TLS_TUNABLE);
    }

    fb_options o;
    fb_options_init(&o);
    o.arena_bytes = arena_mib << 20;
    o.page_size = PAGE;
    o.background_reclaim = 0;
    int st = fb_arena_create(&o, &g_arena);
    if (st != FB_OK) {
        fprintf(stderr, "fb_arena_create: %s\n", fb_strerror(st));
        return 1;
    }

    /* Calibrate: pairs per batch so that one batch takes about batch_ms (after a warm-up). */
    long pairs[MAX_ALLOCATORS][SIZES];
    for (int a = 0; a < n; a++) {
        for (size_t s = 0; s < SIZES; s++) {
            long probe = 20000;
            run(&all[a], probe, k_orders[s]);
            double t = run(&all[a], probe, k_orders[s]);
            double per = t / (double)probe;
            long want = (long)(batch_ms * 1e6 / (per > 0.5 ? per : 0.5));
            pairs[a][s] = want < 10000 ? 10000 : want;
        }
    }

    static double samples[MAX_ALLOCATORS][SIZES][MAX_BATCHES];
    for (int b = 0; b < batches; b++) {
        for (size_t s = 0; s < SIZES; s++) {
            for (int a = 0; a < n; a++)
                samples[a][s][b] = run(&all[a], pairs[a][s], k_orders[s]) / (double)pairs[a][s];
        }
    }

    double med[MAX_ALLOCATORS][SIZES];
    for (int a = 0; a < n; a++) {
        for (size_t s = 0; s < SIZES; s++) {
            qsort(samples[a][s], (size_t)batches, sizeof(double), cmp_double);
            med[a][s] = samples[a][s][batches / 2];
        }
    }

    int tc = -1;
    for (int a = 0; a < n; a++) {
        if (strcmp(all[a].name, "tcmalloc") == 0)
            tc = a;
    }

    printf("\nlibfastbuddy %s; median of %d interleaved batches of about %.0f ms each; ns per alloc+free pair\n\n",
           fb_version(), batches, batch_ms);
    printf("| allocator | 4 KiB pair | 64 KiB pair | 1 MiB pair | 4 KiB vs tcmalloc | what is called |\n");
    printf("|---|---:|---:|---:|---:|---|\n");
    for (int a = 0; a < n; a++) {
        char rel[32] = "-";
        if (tc >= 0)
            snprintf(rel, sizeof rel, "%.2fx", med[a][0] / med[tc][0]);
        printf("| %s | %.2f | %.2f | %.2f | %s | %s |\n", all[a].name, med[a][0], med[a][1], med[a][2], rel,
               all[a].detail);
    }
    printf("\n");
    if (tc >= 0) {
        printf("fastbuddy (inline) order-0 pair / tcmalloc malloc(4096)+free: %.2fx (target: <= 1.5x)\n", med[0][0] / med[tc][0]);
        printf("fastbuddy (exports) order-0 pair / tcmalloc malloc(4096)+free: %.2fx (the plain route, reported beside it)\n", med[1][0] / med[tc][0]);
    }
    else
        printf("tcmalloc missing: the target ratio (docs/design.md: fastbuddy order-0 pair within 1.5x of tcmalloc) cannot be computed\n");

    fb_validate(g_arena);
    fb_arena_destroy(g_arena);
    return 0;
}
