/*
 * fuzz_abi.c - a model-checked random sequence of fb_* calls, driven by libFuzzer's byte stream.
 *
 * Each input builds a small arena (one or two zones, 128 pages of 4 KiB, orders 0..5, no background reclaim, so
 * every callback runs inside a call of this thread), then reads one operation per byte group: page, zonelist,
 * byte (objects, blocks, and above the largest block runs of largest blocks) and bulk allocations, realloc, frees,
 * usable size, ownership, the page cache with a C owner (add, touch, mark dirty, remove; writeback/evict checked
 * against the model), fb_balance, and bad frees (double, interior, misaligned, wrong order, foreign, of a cached
 * page, bulk frees with one bad entry). A shadow model holds every
 * live block; after each call the harness checks the returned status against the model, that live blocks never
 * overlap, and that free + parked + slab + live pages = total. Byte requests up to fb_small_max() are objects of
 * their size class (the model computes the class on its own: 8-byte steps to 64, then 8 classes per doubling),
 * aligned to 16 bytes or, for odd multiples of 8, to 8, and counted by the slab statistics; larger ones are page
 * blocks (runs above the largest block). Every block is filled with a pattern from its id, checked before it is freed and every CHECK_EVERY
 * calls; fb_validate runs every CHECK_EVERY calls and at the end, when everything is freed and fb_trim has given
 * every slab back, the arena must be whole again.
 *
 * The library is NativeAOT code and is not instrumented: libFuzzer's coverage comes from this harness's own
 * branches (which statuses and model states a sequence reached). Any disagreement with the model aborts, so the
 * fuzzer reports it as a crash with the input that produced it.
 *
 * Built by build.sh with clang -fsanitize=fuzzer,address; fuzz_main.c gives the same harness a plain main() that
 * replays files (the corpus) for hosts without libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fastbuddy.h>

#define PAGE 4096u
#define MAX_ORDER 6u
#define MAX_LIVE 2048
#define RECENT 16
#define CHECK_EVERY 16

enum kind { K_PAGES, K_BYTES, K_OBJECT };

typedef struct block {
    uint8_t* p;
    uint32_t order;          /* 0 for an object */
    enum kind kind;
    size_t size;     /* bytes whose contents the host cares about (requested size, or the whole block) */
    size_t size_class; /* an object's class size (its usable size) */
    uint64_t id;
    int cached;
    uint32_t run;    /* 0 for a block; else a run of this many largest blocks (fb_alloc above the largest block) */
} block;

typedef struct input {
    const uint8_t* data;
    size_t size, pos;
} input;

static struct model {
    fb_arena* arena;
    block live[MAX_LIVE];
    int count;
    uint64_t next_id;
    uint8_t* recent[RECENT]; /* heads freed lately, for double frees */
    uint32_t recent_order[RECENT];
    enum kind recent_kind[RECENT];
    int recent_next;
    int writeback_clean;     /* what the owner's writeback answers */
    int zones;
    long long total_pages;
    size_t small_max;        /* fb_small_max: byte requests up to it are objects */
    size_t max_alloc;        /* the largest fb_alloc size: the largest zone's whole largest blocks */
    long calls;
    int in_callback_call;    /* a call during which callbacks may run */
} m;

static int owner_ctx; /* the cache owner's context: its address is checked in the callbacks */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_abi: model disagrees (line %d, call %ld): ", __LINE__, m.calls);                        \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, " [last error %d: %s]\n", fb_last_error(), fb_last_error_message());       \
        abort();                                                                                   \
    } while (0)

#define EXPECT_STATUS(expr, want)                                                                  \
    do {                                                                                           \
        int got_ = (expr);                                                                         \
        if (got_ != (want))                                                                        \
            FAIL("%s returned %d (%s), expected %d (%s)", #expr, got_, fb_strerror(got_), (want),  \
                 fb_strerror(want));                                                               \
    } while (0)

static uint8_t next(input* in) { return in->pos < in->size ? in->data[in->pos++] : 0; }
static uint16_t next16(input* in) { uint16_t lo = next(in); return (uint16_t)(lo | (uint16_t)next(in) << 8); }

/* ------------------------------------------------------------------ contents */

static uint64_t pattern(uint64_t id, size_t word) { return (id * 0x9E3779B97F4A7C15ull) ^ (word * 0x100000001b3ull); }

