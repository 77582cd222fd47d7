/*
 * Objects: fb_alloc up to fb_small_max() serves an object of its size class from a slab (through the header's
 * inline path here, through the plain exports in the fbtests_plain build). Every class's size, alignment and
 * memory; the class spacing; the two routes mixed on one object; bad frees; fb_realloc across classes and into
 * pages; FB_ZERO; frees from another thread; a thread that exits owning slabs; the slab statistics; density; and
 * an arena destroyed while objects are live.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fbtest.h"
#include "helpers.h"

/* Under ThreadSanitizer: the library (not instrumented) orders a free before any later allocation of the same
   memory, through atomics TSan cannot see; the threaded tests tell it so around their calls, so that only a real
   overlap (one object in two threads' hands at once) is reported. */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
static char object_handoff;
#define HANDOFF_BEFORE_FREE() __tsan_release(&object_handoff)
#define HANDOFF_AFTER_ALLOC() __tsan_acquire(&object_handoff)
#else
#define HANDOFF_BEFORE_FREE() ((void)0)
#define HANDOFF_AFTER_ALLOC() ((void)0)
#endif

#define PAGE 4096u
#define SMALL_MAX 32768u
#define CLASSES 80u

/* The size class of a request of 1 .. SMALL_MAX bytes, computed here on its own: 8-byte steps up to 64, then eight
   classes per doubling (72, 80, ..., 128, 144, ..., 256, 288, ...). */
static size_t class_of(size_t bytes)
{
    size_t s = bytes - 1;
    if (s < 64)
        return ((s >> 3) + 1) << 3;
    unsigned top = 63u - (unsigned)__builtin_clzll((unsigned long long)s);
    size_t step = (size_t)1 << (top - 3);
    return (s & ~(step - 1)) + step;
}

/* Every class size, smallest first; returns how many (CLASSES at the defaults). */
static unsigned class_sizes(size_t* out)
{
    unsigned n = 0;
    for (size_t c = 8; c <= SMALL_MAX; c = class_of(c + 1))
        out[n++] = c;
    return n;
}

/* Objects are aligned to 16 bytes, except in the classes that are odd multiples of 8. */
static size_t alignment_of(size_t size_class) { return (size_class & 15) != 0 ? 8 : 16; }

static fb_slab_stats slab_stats(fb_arena* a, uint32_t cls)
{
    fb_slab_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_STATUS(fb_get_slab_stats(a, cls, &s), FB_OK);
    return s;
}

/* The index of the class of `size_class` in fb_get_slab_stats' range. */
static uint32_t class_index(size_t size_class)
{
    size_t sizes[CLASSES + 1];
    unsigned n = class_sizes(sizes);
    for (uint32_t i = 0; i < n; i++)
        if (sizes[i] == size_class)
            return i;
    return UINT32_MAX;
}

static void nap_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

FB_TEST(objects_every_class_has_its_size_alignment_and_own_memory)
{
    fb_arena* a = fbt_arena(32 * MIB);
    REQUIRE(a != NULL);
    REQUIRE(fb_small_max(a) == SMALL_MAX);
    size_t sizes[CLASSES + 1];
    unsigned n = class_sizes(sizes);
    CHECK_EQ(n, CLASSES);
    /* the smallest and the largest request of each class, three objects of each */
    enum { PER = 3 };
    static unsigned char* live[CLASSES * 2 * PER];
    static size_t live_size[CLASSES * 2 * PER];
    unsigned count = 0;
    for (unsigned c = 0; c < n; c++) {
        size_t requests[2] = { c == 0 ? 1 : sizes[c - 1] + 1, sizes[c] };
        for (int r = 0; r < 2; r++) {
            for (int k = 0; k < PER; k++) {
                unsigned char* p = (unsigned char*)fb_alloc(a, requests[r], FB_KERNEL);
                REQUIRE(p != NULL);
                CHECK_EQ(fb_last_error(), FB_OK);
                CHECK_EQ(fb_usable_size(a, p), sizes[c]);
                CHECK_EQ((uintptr_t)p % alignment_of(sizes[c]), 0);
                CHECK_EQ(fb_owns(a, p), 1);
                fbt_fill(p, sizes[c], count); /* the whole usable size is the caller's */
                live[count] = p;
                live_size[count++] = sizes[c];
            }
        }
    }
    for (unsigned i = 0; i < count; i++) {
        CHECK(fbt_check_fill(live[i], live_size[i], i) || !"an object's contents changed");
        for (unsigned j = i + 1; j < count; j++)
            if (live[i] < live[j] + live_size[j] && live[j] < live[i] + live_size[i]) {
                CHECK(!"two live objects overlap");
                break;
            }
    }
    CHECK_EQ(fbt_stats(a).slab_objects, count);
    CHECK_ARENA(a, -1);
    for (unsigned i = 0; i < count; i++)
        CHECK_STATUS(fb_free(a, live[i]), FB_OK);
    CHECK_EQ(fbt_stats(a).slab_objects, 0);
    CHECK_TRIMMED(a, 8192);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_class_spacing_loses_under_an_eighth_above_64_bytes)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    /* every request size: counted, with the first offender, so that a broken spacing fails once, readably */
    size_t wrong_class = 0, too_loose = 0, first_wrong = 0, first_loose = 0;
    for (size_t bytes = 1; bytes <= SMALL_MAX; bytes++) {
        void* p = fb_alloc(a, bytes, FB_KERNEL);
        REQUIRE(p != NULL);
        size_t usable = fb_usable_size(a, p);
        if (usable != class_of(bytes) && wrong_class++ == 0) /* the smallest class that holds the request */
            first_wrong = bytes;
        /* above 64 bytes usable / bytes < 1.125; up to 64 less than one 8-byte step is lost */
        int loose = bytes > 64 ? usable * 8 >= bytes * 9 : usable - bytes >= 8;
        if ((loose || usable < bytes) && too_loose++ == 0)
            first_loose = bytes;
        CHECK_STATUS(fb_free(a, p), FB_OK);
    }
    CHECK_EQ(wrong_class, 0);
    CHECK_EQ(first_wrong, 0);
    CHECK_EQ(too_loose, 0);
    CHECK_EQ(first_loose, 0);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_inline_and_plain_routes_agree_on_one_object)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    /* (fb_alloc)(...) is the exported function even where fb_alloc is the header's inline macro */
    static const size_t requests[] = { 8, 24, 48, 100, 256, 1000, 4096, 20000, SMALL_MAX };
    enum { N = 64 };
    void* p[N];
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        size_t bytes = requests[r];
        for (int i = 0; i < N; i++) {
            p[i] = (i & 1) ? (fb_alloc)(a, bytes, FB_KERNEL) : fb_alloc(a, bytes, FB_KERNEL);
            REQUIRE(p[i] != NULL);
            CHECK_EQ(fb_usable_size(a, p[i]), class_of(bytes));
            CHECK_EQ((fb_usable_size)(a, p[i]), class_of(bytes));
            fbt_fill(p[i], bytes, (uint32_t)i);
        }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
                if (p[i] == p[j])
                    CHECK(!"the two routes handed out one object twice");
        /* freed by the other route than the one that allocated it: first the even ones, whose slabs keep the odd
           ones live, so that a second free by either route is a double free of an object of a live slab */
        for (int i = 0; i < N; i += 2) {
            CHECK(fbt_check_fill(p[i], bytes, (uint32_t)i));
            CHECK_STATUS((i & 2) ? fb_free(a, p[i]) : (fb_free)(a, p[i]), FB_OK);
            CHECK_STATUS((i & 2) ? (fb_free)(a, p[i]) : fb_free(a, p[i]), FB_ERR_DOUBLE_FREE);
            CHECK_EQ(fb_usable_size(a, p[i]), 0);
            CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
            CHECK_EQ((fb_usable_size)(a, p[i]), 0);
            CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
        }
        for (int i = 1; i < N; i += 2) {
            CHECK(fbt_check_fill(p[i], bytes, (uint32_t)i));
            CHECK_STATUS((i & 2) ? fb_free(a, p[i]) : (fb_free)(a, p[i]), FB_OK);
        }
        CHECK_EQ(fbt_stats(a).slab_objects, 0);
        CHECK_ARENA(a, -1);
    }
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* The arena's counters a rejected call must not move. */
struct snapshot {
    int64_t free_pages, per_cpu_pages, slab_pages, slab_objects, slab_object_bytes;
};

