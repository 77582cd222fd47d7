/*
 * alloc_bench.c - FastBuddy from C, against the C allocators, in one process.
 *
 * Three tables, each the median over interleaved batches (round after round, every allocator and case in each
 * round, so that noise from other jobs on the machine spreads over all of them alike):
 *  1. page pairs: alloc + free of 4 KiB (order 0), 64 KiB (order 4) and 1 MiB (order 8), ns per pair;
 *  2. small-object pairs: alloc + free of 16, 64, 256 and 1024 bytes, ns per pair;
 *  3. producer -> consumer: a producer thread allocates objects of 16, 64, 256 and 1024 bytes and hands each
 *     through a bounded single-producer / single-consumer ring (256 slots) to a consumer thread that frees it
 *     (every object freed by another thread than its allocator's); ns per object, from the start of a batch on both
 *     threads to its end. The two threads persist over the run (a barrier starts and ends each batch).
 * The allocators:
 *   fastbuddy (inline)   as fastbuddy.h compiles the calls: pages through fb_alloc_pages(arena, order, FB_ATOMIC) +
 *                        fb_free_pages, bytes through fb_alloc(arena, size, FB_KERNEL) + fb_free; the header's
 *                        inline path on the thread's magazine, calling libfastbuddy.so only on a miss (where the
 *                        header has no inline path for fb_alloc/fb_free, the exports; the table says which)
 *   fastbuddy (exports)  the same through the plain exported functions, (fb_alloc_pages)(...), (fb_alloc)(...): the
 *                        route of hosts that cannot use the inline path (FFI), paying NativeAOT's entry and exit
 *   glibc      malloc(size) + free
 *   tcmalloc   tc_malloc + tc_free       (libtcmalloc_minimal.so.4, dlopen)
 *   jemalloc   malloc + free of the lib  (libjemalloc.so.2, dlopen)
 *   mimalloc   mi_malloc + mi_free       (libmimalloc.so.2, dlopen)
 * One FastBuddy arena serves everything: one zone of --arena-mib (512) MiB, 4 KiB pages, background_reclaim = 0,
 * the default magazines. A peer that cannot be loaded is skipped with a message. Nothing writes into the blocks.
 *
 * Debian's libjemalloc.so.2 needs more static TLS than glibc keeps for dlopen; when its dlopen fails for that
 * reason the program runs itself again with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384.
 *
 * Usage: fastbuddy_alloc_bench [--batches N (11)] [--batch-ms MS (20)] [--arena-mib N (512)]
 *        (a smoke run: --batches 1 --batch-ms 1)
 */
#define _GNU_SOURCE
#include <fastbuddy.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
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
    const char* detail;       /* what the page pairs call */
    const char* bytes_detail; /* what the small-object cases call; NULL: the same */
} allocator;

/* What one batch does: page pairs of an order, small-object pairs of a size, or a hand-off of objects of a size. */
enum shape { SHAPE_PAGES, SHAPE_BYTES, SHAPE_HANDOFF };

typedef struct bench_case {
    enum shape shape;
    size_t size;    /* bytes (for SHAPE_PAGES: the block's) */
    unsigned order; /* SHAPE_PAGES only */
} bench_case;

#define PAGE 4096u
static const bench_case k_cases[] = {
    {SHAPE_PAGES, PAGE << 0, 0}, {SHAPE_PAGES, PAGE << 4, 4}, {SHAPE_PAGES, PAGE << 8, 8},
    {SHAPE_BYTES, 16, 0}, {SHAPE_BYTES, 64, 0}, {SHAPE_BYTES, 256, 0}, {SHAPE_BYTES, 1024, 0},
    {SHAPE_HANDOFF, 16, 0}, {SHAPE_HANDOFF, 64, 0}, {SHAPE_HANDOFF, 256, 0}, {SHAPE_HANDOFF, 1024, 0},
};
#define CASES (sizeof(k_cases) / sizeof(k_cases[0]))
#define MAX_ALLOCATORS 6
#define MAX_BATCHES 101
#define BYTE_FLAGS FB_KERNEL /* what C# BuddyArena.Alloc(bytes) uses by default */