/* The size class of an object request (1 .. small_max): 8-byte steps up to 64, then 8 classes per doubling. */
static size_t class_size(size_t bytes)
{
    size_t s = bytes - 1;
    if (s < 64)
        return ((s >> 3) + 1) << 3;
    unsigned top = 63u - (unsigned)__builtin_clzll((unsigned long long)s);
    size_t step = (size_t)1 << (top - 3);
    return (s & ~(step - 1)) + step;
}

static size_t largest_block(void) { return (size_t)PAGE << (MAX_ORDER - 1); }

static size_t block_bytes(const block* b)
{
    return b->kind == K_OBJECT ? b->size_class : b->run ? b->run * largest_block() : (size_t)PAGE << b->order;
}

static void fill(block* b)
{
    uint64_t* w = (uint64_t*)b->p;
    size_t n = block_bytes(b) / 8;
    for (size_t i = 0; i < n; i++)
        w[i] = pattern(b->id, i);
}

/* Checks the first `bytes` bytes (whole words) against the pattern of `id`. */
static void check_prefix(const uint8_t* p, uint64_t id, size_t bytes, const char* when)
{
    const uint64_t* w = (const uint64_t*)p;
    for (size_t i = 0; i < bytes / 8; i++)
        if (w[i] != pattern(id, i))
            FAIL("block %llu at %p lost its contents at word %zu (%s)", (unsigned long long)id, (void*)p, i, when);
}

static void check_block(const block* b, const char* when) { check_prefix(b->p, b->id, block_bytes(b), when); }

/* ------------------------------------------------------------------ the model */

/* The order of the block for `bytes`; a run (above the largest block) is made of blocks of the top order. */
static uint32_t order_of_bytes(size_t bytes)
{
    uint32_t order = 0;
    while (((size_t)PAGE << order) < bytes && order < MAX_ORDER - 1)
        order++;
    return order;
}

/* 0 for a size a block holds; else the run's length in largest blocks. */
static uint32_t run_of_bytes(size_t bytes) { return bytes > largest_block() ? (uint32_t)((bytes - 1) / largest_block() + 1) : 0; }

static int find_head(const void* p)
{
    for (int i = 0; i < m.count; i++)
        if (m.live[i].p == p)
            return i;
    return -1;
}

/* The live block containing p (head or not), or -1. */
static int find_containing(const void* p)
{
    for (int i = 0; i < m.count; i++)
        if ((const uint8_t*)p >= m.live[i].p && (const uint8_t*)p < m.live[i].p + block_bytes(&m.live[i]))
            return i;
    return -1;
}

static long long live_pages(void)
{
    long long pages = 0;
    for (int i = 0; i < m.count; i++)
        if (m.live[i].kind != K_OBJECT)
            pages += (long long)(block_bytes(&m.live[i]) / PAGE);
    return pages;
}

static int cached_count(void)
{
    int n = 0;
    for (int i = 0; i < m.count; i++)
        n += m.live[i].cached;
    return n;
}

/* A new block (or run of `run` largest blocks, or object of class size_class) from the arena: aligned, owned,
   overlapping no live block; zeroed if asked; then filled. */
static void adopt_sized(void* p, uint32_t order, uint32_t run, enum kind kind, size_t size, size_t size_class, int zeroed)
{
    uintptr_t a = (uintptr_t)p;
    block shape = { .order = order, .kind = kind, .size_class = size_class, .run = run };
    size_t bytes = block_bytes(&shape);
    uintptr_t align = kind != K_OBJECT ? (uintptr_t)PAGE << order : (size_class & 15) != 0 ? 8 : 16;
    if (a % align != 0)
        FAIL("block %p of %zu bytes is not aligned to %zu", p, bytes, (size_t)align);
    if (fb_owns(m.arena, p) != 1)
        FAIL("fb_owns says the arena does not own its own block %p", p);
    for (int i = 0; i < m.count; i++) {
        uint8_t* s = m.live[i].p;
        if ((uint8_t*)p < s + block_bytes(&m.live[i]) && s < (uint8_t*)p + bytes)
            FAIL("block %p (%zu bytes) overlaps live block %p (%zu bytes)", p, bytes, (void*)s, block_bytes(&m.live[i]));
    }
    if (m.count == MAX_LIVE)
        FAIL("more than %d live blocks in an arena of %lld pages", MAX_LIVE, m.total_pages);
    block* b = &m.live[m.count++];
    *b = (block){ (uint8_t*)p, order, kind, size, size_class, ++m.next_id, 0, run };
    if (zeroed) {
        const uint64_t* w = (const uint64_t*)p;
        for (size_t i = 0; i < block_bytes(b) / 8; i++)
            if (w[i] != 0)
                FAIL("FB_ZERO block %p is not zeroed at word %zu", p, i);
    }
    fill(b);
}