static struct snapshot snap(fb_arena* a)
{
    fb_stats s = fbt_stats(a);
    struct snapshot r = { s.free_pages, s.per_cpu_pages, s.slab_pages, s.slab_objects, s.slab_object_bytes };
    return r;
}

static void check_unchanged(fb_arena* a, struct snapshot before, int line)
{
    struct snapshot now = snap(a);
    if (memcmp(&now, &before, sizeof now) != 0) {
        char what[96];
        snprintf(what, sizeof what, "a rejected call changed the arena (test line %d)", line);
        fbt_fail(__FILE__, line, what);
    }
}

FB_TEST(objects_bad_frees_get_their_exact_status_and_change_nothing)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    static const size_t requests[] = { 24, 64, 100, 4096, SMALL_MAX };
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        size_t bytes = requests[r];
        unsigned char* p = (unsigned char*)fb_alloc(a, bytes, FB_KERNEL);
        unsigned char* keep = (unsigned char*)fb_alloc(a, bytes, FB_KERNEL); /* keeps the slab alive */
        REQUIRE(p != NULL && keep != NULL);
        fbt_fill(p, bytes, 1);
        fbt_fill(keep, bytes, 2);
        struct snapshot before = snap(a);
        CHECK_STATUS(fb_free(a, p + 8), FB_ERR_NOT_A_BLOCK); /* interior, 8-aligned */
        CHECK_STATUS(fb_free(a, p + 1), FB_ERR_NOT_A_BLOCK); /* misaligned */
        CHECK_STATUS((fb_free)(a, p + 8), FB_ERR_NOT_A_BLOCK);
        CHECK(fb_realloc(a, p + 8, 2 * bytes, FB_KERNEL) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
        CHECK_EQ(fb_usable_size(a, p + 8), 0);
        CHECK_EQ(fb_last_error(), FB_ERR_NOT_A_BLOCK);
        for (uint32_t order = 0; order < 11; order++) /* an object is no block of pages */
            CHECK_STATUS(fb_free_pages(a, p, order), FB_ERR_NOT_A_BLOCK);
        CHECK_STATUS(fb_free_pages(a, p, 40), FB_ERR_INVALID_ARGUMENT);
        check_unchanged(a, before, __LINE__);
        CHECK(fbt_check_fill(p, bytes, 1) && fbt_check_fill(keep, bytes, 2));

        CHECK_STATUS(fb_free(a, p), FB_OK);
        before = snap(a);
        CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE);
        CHECK_STATUS((fb_free)(a, p), FB_ERR_DOUBLE_FREE);
        CHECK_EQ(fb_usable_size(a, p), 0);
        CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
        CHECK(fb_realloc(a, p, bytes, FB_KERNEL) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
        check_unchanged(a, before, __LINE__);
        CHECK(fbt_check_fill(keep, bytes, 2));
        CHECK_STATUS(fb_free(a, keep), FB_OK);
    }
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* The reuse line: the objects a thread freed last (up to seven, of its current slab) come back latest first; one
   on the line freed again is a double free; and an allocation that takes the bitmap's way (FB_ZERO here) never
   hands out an object the line still names. Through the plain exports the line is the library's own, with the
   same outcomes. */