static fb_arena* g_arena;
static void* volatile g_sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ pairs */

/* The body of one timed loop of `pairs` alloc + free pairs (ALLOC an expression giving p, FREE a statement on p).
 * One loop per allocator and route, so that the measured calls are direct (glibc), inline or through the PLT
 * (libfastbuddy) or through a function pointer from dlsym (the peers) - exactly how a C host would call each. */
#define TIMED_PAIRS(ALLOC, FREE)          \
    double t0 = now_ns();                 \
    for (long i = 0; i < pairs; i++) {    \
        void* p = (ALLOC);                \
        g_sink = p;                       \
        FREE;                             \
    }                                     \
    return now_ns() - t0

static double pairs_fastbuddy_pages(long pairs, unsigned order)
{
    fb_arena* arena = g_arena;
    TIMED_PAIRS(fb_alloc_pages(arena, order, FB_ATOMIC), fb_free_pages(arena, p, order));
}

static double pairs_fastbuddy_pages_exports(long pairs, unsigned order)
{
    fb_arena* arena = g_arena;
    TIMED_PAIRS((fb_alloc_pages)(arena, order, FB_ATOMIC), (fb_free_pages)(arena, p, order));
}

static double pairs_fastbuddy_bytes(long pairs, size_t size)
{
    fb_arena* arena = g_arena;
    TIMED_PAIRS(fb_alloc(arena, size, BYTE_FLAGS), fb_free(arena, p));
}

static double pairs_fastbuddy_bytes_exports(long pairs, size_t size)
{
    fb_arena* arena = g_arena;
    TIMED_PAIRS((fb_alloc)(arena, size, BYTE_FLAGS), (fb_free)(arena, p));
}

static double pairs_glibc(long pairs, size_t size)
{
    TIMED_PAIRS(malloc(size), free(p));
}

static double pairs_peer(const allocator* a, long pairs, size_t size)
{
    malloc_fn m = a->malloc;
    free_fn f = a->free;
    TIMED_PAIRS(m(size), f(p));
}

/* ------------------------------------------------------------------ producer -> consumer */

/* A bounded single-producer / single-consumer ring. tail is written by the producer only, head by the consumer
 * only (release stores, acquire loads); each side keeps a private copy of the other's index and reloads it only
 * when the ring looks full (producer) or empty (consumer). Each word has 128 bytes (a line and its prefetch pair). */
#define RING_SLOTS 256
#define LINE 128
typedef struct ring {
    _Alignas(LINE) long tail;
    _Alignas(LINE) long head;
    _Alignas(LINE) long producer_head;
    _Alignas(LINE) long consumer_tail;
    _Alignas(LINE) void* slots[RING_SLOTS];
} ring;

/* Spins a little, then yields (never sleeps: a sleep would dominate the figure). */
static void backoff(unsigned* spins)
{
    if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __asm__ __volatile__("pause");
#endif
    }
    else
        sched_yield();
}

static void ring_push(ring* r, void* p)
{
    long tail = r->tail;
    unsigned spins = 0;
    while (tail - r->producer_head == RING_SLOTS) {
        r->producer_head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        if (tail - r->producer_head == RING_SLOTS)
            backoff(&spins);
    }
    r->slots[tail & (RING_SLOTS - 1)] = p;
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
}

static void* ring_pop(ring* r)
{
    long head = r->head;
    unsigned spins = 0;
    while (head == r->consumer_tail) {
        r->consumer_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        if (head == r->consumer_tail)
            backoff(&spins);
    }
    void* p = r->slots[head & (RING_SLOTS - 1)];
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
    return p;
}