static void adopt(void* p, uint32_t order, enum kind kind, size_t size, int zeroed)
{
    adopt_sized(p, order, 0, kind, size, 0, zeroed);
}

/* What fb_alloc / fb_realloc of `bytes` (in range) must have returned: an object up to small_max, else a block. */
static void adopt_bytes(void* p, size_t bytes, int zeroed)
{
    if (bytes <= m.small_max)
        adopt_sized(p, 0, 0, K_OBJECT, bytes, class_size(bytes), zeroed);
    else
        adopt_sized(p, order_of_bytes(bytes), run_of_bytes(bytes), K_BYTES, bytes, 0, zeroed);
}

static void forget(int i)
{
    m.recent[m.recent_next] = m.live[i].p;
    m.recent_order[m.recent_next] = m.live[i].order;
    m.recent_kind[m.recent_next] = m.live[i].kind;
    m.recent_next = (m.recent_next + 1) % RECENT;
    m.live[i] = m.live[--m.count];
}

static void check_accounting(void)
{
    fb_stats s = { .struct_size = sizeof s };
    EXPECT_STATUS(fb_get_stats(m.arena, &s), FB_OK);
    if (s.total_pages != m.total_pages)
        FAIL("total_pages %lld, expected %lld", (long long)s.total_pages, m.total_pages);
    if (s.free_pages + s.per_cpu_pages + s.slab_pages + live_pages() != s.total_pages)
        FAIL("free %lld + parked %lld + slab %lld + live %lld != total %lld", (long long)s.free_pages,
             (long long)s.per_cpu_pages, (long long)s.slab_pages, live_pages(), (long long)s.total_pages);
    long long objects = 0, object_bytes = 0;
    for (int i = 0; i < m.count; i++)
        if (m.live[i].kind == K_OBJECT) {
            objects++;
            object_bytes += (long long)m.live[i].size_class;
        }
    if (s.slab_objects != objects || s.slab_object_bytes != object_bytes)
        FAIL("the arena has %lld objects (%lld bytes), the model %lld (%lld bytes)", (long long)s.slab_objects,
             (long long)s.slab_object_bytes, objects, object_bytes);
    long long cached = s.active_pages + s.inactive_dirty_pages + s.inactive_clean_pages;
    if (cached != cached_count())
        FAIL("the arena has %lld cached pages, the model %d", cached, cached_count());
}

static void check_all(void)
{
    EXPECT_STATUS(fb_validate(m.arena), FB_OK);
    for (int i = 0; i < m.count; i++)
        check_block(&m.live[i], "periodic check");
}

/* ------------------------------------------------------------------ the owner */

static int on_writeback(void* ctx, void* page)
{
    if (ctx != &owner_ctx)
        FAIL("writeback got a foreign context");
    if (!m.in_callback_call)
        FAIL("writeback of %p outside a call that may reclaim", page);
    int i = find_head(page);
    if (i < 0 || !m.live[i].cached)
        FAIL("writeback of %p, which is not cached", page);
    check_block(&m.live[i], "writeback");
    return m.writeback_clean;
}

static void on_evict(void* ctx, void* page)
{
    if (ctx != &owner_ctx)
        FAIL("evict got a foreign context");
    if (!m.in_callback_call)
        FAIL("evict of %p outside a call that may reclaim", page);
    int i = find_head(page);
    if (i < 0 || !m.live[i].cached)
        FAIL("evict of %p, which is not cached (twice, or after fb_cache_remove)", page);
    check_block(&m.live[i], "evict");
    forget(i); /* the page is the arena's now */
}

static const fb_page_ops owner_ops = { on_writeback, on_evict };

/* ------------------------------------------------------------------ operations */