FB_TEST(objects_freed_last_come_back_first_and_never_twice)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    enum { N = 5, MANY = 20 };
    void* p[MANY];
    for (int i = 0; i < N; i++)
        REQUIRE((p[i] = fb_alloc(a, 48, FB_KERNEL)) != NULL);
    for (int i = 0; i < N; i++)
        CHECK_STATUS(fb_free(a, p[i]), FB_OK);
    CHECK_STATUS(fb_free(a, p[N - 1]), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free(a, p[0]), FB_ERR_DOUBLE_FREE);
    for (int i = N - 1; i >= 0; i--)
        CHECK(fb_alloc(a, 48, FB_KERNEL) == p[i]);
    for (int i = 0; i < N; i++)
        CHECK_STATUS(fb_free(a, p[i]), FB_OK);

    /* Twenty freed, then twenty taken: a zeroed one first (the bitmap's way), the rest through the line and the
       bitmap; no object twice. */
    for (int i = 0; i < MANY; i++)
        REQUIRE((p[i] = fb_alloc(a, 16, FB_KERNEL)) != NULL);
    for (int i = 0; i < MANY; i++)
        CHECK_STATUS(fb_free(a, p[i]), FB_OK);
    for (int i = 0; i < MANY; i++) {
        p[i] = fb_alloc(a, 16, i == 0 ? FB_KERNEL | FB_ZERO : FB_KERNEL);
        REQUIRE(p[i] != NULL);
        for (int j = 0; j < i; j++)
            CHECK(p[j] != p[i] || !"an object was handed out twice");
    }
    for (int i = 0; i < MANY; i++)
        CHECK_STATUS(fb_free(a, p[i]), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

static void never_evicted(void* ctx, void* page)
{
    (void)ctx;
    (void)page;
    CHECK(!"an object was evicted as a cache page");
}

FB_TEST(objects_the_first_object_of_a_slab_is_no_block_of_pages)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    /* 4096-byte objects are page-aligned; the lowest of a fresh slab's eight is the slab's first page */
    uint32_t cls = class_index(4096);
    REQUIRE(cls != UINT32_MAX);
    fb_slab_stats geometry = slab_stats(a, cls);
    REQUIRE(geometry.objects_per_slab >= 2 && geometry.objects_per_slab <= 64);
    void* objects[64];
    unsigned char* first = NULL;
    for (uint32_t i = 0; i < geometry.objects_per_slab; i++) {
        objects[i] = fb_alloc(a, 4096, FB_KERNEL);
        REQUIRE(objects[i] != NULL);
        if (first == NULL || (unsigned char*)objects[i] < first)
            first = (unsigned char*)objects[i];
    }
    CHECK_EQ(slab_stats(a, cls).slabs, 1);
    uint32_t slab_order = (uint32_t)__builtin_ctz(geometry.pages_per_slab);
    struct snapshot before = snap(a);
    CHECK_STATUS(fb_free_pages(a, first, slab_order), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_free_pages(a, first, 0), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_free_pages(a, first + PAGE, 0), FB_ERR_NOT_A_BLOCK);
    static const fb_page_ops ops = { NULL, never_evicted };
    CHECK_STATUS(fb_cache_add(a, first, &ops, NULL, 0), FB_ERR_NOT_A_BLOCK);
    CHECK_STATUS(fb_cache_touch(a, first), FB_ERR_NOT_A_BLOCK);
    void* batch[1] = { first };
    CHECK_STATUS(fb_free_pages_bulk(a, batch, 1), FB_ERR_NOT_A_BLOCK);
    check_unchanged(a, before, __LINE__);
    CHECK_EQ(fb_usable_size(a, first), 4096);
    for (uint32_t i = 0; i < geometry.objects_per_slab; i++)
        CHECK_STATUS(fb_free(a, objects[i]), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* Contents survive each step of a chain of reallocs (objects of other classes, blocks of pages, objects again). */
FB_TEST(objects_realloc_across_classes_into_pages_and_back_keeps_contents)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    static const size_t chain[] = { 8, 24, 100, 1000, 5000, SMALL_MAX, SMALL_MAX + 1, 300000, 20000, 50, 1, 64 };
    size_t kept = chain[0];
    void* p = fb_alloc(a, kept, FB_KERNEL);
    REQUIRE(p != NULL);
    fbt_fill(p, kept, 42);
    for (size_t i = 1; i < sizeof chain / sizeof chain[0]; i++) {
        void* q = fb_realloc(a, p, chain[i], FB_KERNEL);
        REQUIRE(q != NULL);
        size_t usable = chain[i] <= SMALL_MAX ? class_of(chain[i]) : chain[i] <= 16 * PAGE ? 16 * PAGE : 128 * PAGE;
        CHECK_EQ(fb_usable_size(a, q), usable);
        CHECK(fbt_check_fill(q, kept < chain[i] ? kept : chain[i], 42) || !"realloc lost contents");
        if (q != p)
            CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE); /* the old memory went back */
        kept = chain[i];
        fbt_fill(q, kept, 42);
        p = q;
    }
    /* within its class an object stays where it is */
    void* o = fb_alloc(a, 100, FB_KERNEL);
    REQUIRE(o != NULL);
    CHECK(fb_realloc(a, o, 104, FB_KERNEL) == o);
    CHECK(fb_realloc(a, o, 97, FB_KERNEL) == o);
    CHECK_EQ(fb_usable_size(a, o), 104);
    /* and to 0 it is freed */
    CHECK(fb_realloc(a, o, 0, FB_KERNEL) == NULL);
    CHECK_STATUS(fb_free(a, o), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

static int all_zero(const void* p, size_t n)
{
    const unsigned char* b = (const unsigned char*)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

FB_TEST(objects_zero_flag_zeroes_the_whole_object)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    static const size_t requests[] = { 1, 24, 48, 100, 1000, 4096, 20000, SMALL_MAX };
    enum { N = 24 };
    void* p[N];
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        size_t usable = class_of(requests[r]);
        for (int round = 0; round < 2; round++) {
            /* dirty objects first, freed, then the same slots asked for zeroed */
            for (int i = 0; i < N; i++) {
                p[i] = fb_alloc(a, requests[r], FB_KERNEL);
                REQUIRE(p[i] != NULL);
                memset(p[i], 0xC3, usable);
            }
            for (int i = 0; i < N; i++)
                CHECK_STATUS(fb_free(a, p[i]), FB_OK);
            for (int i = 0; i < N; i++) {
                p[i] = fb_alloc(a, requests[r], FB_KERNEL | FB_ZERO);
                REQUIRE(p[i] != NULL);
                CHECK(all_zero(p[i], usable) || !"FB_ZERO left bytes of the class size dirty");
            }
            for (int i = 0; i < N; i++)
                CHECK_STATUS(fb_free(a, p[i]), FB_OK);
        }
    }
    /* fb_realloc with FB_ZERO zeroes what the move adds past the old object */
    unsigned char* small = (unsigned char*)fb_alloc(a, 100, FB_KERNEL);
    REQUIRE(small != NULL);
    void* dirty = fb_alloc(a, 1000, FB_KERNEL); /* leaves a dirty 1024-byte object for the move to take */
    REQUIRE(dirty != NULL);
    memset(dirty, 0xEE, 1024);
    CHECK_STATUS(fb_free(a, dirty), FB_OK);
    fbt_fill(small, 104, 5);
    unsigned char* grown = (unsigned char*)fb_realloc(a, small, 1000, FB_KERNEL | FB_ZERO);
    REQUIRE(grown != NULL);
    CHECK(fbt_check_fill(grown, 104, 5));
    CHECK(all_zero(grown + 104, 1024 - 104));
    CHECK_STATUS(fb_free(a, grown), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ------------------------------------------------------------------ threads */

enum { RING = 1024 };

struct ring {
    fb_arena* arena;
    int count;
    _Atomic size_t head, tail;
    void* slot[RING];
    size_t bytes[RING];
    atomic_int alloc_failures, bad_contents, bad_sizes, bad_frees, frees;
};

static const size_t ring_sizes[] = { 16, 24, 64, 100, 256, 1000, 4096, 9000, 8, 48 };

static void* ring_producer(void* arg)
{
    struct ring* r = (struct ring*)arg;
    for (int i = 0; i < r->count; i++) {
        size_t bytes = ring_sizes[(unsigned)i % (sizeof ring_sizes / sizeof ring_sizes[0])];
        void* p = fb_alloc(r->arena, bytes, FB_KERNEL);
        HANDOFF_AFTER_ALLOC();
        if (p == NULL) {
            atomic_fetch_add(&r->alloc_failures, 1);
            return NULL;
        }
        fbt_fill(p, bytes < 64 ? bytes : 64, (uint32_t)i);
        size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        while (head - atomic_load_explicit(&r->tail, memory_order_acquire) == RING)
            sched_yield();
        r->slot[head % RING] = p;
        r->bytes[head % RING] = bytes;
        atomic_store_explicit(&r->head, head + 1, memory_order_release);
    }
    return NULL;
}

static void* ring_consumer(void* arg)
{
    struct ring* r = (struct ring*)arg;
    for (int i = 0; i < r->count; i++) {
        size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        while (atomic_load_explicit(&r->head, memory_order_acquire) == tail) {
            if (atomic_load(&r->alloc_failures) != 0)
                return NULL;
            sched_yield();
        }
        void* p = r->slot[tail % RING];
        size_t bytes = r->bytes[tail % RING];
        atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
        if (!fbt_check_fill(p, bytes < 64 ? bytes : 64, (uint32_t)i))
            atomic_fetch_add(&r->bad_contents, 1);
        if (fb_usable_size(r->arena, p) != class_of(bytes))
            atomic_fetch_add(&r->bad_sizes, 1);
        HANDOFF_BEFORE_FREE();
        if (fb_free(r->arena, p) != FB_OK)
            atomic_fetch_add(&r->bad_frees, 1);
        atomic_fetch_add(&r->frees, 1);
    }
    return NULL;
}

FB_TEST(objects_freed_by_a_consumer_thread_are_never_lost)
{
    static struct ring r;
    memset(&r, 0, sizeof r);
    r.arena = fbt_arena(64 * MIB);
    REQUIRE(r.arena != NULL);
    r.count = fbt_scale(200000);
    pthread_t producer, consumer;
    REQUIRE(pthread_create(&consumer, NULL, ring_consumer, &r) == 0);
    REQUIRE(pthread_create(&producer, NULL, ring_producer, &r) == 0);
    pthread_join(producer, NULL);
    pthread_join(consumer, NULL);
    CHECK_EQ(atomic_load(&r.alloc_failures), 0);
    CHECK_EQ(atomic_load(&r.frees), r.count);
    CHECK_EQ(atomic_load(&r.bad_contents), 0);
    CHECK_EQ(atomic_load(&r.bad_sizes), 0);
    CHECK_EQ(atomic_load(&r.bad_frees), 0);
    CHECK_EQ(fbt_stats(r.arena).slab_objects, 0);
    CHECK_ARENA(r.arena, -1);
    CHECK_TRIMMED(r.arena, 16384);
    CHECK_STATUS(fb_arena_destroy(r.arena), FB_OK);
}

struct remote_free {
    fb_arena* arena;
    void* p;
    int status;
};

static void* free_elsewhere(void* arg)
{
    struct remote_free* f = (struct remote_free*)arg;
    f->status = fb_free(f->arena, f->p);
    return NULL;
}

static int free_on_another_thread(fb_arena* a, void* p)
{
    struct remote_free f = { a, p, -1 };
    pthread_t t;
    if (pthread_create(&t, NULL, free_elsewhere, &f) != 0)
        return -1;
    pthread_join(t, NULL);
    return f.status;
}

FB_TEST(objects_a_double_free_across_threads_is_refused)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    void* p = fb_alloc(a, 48, FB_KERNEL);
    void* keep = fb_alloc(a, 48, FB_KERNEL);
    REQUIRE(p != NULL && keep != NULL);
    CHECK_STATUS(free_on_another_thread(a, p), FB_OK);             /* into the owner's remote bitmap */
    struct snapshot before = snap(a);
    CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE);               /* the owner sees the remote free */
    CHECK_STATUS((fb_free)(a, p), FB_ERR_DOUBLE_FREE);
    CHECK_STATUS(free_on_another_thread(a, p), FB_ERR_DOUBLE_FREE); /* and so does a third thread */
    CHECK_EQ(fb_usable_size(a, p), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_DOUBLE_FREE);
    check_unchanged(a, before, __LINE__);
    CHECK_STATUS(fb_free(a, keep), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

static const size_t exit_sizes[] = { 16, 200, 3000 };

struct leaver {
    fb_arena* arena;
    int keep;      /* objects per class left live when the thread exits */
    void* kept[3][4];
    int failures;
};

static void* use_slabs_and_exit(void* arg)
{
    struct leaver* l = (struct leaver*)arg;
    for (int c = 0; c < 3; c++) {
        void* p[40];
        for (int i = 0; i < 40; i++)
            if ((p[i] = fb_alloc(l->arena, exit_sizes[c], FB_KERNEL)) == NULL)
                l->failures++;
        for (int i = 0; i < 40; i++) {
            if (i < l->keep)
                l->kept[c][i] = p[i];
            else if (p[i] != NULL && fb_free(l->arena, p[i]) != FB_OK)
                l->failures++;
        }
    }
    return NULL;
}

/* Slabs of exit_sizes' classes some thread owns (neither spare nor pooled with free objects). */
static int64_t owned_slabs(fb_arena* a)
{
    int64_t n = 0;
    for (int c = 0; c < 3; c++) {
        fb_slab_stats k = slab_stats(a, class_index(class_of(exit_sizes[c])));
        n += k.slabs - k.spare_slabs;
    }
    return n;
}

/* fb_balance (kswapd's pass) until the exited thread's (empty) slabs are no longer owned, or 200 tries. */
static void balance_until_owned_slabs_are_gone(fb_arena* a)
{
    for (int i = 0; i < 200 && owned_slabs(a) != 0; i++) {
        CHECK_STATUS(fb_balance(a), FB_OK);
        if (owned_slabs(a) != 0)
            nap_ms(5);
    }
}

FB_TEST(objects_balance_gives_the_empty_slabs_of_an_exited_thread_back_to_the_buddy_system)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    struct leaver l;
    memset(&l, 0, sizeof l);
    l.arena = a;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, use_slabs_and_exit, &l) == 0);
    pthread_join(t, NULL);
    CHECK_EQ(l.failures, 0);
    CHECK_EQ(fbt_stats(a).slab_objects, 0);
    /* its current slabs are still its own, empty: more slabs than spares in each class */
    int64_t spares_before[3];
    for (int c = 0; c < 3; c++) {
        fb_slab_stats k = slab_stats(a, class_index(class_of(exit_sizes[c])));
        CHECK(k.slabs > k.spare_slabs);
        spares_before[c] = k.spare_slabs;
    }
    balance_until_owned_slabs_are_gone(a);
    /* the thread's own slabs went straight back to the buddy system: none became a spare of its class; what is
       left are the spares its frees made while it ran, and fb_trim gives those back too */
    int64_t spare_pages = 0;
    for (int c = 0; c < 3; c++) {
        fb_slab_stats k = slab_stats(a, class_index(class_of(exit_sizes[c])));
        CHECK_EQ(k.slabs, k.spare_slabs);
        CHECK_EQ(k.spare_slabs, spares_before[c]);
        spare_pages += k.spare_slabs * k.pages_per_slab;
    }
    CHECK_EQ(fbt_stats(a).slab_pages, spare_pages);
    CHECK_ARENA(a, 4096 - spare_pages);
    CHECK_EQ(fb_trim(a), spare_pages);
    CHECK_ARENA(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_left_by_an_exited_thread_stay_valid_and_can_be_freed)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    struct leaver l;
    memset(&l, 0, sizeof l);
    l.arena = a;
    l.keep = 4;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, use_slabs_and_exit, &l) == 0);
    pthread_join(t, NULL);
    CHECK_EQ(l.failures, 0);
    CHECK_EQ(fbt_stats(a).slab_objects, 12);
    for (int i = 0; i < 5; i++)
        CHECK_STATUS(fb_balance(a), FB_OK);
    CHECK_EQ(fbt_stats(a).slab_objects, 12);
    CHECK_ARENA(a, -1);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++) {
            CHECK_EQ(fb_usable_size(a, l.kept[c][i]), class_of(exit_sizes[c]));
            memset(l.kept[c][i], 0x3C, exit_sizes[c]);
            CHECK_STATUS(fb_free(a, l.kept[c][i]), FB_OK);
            if (i < 3) /* the slab still holds the last kept object */
                CHECK_STATUS(fb_free(a, l.kept[c][i]), FB_ERR_DOUBLE_FREE);
        }
    CHECK_EQ(fbt_stats(a).slab_objects, 0);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ------------------------------------------------------------------ statistics and density */