/* One object through the allocator's route (the hand-off costs tens of ns per object: the switch is noise). */
static inline void* object_alloc(const allocator* a, size_t size)
{
    switch (a->kind) {
    case KIND_FASTBUDDY: return fb_alloc(g_arena, size, BYTE_FLAGS);
    case KIND_FASTBUDDY_EXPORTS: return (fb_alloc)(g_arena, size, BYTE_FLAGS);
    case KIND_GLIBC: return malloc(size);
    default: return a->malloc(size);
    }
}

static inline void object_free(const allocator* a, void* p)
{
    switch (a->kind) {
    case KIND_FASTBUDDY: fb_free(g_arena, p); break;
    case KIND_FASTBUDDY_EXPORTS: (fb_free)(g_arena, p); break;
    case KIND_GLIBC: free(p); break;
    default: a->free(p); break;
    }
}

/* The two persistent threads and the batch they run next (set by the main thread between the barriers). */
static struct handoff {
    ring ring;
    pthread_t threads[2];
    pthread_barrier_t start, done;
    const allocator* a;
    size_t size;
    long objects;
    long failed; /* NULLs the producer got (pushed anyway: free(NULL) is a no-op, the consumer never waits for nothing) */
    int status;  /* fb_last_error() of the producer's first failure (FastBuddy's routes) */
    int stop;
} g_handoff;

static void* handoff_thread(void* arg)
{
    int producer = arg == NULL;
    struct handoff* h = &g_handoff;
    for (;;) {
        pthread_barrier_wait(&h->start);
        if (h->stop)
            return NULL;
        if (producer) {
            for (long i = 0; i < h->objects; i++) {
                void* p = object_alloc(h->a, h->size);
                if (p == NULL && h->failed++ == 0 && h->a->kind <= KIND_FASTBUDDY_EXPORTS)
                    h->status = fb_last_error();
                ring_push(&h->ring, p);
            }
        }
        else {
            for (long i = 0; i < h->objects; i++)
                object_free(h->a, ring_pop(&h->ring));
        }
        pthread_barrier_wait(&h->done);
    }
}

static void handoff_start(void)
{
    struct handoff* h = &g_handoff;
    if (pthread_barrier_init(&h->start, NULL, 3) != 0 || pthread_barrier_init(&h->done, NULL, 3) != 0
        || pthread_create(&h->threads[0], NULL, handoff_thread, NULL) != 0
        || pthread_create(&h->threads[1], NULL, handoff_thread, h) != 0) {
        fprintf(stderr, "cannot start the producer/consumer threads\n");
        exit(1);
    }
}

static void handoff_stop(void)
{
    struct handoff* h = &g_handoff;
    h->stop = 1;
    pthread_barrier_wait(&h->start);
    pthread_join(h->threads[0], NULL);
    pthread_join(h->threads[1], NULL);
    pthread_barrier_destroy(&h->start);
    pthread_barrier_destroy(&h->done);
}

static double run_handoff(const allocator* a, long objects, size_t size)
{
    struct handoff* h = &g_handoff;
    h->a = a;
    h->size = size;
    h->objects = objects;
    double t0 = now_ns();
    pthread_barrier_wait(&h->start); /* the barriers order the fields above and the ring between the threads */
    pthread_barrier_wait(&h->done);
    double t = now_ns() - t0;
    if (h->failed != 0 || h->ring.head != h->ring.tail) {
        fprintf(stderr, "%s: %ld of %ld allocations of %zu bytes failed in the producer/consumer run (%s)\n", a->name,
                h->failed, objects, size, a->kind <= KIND_FASTBUDDY_EXPORTS ? fb_strerror(h->status) : "-");
        exit(1);
    }
    g_sink = h; /* a non-NULL sink: run() checks it */
    return t;
}