static uint32_t valid_flags(uint8_t b) { return b & (FB_WAIT | FB_IO | FB_FS | FB_MEMALLOC | FB_ZERO); }

/* An allocation that returned NULL: the status must say why, and nothing changed. */
static void expect_null_status(const char* what, int allowed_invalid)
{
    int e = fb_last_error();
    if (e == FB_ERR_NO_MEMORY || (allowed_invalid && e == FB_ERR_INVALID_ARGUMENT))
        return;
    FAIL("%s returned NULL with status %d (%s)", what, e, fb_strerror(e));
}

static void op_alloc_pages(input* in, int zonelist_call)
{
    uint32_t order = next(in) % (MAX_ORDER + 1); /* MAX_ORDER itself is out of range */
    uint32_t flags = valid_flags(next(in));
    uint32_t zl = (uint32_t)(next(in) % (m.zones + 1)); /* zones itself is out of range */
    m.in_callback_call = 1;
    void* p = zonelist_call ? fb_alloc_pages_zonelist(m.arena, order, flags, zl) : fb_alloc_pages(m.arena, order, flags);
    m.in_callback_call = 0;
    int bad = order >= MAX_ORDER || (zonelist_call && zl >= (uint32_t)m.zones);
    if (p == NULL) {
        if (bad)
            EXPECT_STATUS(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        else
            expect_null_status("fb_alloc_pages", 0);
        return;
    }
    if (bad)
        FAIL("an out-of-range allocation (order %u, zonelist %u) succeeded", order, zl);
    EXPECT_STATUS(fb_last_error(), FB_OK);
    adopt(p, order, K_PAGES, (size_t)PAGE << order, (flags & FB_ZERO) != 0);
}

static void op_alloc_bad_flags(input* in)
{
    uint32_t flags = 32u << (next(in) % 27); /* a bit above FB_ZERO */
    void* p = fb_alloc_pages(m.arena, 0, flags);
    if (p != NULL)
        FAIL("fb_alloc_pages accepted invalid flags 0x%x", flags);
    EXPECT_STATUS(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
}

static size_t byte_size(input* in)
{
    uint16_t r = next16(in);
    switch (r & 3) {
    case 0: return (size_t)(r >> 2) % 64 + 1;          /* tiny */
    case 1: return (size_t)(r >> 2) * 8 % (PAGE * 8) + 1; /* up to 8 pages */
    case 2: return (size_t)(r >> 2) * 64 % (m.max_alloc + 2); /* up to the largest zone + 1 (and 0): blocks and runs */
    default: return (size_t)PAGE << ((r >> 2) % MAX_ORDER);
    }
}

static int bytes_in_range(size_t bytes) { return bytes >= 1 && bytes <= m.max_alloc; }

static void op_alloc_bytes(input* in)
{
    size_t bytes = byte_size(in);
    uint32_t flags = valid_flags(next(in));
    m.in_callback_call = 1;
    void* p = fb_alloc(m.arena, bytes, flags);
    m.in_callback_call = 0;
    if (p == NULL) {
        if (!bytes_in_range(bytes))
            EXPECT_STATUS(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
        else
            expect_null_status("fb_alloc", 0);
        return;
    }
    if (!bytes_in_range(bytes))
        FAIL("fb_alloc of %zu bytes succeeded", bytes);
    block shape = { .order = order_of_bytes(bytes), .kind = K_BYTES, .run = run_of_bytes(bytes) };
    size_t usable = bytes <= m.small_max ? class_size(bytes) : block_bytes(&shape);
    if (fb_usable_size(m.arena, p) != usable)
        FAIL("fb_alloc(%zu): usable size %zu, expected %zu", bytes, fb_usable_size(m.arena, p), usable);
    adopt_bytes(p, bytes, (flags & FB_ZERO) != 0);
}

static int pick(input* in) { return m.count ? (int)(next16(in) % (unsigned)m.count) : -1; }

static void op_realloc(input* in)
{
    int i = pick(in);
    size_t bytes = byte_size(in);
    uint32_t flags = valid_flags(next(in)) & ~FB_ZERO;
    if (i < 0) {
        void* p = fb_realloc(m.arena, NULL, bytes, flags); /* NULL p allocates */
        if (p != NULL) {
            if (!bytes_in_range(bytes))
                FAIL("fb_realloc(NULL, %zu) succeeded", bytes);
            adopt_bytes(p, bytes, 0);
        } else if (bytes != 0) {
            expect_null_status("fb_realloc(NULL)", !bytes_in_range(bytes));
        }
        return;
    }
    block old = m.live[i];
    m.in_callback_call = 1;
    void* q = fb_realloc(m.arena, old.p, bytes, flags);
    m.in_callback_call = 0;
    i = find_head(old.p); /* a callback may have evicted other blocks: indices moved */
    if (old.cached) {
        /* refused: a cached page is not the host's to resize or free */
        if (q != NULL || i < 0)
            FAIL("fb_realloc of a cached page returned %p and %s it", q, i < 0 ? "lost" : "kept");
        EXPECT_STATUS(fb_last_error(), FB_ERR_BUSY);
        return;
    }
    if (bytes == 0) {
        if (q != NULL)
            FAIL("fb_realloc(p, 0) returned %p", q);
        forget(i); /* freed: the accounting check after this call proves it */
        return;
    }
    if (q == NULL) {
        expect_null_status("fb_realloc", !bytes_in_range(bytes));
        check_block(&m.live[i], "failed realloc");
        return;
    }
    if (!bytes_in_range(bytes))
        FAIL("fb_realloc to %zu bytes succeeded", bytes);
    size_t kept = old.size < bytes ? old.size : bytes;
    check_prefix(q, old.id, kept, "realloc");
    forget(i);
    adopt_bytes(q, bytes, 0);
    if (fb_usable_size(m.arena, q) != block_bytes(&m.live[m.count - 1]))
        FAIL("fb_realloc to %zu bytes: usable size %zu, expected %zu", bytes, fb_usable_size(m.arena, q),
             block_bytes(&m.live[m.count - 1]));
}

static void op_realloc_bad_flags(input* in)
{
    int i = pick(in);
    if (i < 0 || m.live[i].cached)
        return;
    uint32_t flags = 32u << (next(in) % 27);
    void* q = fb_realloc(m.arena, m.live[i].p, block_bytes(&m.live[i]), flags);
    if (q != NULL)
        FAIL("fb_realloc accepted invalid flags 0x%x", flags);
    EXPECT_STATUS(fb_last_error(), FB_ERR_INVALID_ARGUMENT);
    check_block(&m.live[i], "realloc with bad flags");
}

static void op_free(input* in, int byte_api)
{
    int i = pick(in);
    if (i < 0) {
        EXPECT_STATUS(fb_free(m.arena, NULL), FB_OK);
        return;
    }
    block* b = &m.live[i];
    check_block(b, "free");
    /* a run is freed whole (fb_free); fb_free_pages of its head as one block is a wrong order */
    int want = b->cached ? FB_ERR_BUSY : b->run && !byte_api ? FB_ERR_ORDER_MISMATCH : FB_OK;
    /* objects go back through fb_free only (fb_free_pages of an object is a bad free, op_bad_free) */
    EXPECT_STATUS(byte_api || b->kind == K_OBJECT ? fb_free(m.arena, b->p) : fb_free_pages(m.arena, b->p, b->order), want);
    if (want == FB_OK)
        forget(i);
}

static void op_usable_size(input* in)
{
    int i = pick(in);
    if (i >= 0) {
        size_t got = fb_usable_size(m.arena, m.live[i].p);
        /* a cached page is in the arena's custody: its size, or 0 with FB_ERR_BUSY */
        int busy = m.live[i].cached && got == 0 && fb_last_error() == FB_ERR_BUSY;
        if (got != block_bytes(&m.live[i]) && !busy)
            FAIL("fb_usable_size %zu, expected %zu", got, block_bytes(&m.live[i]));
        if (m.live[i].kind != K_OBJECT && m.live[i].order > 0 && fb_usable_size(m.arena, m.live[i].p + PAGE) != 0)
            FAIL("fb_usable_size of an interior page is not 0");
        if (m.live[i].kind == K_OBJECT) {
            if (fb_usable_size(m.arena, m.live[i].p + 1) != 0)
                FAIL("fb_usable_size of a misaligned object pointer is not 0");
            EXPECT_STATUS(fb_last_error(), FB_ERR_NOT_A_BLOCK);
        }
    }
    int local = 0;
    if (fb_usable_size(m.arena, &local) != 0 || fb_owns(m.arena, &local) != 0)
        FAIL("a stack address is the arena's");
}

static void op_bulk(input* in)
{
    void* pages[24];
    size_t want = next(in) % 25;
    uint32_t flags = valid_flags(next(in)) & ~FB_ZERO;
    m.in_callback_call = 1;
    size_t got = fb_alloc_pages_bulk(m.arena, pages, want, flags);
    m.in_callback_call = 0;
    if (got > want)
        FAIL("fb_alloc_pages_bulk returned %zu of %zu", got, want);
    for (size_t k = 0; k < got; k++)
        adopt(pages[k], 0, K_PAGES, PAGE, 0);
    if (got > 0 && (next(in) & 1)) {
        /* give the same pages back at once */
        EXPECT_STATUS(fb_free_pages_bulk(m.arena, (void* const*)pages, got), FB_OK);
        for (size_t k = 0; k < got; k++)
            forget(find_head(pages[k]));
    }
}

/* A bulk free with one bad entry among good ones frees nothing. */
static void op_bulk_bad(input* in)
{
    void* pages[9];
    size_t n = 0;
    for (int i = 0; i < m.count && n < 8; i++)
        if (m.live[i].order == 0 && !m.live[i].cached && m.live[i].kind != K_OBJECT)
            pages[n++] = m.live[i].p;
    int local;
    int variant = next(in) % 4;
    int expected[2] = { -1, -1 };
    if (variant == 0 && n > 0) {
        pages[n] = pages[0]; /* twice */
        expected[0] = FB_ERR_DOUBLE_FREE;
        expected[1] = FB_ERR_INVALID_ARGUMENT;
    } else if (variant == 1) {
        pages[n] = &local;
        expected[0] = FB_ERR_NOT_OWNED;
    } else {
        int j = -1;
        for (int i = 0; i < m.count; i++)
            if (variant == 2 ? m.live[i].cached : m.live[i].order > 0 || m.live[i].kind == K_OBJECT)
                j = i;
        if (j < 0)
            return;
        pages[n] = m.live[j].p;
        expected[0] = variant == 2 ? FB_ERR_BUSY : m.live[j].kind == K_OBJECT ? FB_ERR_NOT_A_BLOCK : FB_ERR_ORDER_MISMATCH;
    }
    int got = fb_free_pages_bulk(m.arena, (void* const*)pages, n + 1);
    if (got != expected[0] && got != expected[1])
        FAIL("a bulk free with a bad entry (variant %d) returned %d (%s)", variant, got, fb_strerror(got));
    for (size_t k = 0; k < n; k++)
        check_block(&m.live[find_head(pages[k])], "refused bulk free");
}

static void op_cache_add(input* in)
{
    int i = pick(in);
    if (i < 0)
        return;
    block* b = &m.live[i];
    int dirty = next(in) & 1;
    int want = b->cached ? FB_ERR_BUSY : b->kind == K_OBJECT ? FB_ERR_NOT_A_BLOCK : b->order != 0 ? FB_ERR_ORDER_MISMATCH : FB_OK;
    int got = fb_cache_add(m.arena, b->p, &owner_ops, &owner_ctx, dirty);
    if (want == FB_OK ? got != FB_OK : got == FB_OK)
        FAIL("fb_cache_add of a block of order %u (cached %d) returned %d (%s)", b->order, b->cached, got, fb_strerror(got));
    if (got == FB_OK)
        b->cached = 1;
}

static void op_cache_call(input* in)
{
    int i = pick(in);
    if (i < 0)
        return;
    block* b = &m.live[i];
    int which = next(in) % 3;
    int got = which == 0 ? fb_cache_touch(m.arena, b->p)
            : which == 1 ? fb_cache_mark_dirty(m.arena, b->p)
                         : fb_cache_remove(m.arena, b->p);
    if (b->cached) {
        if (got != FB_OK)
            FAIL("cache call %d on a cached page returned %d (%s)", which, got, fb_strerror(got));
        if (which == 2) {
            b->cached = 0;
            check_block(b, "cache remove");
        }
    } else if (got == FB_OK) {
        FAIL("cache call %d on a page that is not cached succeeded", which);
    }
}

/* Bad frees of a live object: inside it (never an object start), through fb_free_pages, with any order. */
static void bad_object_free(input* in, block* b, int variant)
{
    switch (variant) {
    case 2: /* misaligned: objects start at multiples of 8 */
        EXPECT_STATUS(fb_free(m.arena, b->p + 1 + next(in) % 7), FB_ERR_NOT_A_BLOCK);
        break;
    case 3: /* interior, 8-aligned */
        if (b->size_class > 8)
            EXPECT_STATUS(fb_free(m.arena, b->p + 8 * (1 + next(in) % (b->size_class / 8 - 1))), FB_ERR_NOT_A_BLOCK);
        break;
    case 4: { /* an object is not a block of pages, of any order in range */
        uint32_t o = next(in) % (MAX_ORDER + 2);
        EXPECT_STATUS(fb_free_pages(m.arena, b->p, o), o >= MAX_ORDER ? FB_ERR_INVALID_ARGUMENT : FB_ERR_NOT_A_BLOCK);
        break;
    }
    default:
        EXPECT_STATUS(fb_free_pages(m.arena, b->p, 0), FB_ERR_NOT_A_BLOCK);
        break;
    }
    check_block(b, "refused object free");
}

static void op_bad_free(input* in)
{
    int variant = next(in) % 7;
    int i = pick(in);
    int local = 0;
    if (variant == 0) { /* foreign */
        EXPECT_STATUS(fb_free_pages(m.arena, &local, 0), FB_ERR_NOT_OWNED);
        EXPECT_STATUS(fb_free(m.arena, &local), FB_ERR_NOT_OWNED);
        return;
    }
    if (variant == 1) { /* double: a head freed lately that no live block covers */
        int r = next(in) % RECENT;
        uint8_t* p = m.recent[r];
        if (p == NULL || find_containing(p) >= 0)
            return;
        int got = m.recent_kind[r] == K_OBJECT ? fb_free(m.arena, p) : fb_free_pages(m.arena, p, m.recent_order[r]);
        if (got != FB_ERR_DOUBLE_FREE && got != FB_ERR_NOT_A_BLOCK)
            FAIL("a double free of %p returned %d (%s)", (void*)p, got, fb_strerror(got));
        return;
    }
    if (i < 0)
        return;
    block* b = &m.live[i];
    if (b->kind == K_OBJECT) {
        bad_object_free(in, b, variant);
        return;
    }
    switch (variant) {
    case 2: /* misaligned */
        EXPECT_STATUS(fb_free_pages(m.arena, b->p + 1 + next(in) % (PAGE - 1), b->order), FB_ERR_NOT_A_BLOCK);
        EXPECT_STATUS(fb_free(m.arena, b->p + 8), FB_ERR_NOT_A_BLOCK);
        break;
    case 3: /* interior */
        if (b->order > 0) {
            size_t k = 1 + next(in) % ((1u << b->order) - 1);
            EXPECT_STATUS(fb_free_pages(m.arena, b->p + k * PAGE, 0), FB_ERR_NOT_A_BLOCK);
            EXPECT_STATUS(fb_free(m.arena, b->p + k * PAGE), FB_ERR_NOT_A_BLOCK);
        }
        break;
    case 4: { /* wrong order (in range), or an order out of range */
        uint32_t o = next(in) % (MAX_ORDER + 2);
        if (o == b->order)
            break;
        int got = fb_free_pages(m.arena, b->p, o);
        int want = o >= MAX_ORDER ? FB_ERR_INVALID_ARGUMENT : b->cached ? FB_ERR_BUSY : FB_ERR_ORDER_MISMATCH;
        if (got != want)
            FAIL("fb_free_pages(order %u) of a block of order %u (cached %d) returned %d (%s), expected %d",
                 o, b->order, b->cached, got, fb_strerror(got), want);
        break;
    }
    case 5: /* a cached page */
        if (b->cached) {
            EXPECT_STATUS(fb_free_pages(m.arena, b->p, 0), FB_ERR_BUSY);
            EXPECT_STATUS(fb_free(m.arena, b->p), FB_ERR_BUSY);
        }
        break;
    default: /* past the end of the arena's last page, and just before the first */
        EXPECT_STATUS(fb_free(m.arena, (void*)((uintptr_t)-1 & ~(uintptr_t)(PAGE - 1))), FB_ERR_NOT_OWNED);
        break;
    }
    check_block(b, "refused free");
}

static void op_balance(void)
{
    m.in_callback_call = 1;
    EXPECT_STATUS(fb_balance(m.arena), FB_OK);
    m.in_callback_call = 0;
}

/* ------------------------------------------------------------------ one input */

static void setup(uint8_t config)
{
    fb_options o;
    if (fb_options_init(&o) != FB_OK)
        FAIL("fb_options_init");
    fb_zone_options zones[2] = { { "DMA", 32 * PAGE, 2 }, { "Normal", 96 * PAGE, 4 } };
    fb_zone_options single[1] = { { "Normal", 128 * PAGE, 4 } };
    m.zones = (config & 1) ? 2 : 1;
    o.zones = m.zones == 2 ? zones : single;
    o.zone_count = (uint32_t)m.zones;
    o.max_order = MAX_ORDER;
    o.background_reclaim = 0;
    o.alloc_wait_ms = 0;
    o.per_cpu_pages = (config & 2) ? 8 : 0;
    o.per_cpu_batch = 2;
    o.per_cpu_orders = (config & 4) ? 3 : 1;
    m.arena = NULL;
    EXPECT_STATUS(fb_arena_create(&o, &m.arena), FB_OK);
    m.total_pages = 128;
    m.small_max = fb_small_max(m.arena);
    m.max_alloc = (m.zones == 2 ? 3 : 4) * largest_block(); /* Normal: 96 pages, or 128 */
    if (m.small_max == 0 || m.small_max > (size_t)PAGE << (MAX_ORDER - 1))
        FAIL("fb_small_max is %zu", m.small_max);
    m.count = 0;
    m.next_id = 0;
    m.recent_next = 0;
    memset(m.recent, 0, sizeof m.recent);
    m.writeback_clean = 1;
    m.calls = 0;
}

static void teardown(void)
{
    check_all();
    for (int i = m.count - 1; i >= 0; i--) {
        block* b = &m.live[i];
        check_block(b, "teardown");
        if (b->cached)
            EXPECT_STATUS(fb_cache_remove(m.arena, b->p), FB_OK);
        EXPECT_STATUS(fb_free(m.arena, b->p), FB_OK);
        m.count--;
    }
    EXPECT_STATUS(fb_validate(m.arena), FB_OK); /* drains the per-CPU lists, keeps a few spare slabs */
    if (fb_trim(m.arena) < 0)                    /* every empty slab back to the buddy system */
        FAIL("fb_trim failed");
    EXPECT_STATUS(fb_validate(m.arena), FB_OK);
    fb_stats s = { .struct_size = sizeof s };
    EXPECT_STATUS(fb_get_stats(m.arena, &s), FB_OK);
    if (s.free_pages != s.total_pages || s.slab_pages != 0 || s.slab_objects != 0)
        FAIL("after freeing everything and fb_trim, %lld of %lld pages are free (%lld slab pages, %lld objects)",
             (long long)s.free_pages, (long long)s.total_pages, (long long)s.slab_pages, (long long)s.slab_objects);
    EXPECT_STATUS(fb_arena_destroy(m.arena), FB_OK);
    m.arena = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    input in = { data, size, 0 };
    setup(next(&in));
    while (in.pos < in.size) {
        uint8_t op = next(&in);
        m.calls++;
        switch (op % 20) {
        case 0: case 1: case 2: op_alloc_pages(&in, 0); break;
        case 3: op_alloc_pages(&in, 1); break;
        case 4: op_alloc_bad_flags(&in); break;
        case 5: case 6: op_free(&in, 0); break;
        case 7: op_free(&in, 1); break;
        case 8: op_alloc_bytes(&in); break;
        case 9: op_realloc(&in); break;
        case 10: op_realloc_bad_flags(&in); break;
        case 11: op_usable_size(&in); break;
        case 12: op_bulk(&in); break;
        case 13: op_bulk_bad(&in); break;
        case 14: case 15: op_cache_add(&in); break;
        case 16: op_cache_call(&in); break;
        case 17: op_bad_free(&in); break;
        case 18: op_balance(); break;
        default: m.writeback_clean = next(&in) & 1; break;
        }
        check_accounting();
        if (m.calls % CHECK_EVERY == 0)
            check_all();
    }
    teardown();
    return 0;
}