FB_TEST(objects_slab_statistics_describe_every_class)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.slab_class_count, CLASSES);
    CHECK_EQ(s.slab_pages, 0);
    CHECK_EQ(s.slab_objects, 0);
    size_t sizes[CLASSES + 1];
    class_sizes(sizes);
    for (uint32_t c = 0; c < s.slab_class_count; c++) {
        fb_slab_stats k = slab_stats(a, c);
        CHECK_EQ(k.object_size, sizes[c]);
        CHECK(k.objects_per_slab >= 8 && k.objects_per_slab <= 512);
        size_t slab_bytes = (size_t)k.pages_per_slab * PAGE;
        CHECK((k.pages_per_slab & (k.pages_per_slab - 1)) == 0);
        CHECK((size_t)k.objects_per_slab * k.object_size <= slab_bytes);
        CHECK((slab_bytes - (size_t)k.objects_per_slab * k.object_size) * 16 <= slab_bytes); /* waste <= 1/16 */
        CHECK_EQ(k.slabs, 0);
        CHECK_EQ(k.objects_in_use, 0);
        CHECK_EQ(k.free_objects, 0);
    }
    fb_slab_stats k;
    memset(&k, 0, sizeof k);
    k.struct_size = sizeof k;
    CHECK_STATUS(fb_get_slab_stats(a, s.slab_class_count, &k), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_slab_stats(a, UINT32_MAX, &k), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_get_slab_stats(a, 0, NULL), FB_ERR_INVALID_ARGUMENT);
    k.struct_size = 8;
    CHECK_STATUS(fb_get_slab_stats(a, 0, &k), FB_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_in_use_follow_allocations_and_frees)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    static const size_t requests[] = { 8, 40, 100, 777, 4096, SMALL_MAX };
    enum { N = 300 };
    static void* p[N];
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        size_t size_class = class_of(requests[r]);
        uint32_t cls = class_index(size_class);
        int64_t objects_before = fbt_stats(a).slab_objects;
        int n = size_class >= 4096 ? 40 : N;
        for (int i = 0; i < n; i++) {
            p[i] = fb_alloc(a, requests[r], FB_KERNEL);
            REQUIRE(p[i] != NULL);
        }
        fb_slab_stats k = slab_stats(a, cls);
        CHECK_EQ(k.objects_in_use, n);
        CHECK(k.slabs >= (n + (int64_t)k.objects_per_slab - 1) / k.objects_per_slab);
        CHECK_EQ(k.free_objects, k.slabs * k.objects_per_slab - k.objects_in_use);
        fb_stats s = fbt_stats(a);
        CHECK_EQ(s.slab_objects, objects_before + n);
        CHECK(s.slab_object_bytes >= (int64_t)(n * size_class));
        CHECK(s.slab_pages >= k.slabs * k.pages_per_slab);
        for (int i = 0; i < n / 2; i++)
            CHECK_STATUS(fb_free(a, p[i]), FB_OK);
        CHECK_EQ(slab_stats(a, cls).objects_in_use, n - n / 2);
        CHECK_EQ(fbt_stats(a).slab_objects, objects_before + n - n / 2);
        for (int i = n / 2; i < n; i++)
            CHECK_STATUS(fb_free(a, p[i]), FB_OK);
        CHECK_EQ(slab_stats(a, cls).objects_in_use, 0);
        CHECK_EQ(fbt_stats(a).slab_objects, objects_before);
    }
    CHECK_EQ(fbt_stats(a).slab_object_bytes, 0);
    CHECK(fb_trim(a) > 0);
    for (uint32_t c = 0; c < CLASSES; c++)
        CHECK_EQ(slab_stats(a, c).slabs, 0);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_a_million_of_32_bytes_fit_in_64_mib)
{
    fb_arena* a = fbt_arena(64 * MIB);
    REQUIRE(a != NULL);
    enum { N = 1000000 };
    void** p = (void**)malloc(N * sizeof(void*));
    REQUIRE(p != NULL);
    int got = 0;
    for (; got < N; got++) {
        p[got] = fb_alloc(a, 32, FB_KERNEL);
        if (p[got] == NULL)
            break;
        *(uint64_t*)p[got] = (uint64_t)got * 0x9E3779B97F4A7C15ull;
    }
    CHECK_EQ(got, N);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.slab_objects, got);
    CHECK_EQ(s.slab_object_bytes, (int64_t)got * 32);
    /* bytes requested over bytes taken from the arena */
    CHECK(s.slab_object_bytes * 100 >= s.slab_pages * (int64_t)PAGE * 85);
    int damaged = 0;
    for (int i = 0; i < got; i++)
        damaged += *(uint64_t*)p[i] != (uint64_t)i * 0x9E3779B97F4A7C15ull;
    CHECK_EQ(damaged, 0);
    for (int i = 0; i < got; i++)
        if (fb_free(a, p[i]) != FB_OK) {
            CHECK(!"a free of a 32-byte object failed");
            break;
        }
    free(p);
    CHECK_TRIMMED(a, 16384);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* ------------------------------------------------------------------ destroy */