/* One batch of `count` pairs (or objects) of one case; exits on an allocation failure. */
static double run(const allocator* a, long count, const bench_case* c)
{
    double t;
    int fastbuddy = a->kind == KIND_FASTBUDDY, exports = a->kind == KIND_FASTBUDDY_EXPORTS;
    if (c->shape == SHAPE_HANDOFF)
        t = run_handoff(a, count, c->size);
    else if (c->shape == SHAPE_PAGES && (fastbuddy || exports))
        t = fastbuddy ? pairs_fastbuddy_pages(count, c->order) : pairs_fastbuddy_pages_exports(count, c->order);
    else if (fastbuddy || exports)
        t = fastbuddy ? pairs_fastbuddy_bytes(count, c->size) : pairs_fastbuddy_bytes_exports(count, c->size);
    else
        t = a->kind == KIND_GLIBC ? pairs_glibc(count, c->size) : pairs_peer(a, count, c->size);
    if (g_sink == NULL) {
        fprintf(stderr, "%s: an allocation of %zu bytes failed%s%s\n", a->name, c->size, fastbuddy || exports ? ": " : "",
                fastbuddy || exports ? fb_strerror(fb_last_error()) : "");
        exit(1);
    }
    return t;
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
    a->bytes_detail = NULL;
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

/* The medians of one table: a row per allocator, a column per case of that shape. */
static const char* size_label(size_t size, char* buf, size_t len)
{
    if (size >= ((size_t)1 << 20))
        snprintf(buf, len, "%zu MiB", size >> 20);
    else if (size >= 1024)
        snprintf(buf, len, "%zu KiB", size >> 10);
    else
        snprintf(buf, len, "%zu B", size);
    return buf;
}

static void print_table(const allocator* all, int n, double med[][CASES], enum shape shape, int ref, const char* ref_name)
{
    char label[32];
    printf("| allocator |");
    for (size_t c = 0; c < CASES; c++) {
        if (k_cases[c].shape == shape)
            printf(" %s |", size_label(k_cases[c].size, label, sizeof label));
    }
    printf(" vs %s (each size) | what is called |\n|---|", ref_name);
    for (size_t c = 0; c < CASES; c++) {
        if (k_cases[c].shape == shape)
            printf("---:|");
    }
    printf("---|---|\n");
    for (int a = 0; a < n; a++) {
        printf("| %s |", all[a].name);
        char rel[128] = "";
        size_t used = 0;
        for (size_t c = 0; c < CASES; c++) {
            if (k_cases[c].shape != shape)
                continue;
            printf(" %.2f |", med[a][c]);
            if (ref >= 0 && used < sizeof rel)
                used += (size_t)snprintf(rel + used, sizeof rel - used, "%s%.2fx", used ? " / " : "", med[a][c] / med[ref][c]);
        }
        const char* detail = shape != SHAPE_PAGES && all[a].bytes_detail != NULL ? all[a].bytes_detail : all[a].detail;
        printf(" %s | %s |\n", ref >= 0 ? rel : "-", detail);
    }
    printf("\n");
}

static int find(const allocator* all, int n, const char* name)
{
    for (int a = 0; a < n; a++) {
        if (strcmp(all[a].name, name) == 0)
            return a;
    }
    return -1;
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
#ifdef fb_alloc
#define FB_BYTES_ROUTE "fastbuddy.h's inline fb_alloc/fb_free"
#else
#define FB_BYTES_ROUTE "fb_alloc/fb_free: this fastbuddy.h has no inline path for them, so the exports"
#endif
    all[n++] = (allocator){"fastbuddy (inline)", KIND_FASTBUDDY, NULL, NULL,
                           "fastbuddy.h's inline fb_alloc_pages/fb_free_pages, FB_ATOMIC", FB_BYTES_ROUTE ", FB_KERNEL"};
    all[n++] = (allocator){"fastbuddy (exports)", KIND_FASTBUDDY_EXPORTS, NULL, NULL,
                           "libfastbuddy.so's exported functions, FB_ATOMIC", "libfastbuddy.so's exported fb_alloc/fb_free, FB_KERNEL"};
    all[n++] = (allocator){"glibc", KIND_GLIBC, malloc, free, "malloc/free", NULL};
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
        fprintf(stderr, "fb_arena_create: %s (%s)\n", fb_strerror(st), fb_last_error_message());
        return 1;
    }

    handoff_start();

    /* Calibrate: pairs (objects) per batch so that one batch takes about batch_ms (after a warm-up). */
    static long counts[MAX_ALLOCATORS][CASES];
    for (int a = 0; a < n; a++) {
        for (size_t c = 0; c < CASES; c++) {
            long probe = 20000;
            run(&all[a], probe, &k_cases[c]);
            double per = run(&all[a], probe, &k_cases[c]) / (double)probe;
            long want = (long)(batch_ms * 1e6 / (per > 0.5 ? per : 0.5));
            counts[a][c] = want < 10000 ? 10000 : want;
        }
    }

    static double samples[MAX_ALLOCATORS][CASES][MAX_BATCHES];
    for (int b = 0; b < batches; b++) {
        for (size_t c = 0; c < CASES; c++) {
            for (int a = 0; a < n; a++)
                samples[a][c][b] = run(&all[a], counts[a][c], &k_cases[c]) / (double)counts[a][c];
        }
    }
    handoff_stop();

    static double med[MAX_ALLOCATORS][CASES];
    for (int a = 0; a < n; a++) {
        for (size_t c = 0; c < CASES; c++) {
            qsort(samples[a][c], (size_t)batches, sizeof(double), cmp_double);
            med[a][c] = samples[a][c][batches / 2];
        }
    }

    int tc = find(all, n, "tcmalloc"), mi = find(all, n, "mimalloc"), gl = find(all, n, "glibc");
    printf("\nlibfastbuddy %s; median of %d interleaved batches of about %.0f ms each\n\n", fb_version(), batches, batch_ms);
    printf("Page pairs, ns per alloc+free pair:\n\n");
    print_table(all, n, med, SHAPE_PAGES, tc, "tcmalloc");
    printf("Small-object pairs, ns per alloc+free pair:\n\n");
    print_table(all, n, med, SHAPE_BYTES, mi, "mimalloc");
    printf("Producer thread -> consumer thread through a %d-slot ring, ns per object:\n\n", RING_SLOTS);
    print_table(all, n, med, SHAPE_HANDOFF, gl, "glibc");
    if (tc >= 0) {
        printf("fastbuddy (inline) order-0 pair / tcmalloc malloc(4096)+free: %.2fx (target: <= 1.5x)\n", med[0][0] / med[tc][0]);
        printf("fastbuddy (exports) order-0 pair / tcmalloc malloc(4096)+free: %.2fx (the plain route, reported beside it)\n", med[1][0] / med[tc][0]);
    }
    else
        printf("tcmalloc missing: the target ratio (docs/design.md: fastbuddy order-0 pair within 1.5x of tcmalloc) cannot be computed\n");
    if (mi >= 0) {
        char label[32];
        const char* sep = " ";
        printf("fastbuddy (inline) small pair / mimalloc pair of the same size:");
        for (size_t c = 0; c < CASES; c++) {
            if (k_cases[c].shape == SHAPE_BYTES) {
                printf("%s%s %.2fx", sep, size_label(k_cases[c].size, label, sizeof label), med[0][c] / med[mi][c]);
                sep = ", ";
            }
        }
        printf(" (target: <= 1.5x each)\n");
    }
    else
        printf("mimalloc missing: the small-object target ratio (fastbuddy within 1.5x of mimalloc) cannot be computed\n");

    int valid = fb_validate(g_arena);
    if (valid != FB_OK)
        fprintf(stderr, "fb_validate after the run: %s\n", fb_strerror(valid));
    fb_arena_destroy(g_arena);
    return valid == FB_OK ? 0 : 1;
}