static void* alloc_and_exit(void* arg)
{
    fb_arena* a = (fb_arena*)arg;
    for (int i = 0; i < 500; i++) {
        void* p = fb_alloc(a, 16 + (size_t)(i % 50) * 40, FB_KERNEL);
        if (p != NULL)
            fbt_fill(p, 16, (uint32_t)i);
    }
    return NULL;
}

/* The process's virtual size in bytes (/proc/self/statm). */
static long long virtual_bytes(void)
{
    FILE* f = fopen("/proc/self/statm", "r");
    long long pages = 0;
    if (f != NULL) {
        if (fscanf(f, "%lld", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * 4096;
}

FB_TEST(objects_live_at_arena_destroy_go_with_the_arena)
{
    long long after_first = 0;
    int cycles = fbt_under_valgrind() ? 3 : 21;
    for (int cycle = 0; cycle < cycles; cycle++) {
        fb_arena* a = fbt_arena(16 * MIB);
        REQUIRE(a != NULL);
        void* last = NULL;
        for (int i = 0; i < 2000; i++) {
            last = fb_alloc(a, 8 + (size_t)(i % 100) * 24, FB_KERNEL);
            REQUIRE(last != NULL);
            memset(last, 0x5A, 8);
        }
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, alloc_and_exit, a) == 0);
        pthread_join(t, NULL);
        CHECK(fbt_stats(a).slab_objects >= 2500);
        CHECK_STATUS(fb_arena_destroy(a), FB_OK);
        /* the handle is dead: every call says so and touches nothing */
        CHECK_STATUS(fb_free(a, last), FB_ERR_INVALID_ARGUMENT);
        CHECK_EQ(fb_usable_size(a, last), 0);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        CHECK(fb_alloc(a, 32, FB_KERNEL) == NULL);
        CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        if (cycle == 0)
            after_first = virtual_bytes();
    }
    /* 20 more arenas of 16 MiB, each with a slab table and a thread's magazine: none of it stays behind
       (valgrind's own allocator keeps freed memory a while, so there memcheck watches the accesses instead) */
    if (!fbt_under_valgrind())
        CHECK(virtual_bytes() - after_first < 8 * (long long)MIB);
}

FB_TEST(objects_without_magazines_behave_the_same)
{
    fb_options o;
    fbt_default_options(&o, 16 * MIB);
    o.per_cpu_pages = 0; /* every slab shared, each object taken under its class lock */
    fb_arena* a = fbt_arena_with(&o);
    REQUIRE(a != NULL);
    size_t sizes[CLASSES + 1];
    unsigned n = class_sizes(sizes);
    static void* p[CLASSES][2];
    for (unsigned c = 0; c < n; c++)
        for (int k = 0; k < 2; k++) {
            p[c][k] = fb_alloc(a, sizes[c], FB_KERNEL);
            REQUIRE(p[c][k] != NULL);
            CHECK_EQ(fb_usable_size(a, p[c][k]), sizes[c]);
            CHECK_EQ((uintptr_t)p[c][k] % alignment_of(sizes[c]), 0);
            fbt_fill(p[c][k], sizes[c], c * 2 + (unsigned)k);
        }
    CHECK_EQ(fbt_stats(a).slab_objects, 2 * n);
    for (unsigned c = 0; c < n; c++) {
        CHECK(fbt_check_fill(p[c][0], sizes[c], c * 2) && fbt_check_fill(p[c][1], sizes[c], c * 2 + 1));
        CHECK_STATUS(fb_free(a, (unsigned char*)p[c][0] + 1), FB_ERR_NOT_A_BLOCK);
        if (sizes[c] > 8) /* (in the 8-byte class p + 8 may be the next object) */
            CHECK_STATUS(fb_free(a, (unsigned char*)p[c][0] + 8), FB_ERR_NOT_A_BLOCK);
        CHECK_STATUS(fb_free(a, p[c][0]), FB_OK);
        CHECK_STATUS(fb_free(a, p[c][0]), FB_ERR_DOUBLE_FREE);
        CHECK_STATUS(free_on_another_thread(a, p[c][1]), FB_OK);
        CHECK_STATUS(fb_free(a, p[c][1]), FB_ERR_DOUBLE_FREE);
    }
    CHECK_EQ(fbt_stats(a).slab_objects, 0);
    CHECK_EQ(fbt_stats(a).per_cpu_pages, 0);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

FB_TEST(objects_unknown_flags_and_other_arenas_are_refused)
{
    fb_arena* a = fbt_arena(16 * MIB);
    fb_arena* b = fbt_arena(16 * MIB);
    REQUIRE(a != NULL && b != NULL);
    void* o = fb_alloc(a, 100, FB_KERNEL);
    REQUIRE(o != NULL);
    fbt_fill(o, 100, 9);
    struct snapshot before = snap(a);
    CHECK(fb_alloc(a, 16, 0x1000u) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_alloc(a, 16, FB_KERNEL | FB_ZERO | 0x40u) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_realloc(a, o, 104, 0x1000u) == NULL); /* even within the class, where nothing moves */
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_realloc(a, o, 1000, 0x1000u) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK(fb_realloc(a, o, 0, 0x1000u) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    CHECK_EQ(fb_usable_size(a, o), 104); /* not freed */
    /* an object of arena a is nothing of arena b's */
    CHECK_STATUS(fb_free(b, o), FB_ERR_NOT_OWNED);
    CHECK_EQ(fb_usable_size(b, o), 0);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_OWNED);
    CHECK(fb_realloc(b, o, 200, FB_KERNEL) == NULL);
    CHECK_EQ(fb_last_error(), FB_ERR_NOT_OWNED);
    CHECK_EQ(fb_owns(b, o), 0);
    check_unchanged(a, before, __LINE__);
    CHECK(fbt_check_fill(o, 100, 9));
    CHECK_STATUS(fb_free(a, o), FB_OK);
    CHECK_TRIMMED(a, 4096);
    CHECK_TRIMMED(b, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    CHECK_STATUS(fb_arena_destroy(b), FB_OK);
}

/* Order-0 pages fb_alloc_pages (FB_KERNEL) gives before it refuses, up to max. */
static int take_every_page(fb_arena* a, void** pages, int max)
{
    int n = 0;
    while (n < max && (pages[n] = fb_alloc_pages(a, 0, FB_KERNEL)) != NULL)
        n++;
    return n;
}

FB_TEST(objects_empty_slabs_come_back_under_memory_pressure)
{
    enum { MAX = 300 };
    static void* pages[MAX];
    /* what a fresh 1 MiB arena gives */
    fb_arena* fresh = fbt_arena(1 * MIB);
    REQUIRE(fresh != NULL);
    int baseline = take_every_page(fresh, pages, MAX);
    CHECK(baseline > 200);
    CHECK_STATUS(fb_arena_destroy(fresh), FB_OK);

    fb_arena* a = fbt_arena(1 * MIB);
    REQUIRE(a != NULL);
    /* objects of several classes, all freed: the slabs stay (current ones and spares) */
    static void* objects[1200];
    static const size_t requests[] = { 16, 100, 700, 3000 };
    static const int counts[] = { 600, 300, 200, 60 }; /* about 360 KiB of the 1 MiB */
    int n = 0;
    for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
        for (int i = 0; i < counts[r]; i++, n++)
            REQUIRE((objects[n] = fb_alloc(a, requests[r], FB_KERNEL)) != NULL);
    }
    for (int i = 0; i < n; i++)
        CHECK_STATUS(fb_free(a, objects[i]), FB_OK);
    CHECK(fbt_stats(a).slab_pages > 0);
    /* without fb_trim, page allocations take them back when memory runs short */
    int got = take_every_page(a, pages, MAX);
    CHECK_EQ(got, baseline);
    CHECK_EQ(fbt_stats(a).slab_pages, 0);
    for (int i = 0; i < got; i++)
        CHECK_STATUS(fb_free_pages(a, pages[i], 0), FB_OK);
    CHECK_TRIMMED(a, 256);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

/* Threads allocating, handing objects to each other and freeing others' objects, while another thread trims,
   balances and validates the arena: no object is lost, none is handed out twice. */
enum { STRESS_THREADS = 4, STRESS_SLOTS = 256 };

struct stress {
    fb_arena* arena;
    int rounds;
    _Atomic(uintptr_t) slots[STRESS_SLOTS]; /* objects in flight between threads, with their size in the low bits */
    atomic_int running, errors;
    atomic_int alloc_failures, damaged, wrong_sizes, free_failures, sweep_failures; /* which kind, for the report */
    atomic_int last_status;
};

static void stress_error(struct stress* st, atomic_int* kind, int status)
{
    atomic_fetch_add(&st->errors, 1);
    atomic_fetch_add(kind, 1);
    atomic_store(&st->last_status, status);
}

static const size_t stress_sizes[8] = { 8, 24, 40, 96, 200, 1000, 3000, 12000 };

/* The first 8 bytes of an object in flight hold its size class's index and a check word. */
static uint64_t stress_tag(void* p, unsigned k) { return ((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull) ^ k; }

static void* stress_worker(void* arg)
{
    struct stress* st = (struct stress*)arg;
    uint32_t x = (uint32_t)(uintptr_t)&x;
    for (int i = 0; i < st->rounds; i++) {
        x = x * 1664525u + 1013904223u;
        unsigned k = (x >> 8) & 7;
        void* p = fb_alloc(st->arena, stress_sizes[k], FB_KERNEL);
        HANDOFF_AFTER_ALLOC();
        if (p == NULL) {
            stress_error(st, &st->alloc_failures, fb_last_error());
            continue;
        }
        *(uint64_t*)p = stress_tag(p, k);
        /* swap it into a random slot and free what was there (another thread's object, most of the time) */
        uintptr_t old = atomic_exchange(&st->slots[(x >> 16) % STRESS_SLOTS], (uintptr_t)p | k);
        if (old != 0) {
            void* q = (void*)(old & ~(uintptr_t)7);
            unsigned qk = (unsigned)(old & 7);
            if (*(uint64_t*)q != stress_tag(q, qk))
                stress_error(st, &st->damaged, 0);
            if (fb_usable_size(st->arena, q) != class_of(stress_sizes[qk]))
                stress_error(st, &st->wrong_sizes, fb_last_error());
            HANDOFF_BEFORE_FREE();
            int status = fb_free(st->arena, q);
            if (status != FB_OK)
                stress_error(st, &st->free_failures, status);
        }
    }
    atomic_fetch_sub(&st->running, 1);
    return NULL;
}

static void* stress_sweeper(void* arg)
{
    struct stress* st = (struct stress*)arg;
    for (int i = 0; atomic_load(&st->running) > 0; i++) {
        int status = i % 3 == 0 ? (fb_trim(st->arena) >= 0 ? FB_OK : FB_ERR_CORRUPT)
                   : i % 3 == 1 ? fb_balance(st->arena)
                                : fb_validate(st->arena);
        if (status != FB_OK)
            stress_error(st, &st->sweep_failures, status);
        nap_ms(1);
    }
    return NULL;
}

FB_TEST(objects_survive_threads_freeing_each_others_while_the_arena_is_trimmed)
{
    static struct stress st;
    memset(&st, 0, sizeof st);
    st.arena = fbt_arena(64 * MIB);
    REQUIRE(st.arena != NULL);
    st.rounds = fbt_scale(100000);
    atomic_store(&st.running, STRESS_THREADS);
    pthread_t workers[STRESS_THREADS], sweeper;
    for (int t = 0; t < STRESS_THREADS; t++)
        REQUIRE(pthread_create(&workers[t], NULL, stress_worker, &st) == 0);
    REQUIRE(pthread_create(&sweeper, NULL, stress_sweeper, &st) == 0);
    for (int t = 0; t < STRESS_THREADS; t++)
        pthread_join(workers[t], NULL);
    pthread_join(sweeper, NULL);
    CHECK_EQ(atomic_load(&st.errors), 0);
    CHECK_EQ(atomic_load(&st.alloc_failures), 0);
    CHECK_EQ(atomic_load(&st.damaged), 0);
    CHECK_EQ(atomic_load(&st.wrong_sizes), 0);
    CHECK_EQ(atomic_load(&st.free_failures), 0);
    CHECK_EQ(atomic_load(&st.sweep_failures), 0);
    CHECK_STATUS(atomic_load(&st.last_status), FB_OK);
    int64_t in_flight = 0;
    for (int i = 0; i < STRESS_SLOTS; i++)
        in_flight += atomic_load(&st.slots[i]) != 0;
    CHECK_EQ(fbt_stats(st.arena).slab_objects, in_flight);
    CHECK_ARENA(st.arena, -1);
    for (int i = 0; i < STRESS_SLOTS; i++) {
        uintptr_t v = atomic_load(&st.slots[i]);
        if (v != 0)
            CHECK_STATUS(fb_free(st.arena, (void*)(v & ~(uintptr_t)7)), FB_OK);
    }
    CHECK_TRIMMED(st.arena, 16384);
    CHECK_STATUS(fb_arena_destroy(st.arena), FB_OK);
}

/* The slab order of a class, as the design describes it: the smallest order below max_order whose block holds
   at least 8 objects (or 512) and loses at most 1/16 of itself at its end; -1 when none does. */
static int slab_order_for(size_t size, uint32_t page_size, uint32_t max_order, unsigned* objects)
{
    for (uint32_t order = 0; order < max_order && (uint64_t)page_size << order <= ((uint64_t)1 << 30); order++) {
        size_t bytes = (size_t)page_size << order;
        size_t n = bytes / size < 512 ? bytes / size : 512;
        if ((n >= 8 || n == 512) && (bytes - n * size) * 16 <= bytes) {
            *objects = (unsigned)n;
            return (int)order;
        }
    }
    return -1;
}

FB_TEST(objects_follow_the_arena_geometry)
{
    static const struct { uint32_t page_size, max_order; } shapes[] = {
        { 512, 6 }, { 65536, 11 }, { 64, 11 }, { 4096, 1 }, { 4096, 3 }, { 4096, 11 },
    };
    for (size_t g = 0; g < sizeof shapes / sizeof shapes[0]; g++) {
        uint32_t ps = shapes[g].page_size, mo = shapes[g].max_order;
        fb_options o;
        fbt_default_options(&o, (size_t)ps * 4096);
        o.page_size = ps;
        o.max_order = mo;
        fb_arena* a = fbt_arena_with(&o);
        REQUIRE(a != NULL);
        /* the smallest class: 512 objects fill a page; then every class up to the first that no order holds */
        size_t min_class = class_of(ps / 512 > 8 ? ps / 512 : 8);
        size_t small_max = 0;
        uint32_t count = 0;
        for (size_t c = min_class; c <= SMALL_MAX; c = class_of(c + 1)) {
            unsigned objects;
            int order = slab_order_for(c, ps, mo, &objects);
            if (order < 0)
                break;
            fb_slab_stats k = slab_stats(a, count);
            CHECK_EQ(k.object_size, c);
            CHECK_EQ(k.objects_per_slab, objects);
            CHECK_EQ(k.pages_per_slab, 1u << order);
            small_max = c;
            count++;
        }
        CHECK_EQ(fbt_stats(a).slab_class_count, count);
        CHECK_EQ(fb_small_max(a), small_max);
        /* below the smallest class a request takes it; every class's own size is its usable size */
        void* p = fb_alloc(a, 1, FB_KERNEL);
        REQUIRE(p != NULL);
        CHECK_EQ(fb_usable_size(a, p), min_class);
        CHECK_STATUS(fb_free(a, p), FB_OK);
        for (size_t c = min_class; c <= small_max; c = class_of(c + 1)) {
            p = fb_alloc(a, c, FB_KERNEL);
            REQUIRE(p != NULL);
            CHECK_EQ(fb_usable_size(a, p), c);
            CHECK_EQ((uintptr_t)p % alignment_of(c), 0);
            memset(p, 0xA5, c);
            CHECK_STATUS(fb_free(a, p), FB_OK);
        }
        /* one byte more is a block of pages */
        p = fb_alloc(a, small_max + 1, FB_KERNEL);
        REQUIRE(p != NULL);
        size_t block = ps;
        while (block < small_max + 1)
            block <<= 1;
        CHECK_EQ(fb_usable_size(a, p), block);
        CHECK_EQ((uintptr_t)p % ps, 0);
        CHECK_STATUS(fb_free(a, p), FB_OK);
        CHECK_TRIMMED(a, 4096);
        CHECK_STATUS(fb_arena_destroy(a), FB_OK);
    }
}

struct realloc_elsewhere {
    fb_arena* arena;
    void* p;
    size_t bytes;
    void* result;
};

static void* realloc_on_thread(void* arg)
{
    struct realloc_elsewhere* r = (struct realloc_elsewhere*)arg;
    r->result = fb_realloc(r->arena, r->p, r->bytes, FB_KERNEL);
    return NULL;
}

FB_TEST(objects_realloc_by_another_thread_moves_them_and_frees_the_old_one)
{
    fb_arena* a = fbt_arena(16 * MIB);
    REQUIRE(a != NULL);
    void* keep = fb_alloc(a, 100, FB_KERNEL); /* keeps the old object's slab alive */
    void* p = fb_alloc(a, 100, FB_KERNEL);
    REQUIRE(keep != NULL && p != NULL);
    fbt_fill(p, 100, 77);
    static const size_t sizes[] = { 104, 1000, 50000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct realloc_elsewhere r = { a, p, sizes[i], NULL };
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, realloc_on_thread, &r) == 0);
        pthread_join(t, NULL);
        REQUIRE(r.result != NULL);
        CHECK(fbt_check_fill(r.result, 100, 77));
        if (i == 0) {
            CHECK(r.result == p); /* the same class: in place */
        } else {
            CHECK(r.result != p);
            CHECK_STATUS(fb_free(a, p), FB_ERR_DOUBLE_FREE); /* the old one was freed by that thread, remotely */
        }
        p = r.result;
    }
    CHECK_EQ(fb_usable_size(a, p), 65536);
    CHECK_STATUS(fb_free(a, p), FB_OK);
    CHECK_STATUS(fb_free(a, keep), FB_OK);
    CHECK_EQ(fbt_stats(a).slab_objects, 0);
    CHECK_TRIMMED(a, 4096);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}
