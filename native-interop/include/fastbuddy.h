/*
 * fastbuddy.h - C interface of FastBuddy, a zoned binary buddy page allocator
 * with the Linux 2.4 __alloc_pages policy (libfastbuddy.so, built from C# with
 * NativeAOT).
 *
 * Conventions (see docs/c-hosts.md):
 *  - Every function is thread-safe and may be called from any thread, including
 *    threads the host created and the arena's own reclaimer thread (inside
 *    fb_page_ops callbacks).
 *  - Functions returning int return an FB_OK / FB_ERR_* status. Functions
 *    returning a pointer or a size return NULL / 0 on failure and record the
 *    reason for fb_last_error(). No function ever raises a signal or aborts on
 *    bad input: a bad handle, a foreign pointer, a double free and so on are
 *    reported as statuses and leave the arena exactly as it was.
 *  - An fb_arena* is an opaque, validated handle (not a real pointer): a
 *    destroyed or made-up handle gives FB_ERR_INVALID_ARGUMENT.
 *  - Structs that may grow start with uint32_t struct_size: set it to
 *    sizeof(the struct) (fb_options_init does it for fb_options); the library
 *    reads and writes only that many bytes.
 */
#ifndef FASTBUDDY_H
#define FASTBUDDY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ version */

#define FB_VERSION_MAJOR 0
#define FB_VERSION_MINOR 1
#define FB_VERSION_PATCH 0
#define FB_VERSION_STRING "0.1.0"

/* ----------------------------------------------------------------- statuses */
/* Same values as the C# enum FastBuddy.FastBuddyStatus. */

#define FB_OK                  0 /* success */
#define FB_ERR_INVALID_ARGUMENT 1 /* bad argument, bad option, NULL where not allowed, dead or foreign handle */
#define FB_ERR_NO_MEMORY       2 /* the policy could not satisfy the allocation under the caller's flags */
#define FB_ERR_NOT_OWNED       3 /* the pointer lies outside every zone of the arena */
#define FB_ERR_NOT_A_BLOCK     4 /* inside the arena but not the head of a block (interior or misaligned) */
#define FB_ERR_DOUBLE_FREE     5 /* the block has already been freed */
#define FB_ERR_ORDER_MISMATCH  6 /* the order does not match the order the block was allocated with */
#define FB_ERR_CORRUPT         7 /* an internal invariant is broken (fb_validate), or an unexpected internal error */
#define FB_ERR_BUSY            8 /* the page is in the page cache: fb_cache_remove it first */
#define FB_ERR_RECLAIMED       9 /* fb_cache_remove: the arena chose the page for eviction since it was last cached (its evict runs or ran) */

/* -------------------------------------------------------------------- flags */
/* Same values as the C# enum FastBuddy.AllocFlags (the 2.4 gfp mask). */

#define FB_ATOMIC   0u  /* may not block, reclaim or do I/O; stops above the last quarter of pages_min */
#define FB_WAIT     1u  /* may block, yield, wait for the reclaimer and reclaim clean cache pages (evict may run on the caller's thread) */
#define FB_IO       2u  /* may call writeback on the caller's thread (needs FB_WAIT) */
#define FB_FS       4u  /* an order-0 request without progress keeps retrying until alloc_wait_ms (needs FB_WAIT) */
#define FB_MEMALLOC 8u  /* the caller is part of reclaim: may take the last reserve, never reclaims or waits */
#define FB_ZERO     16u /* zero the block before returning it */
#define FB_KERNEL   7u  /* FB_WAIT | FB_IO | FB_FS: the usual choice */
#define FB_NOFS     3u  /* FB_WAIT | FB_IO */
#define FB_NOIO     1u  /* FB_WAIT */

/* ---------------------------------------------------------------- constants */

#define FB_MAX_ORDERS 32       /* size of fb_zone_stats.free_blocks; orders in use are 0 .. max_order-1 */
#define FB_ZONE_NAME_MAX 32    /* size of fb_zone_stats.name, including the terminating NUL */
#define FB_WAIT_INFINITE (-1)  /* fb_options.alloc_wait_ms: wait without a deadline (any negative value) */

/* Log levels passed to fb_log_fn (the values of Microsoft.Extensions.Logging.LogLevel). */
#define FB_LOG_TRACE    0
#define FB_LOG_DEBUG    1
#define FB_LOG_INFO     2
#define FB_LOG_WARNING  3
#define FB_LOG_ERROR    4
#define FB_LOG_CRITICAL 5

/* -------------------------------------------------------------------- types */

/* An arena: opaque validated handle, created by fb_arena_create, dead after fb_arena_destroy. */
typedef struct fb_arena fb_arena;

/*
 * The host side of a cached page (fb_cache_add). The arena calls these, never
 * with an arena lock held, on the thread that needs the memory (an allocating
 * thread with FB_WAIT / FB_IO) or on its reclaimer thread. They must return
 * normally (no longjmp, no C++ exception). Allocations made inside them are
 * treated as FB_MEMALLOC automatically.
 */
typedef struct fb_page_ops {
    /* Write the dirty page to its backing store. Return 1 if the page is clean
       now, 0 if it is still dirty (retried later), a negative value on error
       (the page goes back to the active list). NULL: pages are always clean. */
    int (*writeback)(void* ctx, void* page);
    /* Drop every reference to the page: the arena has taken it back. Final and
       required (non-NULL). After it returns the page is free or another
       caller's; do not free it yourself. */
    void (*evict)(void* ctx, void* page);
} fb_page_ops;

/* Receives the arena's log messages (e.g. "3-order allocation failed"). message is UTF-8, valid only during the call. */
typedef void (*fb_log_fn)(void* ctx, int level, const char* message);

/* Asked when an allocation is about to fail; may free memory. Return nonzero to have the allocation retried once. */
typedef int (*fb_oom_fn)(void* ctx, fb_arena* arena, uint32_t order, uint32_t flags);

/* One zone; zones are given low to high. */
typedef struct fb_zone_options {
    const char* name;  /* UTF-8, required; copied by fb_arena_create */
    size_t bytes;      /* zone size, rounded down to whole pages; must be > 0 */
    int64_t pages_min; /* explicit pages_min watermark (low = 2x, high = 3x); 0 = computed by the 2.4 rule */
} fb_zone_options;

/* Arena options. Call fb_options_init first, then change what you need. */
typedef struct fb_options {
    uint32_t struct_size;        /* sizeof(fb_options); set by fb_options_init */
    uint32_t page_size;          /* power of two, 64 .. 1 MiB (default 4096) */
    uint32_t max_order;          /* number of orders, 1 .. 31 (default 11) */
    uint32_t reserved0;          /* must be 0 */
    size_t arena_bytes;          /* size of the single default zone "Normal"; must be 0 when zones are given */
    const fb_zone_options* zones;/* zone_count zones, low to high, or NULL; read only during fb_arena_create */
    uint32_t zone_count;
    int32_t background_reclaim;  /* nonzero: kswapd/kreclaimd thread (default 1); 0: reclaim runs in callers and fb_balance */
    int64_t alloc_wait_ms;       /* deadline of all waits of one allocation; < 0 = infinite (default 200) */
    /* ---- the fields above are the minimum struct_size (FB_OPTIONS_MIN_SIZE). Fields past the caller's
            struct_size take their defaults; fields within it are used as they are (fb_options_init sets them). ---- */
    int32_t balance_ratio;             /* zone_balance_ratio, >= 1 (default 128) */
    int32_t lowest_zone_balance_ratio; /* ratio of the lowest zone when there are several, >= 1 (default 32) */
    int32_t balance_min;               /* lower clamp of pages_min in pages, 0 .. balance_max (default 10) */
    int32_t balance_max;               /* upper clamp of pages_min in pages (default 255) */
    fb_log_fn log;                     /* NULL: no logging */
    void* log_ctx;
    fb_oom_fn out_of_memory;           /* NULL: no out-of-memory handler */
    void* out_of_memory_ctx;
    int32_t per_cpu_pages;             /* per-thread magazine of parked order-0 pages, in pages; 0 = no magazines (default 256) */
    int32_t per_cpu_batch;             /* pages moved per refill or spill, >= 1 (default 32; a power of two is cut from one block) */
    int32_t per_cpu_orders;            /* orders 0 .. per_cpu_orders-1 have lists; capped at max_order (default 9) */
    int32_t reserved1;                 /* must be 0 */
    /* ---- memory and the operating system (docs/c-hosts.md, "Memory and the operating system") ---- */
    int64_t decommit_after_ms;         /* give free blocks back to the OS (madvise) once free this long; 0 = at the next
                                          reclaimer pass or fb_balance; < 0 = never (default -1) */
    int32_t decommit_min_order;        /* smallest order given back, 0 .. max_order-1; < 0 = only the top order (default -1) */
    int32_t guard_pages;               /* nonzero: an inaccessible page before and after each zone (default 0) */
    int32_t transparent_huge_pages;    /* nonzero: madvise(MADV_HUGEPAGE) on the zones, a hint (default 0) */
    int32_t reserved2;                 /* must be 0 */
} fb_options;

#define FB_OPTIONS_MIN_SIZE 48u  /* offsetof(fb_options, alloc_wait_ms) + 8 */

/* Arena statistics (fb_get_stats). */
typedef struct fb_stats {
    uint32_t struct_size;         /* in: sizeof(fb_stats) */
    uint32_t reserved0;
    int64_t total_pages;          /* pages in all zones */
    int64_t free_pages;           /* pages in the free areas (per-CPU pages not included) */
    int64_t per_cpu_pages;        /* pages parked in per-CPU lists */
    int64_t active_pages;         /* cached pages on the active lists */
    int64_t inactive_dirty_pages; /* cached pages on the inactive_dirty lists */
    int64_t inactive_clean_pages; /* cached pages on the inactive_clean lists */
    int64_t memory_pressure;      /* 2.4's memory_pressure */
    int64_t inactive_target;      /* min(memory_pressure >> 6, total_pages / 4) */
    int64_t allocations;          /* successful allocations */
    int64_t frees;
    int64_t failures;             /* allocations that returned NULL */
    int64_t reclaimed;            /* cache pages reclaimed (evicted) */
    int64_t laundered;            /* dirty cache pages written back clean */
    uint32_t zone_count;
    /* ---- the fields above are the minimum struct_size (FB_STATS_MIN_SIZE) ---- */
    uint32_t page_size;
    uint32_t max_order;
    uint32_t reserved1;
    int64_t free_pages_min;       /* sum of pages_min over zones (freepages.min) */
    int64_t free_pages_low;       /* freepages.low */
    int64_t free_pages_high;      /* freepages.high */
    int64_t step_fast_path;       /* allocations served by step 1 (free >= pages_low) */
    int64_t step_high;            /* step 2 */
    int64_t step_low;             /* step 3 */
    int64_t step_min;             /* step 4 */
    int64_t step_direct_reclaim;  /* a clean cache page handed straight to the caller */
    int64_t step_higher_order_reclaim; /* step 5, higher-order block assembled from reclaimed pages */
    int64_t step_final_phase;     /* step 6 */
    int64_t step_failed;          /* step 7 */
    int64_t committed_bytes;      /* bytes that may be resident: handed out, or free but touched since last decommitted */
    int64_t decommitted_bytes;    /* bytes of free blocks given back to the OS (or never touched); committed + decommitted = arena size */
    int64_t decommits;            /* free blocks given back so far */
    int64_t slab_pages;           /* pages held by slabs (allocated pages, neither free nor per-CPU) */
    int64_t slab_objects;         /* objects handed out by fb_alloc from slabs and not freed */
    int64_t slab_object_bytes;    /* those objects' bytes at their class sizes */
    uint32_t slab_class_count;    /* size classes with slab caches (fb_get_slab_stats' range) */
    uint32_t reserved2;
} fb_stats;

#define FB_STATS_MIN_SIZE 116u  /* offsetof(fb_stats, zone_count) + 4 */

/* One size class of the slab caches (fb_get_slab_stats), like a line of /proc/slabinfo. */
typedef struct fb_slab_stats {
    uint32_t struct_size;         /* in: sizeof(fb_slab_stats) */
    uint32_t object_size;         /* the class's size: every request up to it (above the class below) uses it */
    uint32_t objects_per_slab;
    uint32_t pages_per_slab;
    int64_t slabs;                /* slabs alive (owned by threads, pooled, spare or full) */
    int64_t spare_slabs;          /* empty slabs kept before their pages go back */
    int64_t objects_in_use;       /* handed out and not freed */
    int64_t free_objects;         /* slabs * objects_per_slab - objects_in_use */
} fb_slab_stats;

/* One zone's statistics (fb_get_zone_stats). */
typedef struct fb_zone_stats {
    uint32_t struct_size;          /* in: sizeof(fb_zone_stats) */
    char name[FB_ZONE_NAME_MAX];   /* UTF-8, NUL-terminated (truncated if longer) */
    uint32_t reserved0;
    int64_t pages;
    int64_t free_pages;
    int64_t pages_min;
    int64_t pages_low;
    int64_t pages_high;
    int64_t active_pages;
    int64_t inactive_dirty_pages;
    int64_t inactive_clean_pages;
    int64_t free_blocks[FB_MAX_ORDERS]; /* free blocks per order, like /proc/buddyinfo; 0 beyond max_order */
    /* ---- the fields above are the minimum struct_size (FB_ZONE_STATS_MIN_SIZE) ---- */
    int64_t per_cpu_pages;         /* this zone's pages parked in per-CPU lists */
    int64_t committed_bytes;       /* as in fb_stats, for this zone */
    int64_t decommitted_bytes;
    int64_t decommits;
} fb_zone_stats;

#define FB_ZONE_STATS_MIN_SIZE 360u  /* offsetof(fb_zone_stats, free_blocks) + 8 * FB_MAX_ORDERS */

/* ---------------------------------------------------------------- functions */

/* Fills the whole *options with the defaults (struct_size = sizeof(fb_options), page 4096, max order 11, background reclaim, 200 ms wait, the 2.4 balance constants, per-CPU lists); FB_ERR_INVALID_ARGUMENT if NULL. */
int fb_options_init(fb_options* options);

/* Creates an arena (memory reserved, not touched) and stores its handle in *out (NULL on failure); options and out must not be NULL. */
int fb_arena_create(const fb_options* options, fb_arena** out);

/* Frees everything: fails waiting allocations, stops the reclaimer, calls no callbacks; every pointer into the arena is invalid afterwards. NULL: no-op (FB_OK); a dead handle: FB_ERR_INVALID_ARGUMENT. Must not race with other calls on the same arena. */
int fb_arena_destroy(fb_arena* arena);

/* Allocates 2^order contiguous pages, aligned to their size, from the highest zone's zonelist; NULL on failure (fb_last_error says why). The caller owns the block. */
void* fb_alloc_pages(fb_arena* arena, uint32_t order, uint32_t flags);

/* Like fb_alloc_pages, from zonelist `zonelist` (zones zonelist, zonelist-1, ..., 0). */
void* fb_alloc_pages_zonelist(fb_arena* arena, uint32_t order, uint32_t flags, uint32_t zonelist);

/* Returns a block of exactly that order; validated in O(1) (NOT_OWNED, NOT_A_BLOCK, DOUBLE_FREE, ORDER_MISMATCH, BUSY), a rejected free changes nothing. */
int fb_free_pages(fb_arena* arena, void* block, uint32_t order);

/* Allocates up to `count` order-0 pages into pages[0..] at once (one lock round trip per zone) from the default zonelist; returns how many: fewer than count only when the policy refused the rest (fb_last_error says why); entries past the result are untouched. */
size_t fb_alloc_pages_bulk(fb_arena* arena, void** pages, size_t count, uint32_t flags);

/* Frees `count` order-0 pages at once. All or nothing: if any entry is not a live order-0 page of the arena (or appears twice), nothing is freed and that entry's status is returned. */
int fb_free_pages_bulk(fb_arena* arena, void* const* pages, size_t count);

/* Allocates at least `bytes`: up to fb_small_max() an object from the slab cache of its size class (8-byte steps to 64 bytes, then 8 classes per doubling; 16-byte aligned except classes that are odd multiples of 8, which are 8-aligned), above that up to the largest block a power-of-two block of pages, above the largest block a run of contiguous largest blocks in one zone (up to the largest zone's whole largest blocks; more is FB_ERR_INVALID_ARGUMENT). NULL on failure (fb_last_error: FB_ERR_NO_MEMORY for a valid size that cannot be served now). Free with fb_free. */
void* fb_alloc(fb_arena* arena, size_t bytes, uint32_t flags);

/* Resizes a block from fb_alloc/fb_alloc_pages (in place when possible, else moves and copies): NULL p allocates, 0 bytes frees and returns NULL; on failure returns NULL and p is untouched. Unknown flag bits are FB_ERR_INVALID_ARGUMENT always, even when no allocation would be needed. */
void* fb_realloc(fb_arena* arena, void* p, size_t bytes, uint32_t flags);

/* Frees a block of any order (the order is known) or a run (FB_ERR_NOT_A_BLOCK for a pointer inside it; fb_free_pages of a run's head is FB_ERR_ORDER_MISMATCH); NULL p: no-op (FB_OK). */
int fb_free(fb_arena* arena, void* p);

/* Usable bytes of the block or run at p (its full size); 0 for NULL or on error (fb_last_error). */
size_t fb_usable_size(fb_arena* arena, const void* p);

/* 1 if p points anywhere inside one of the arena's zones, 0 if not or on error (fb_last_error). */
int fb_owns(fb_arena* arena, const void* p);

/* The arena's page size in bytes; 0 on a bad handle (fb_last_error). */
uint32_t fb_page_size(fb_arena* arena);

/* The arena's number of orders (blocks of 2^0 .. 2^(max_order-1) pages); 0 on a bad handle. */
uint32_t fb_max_order(fb_arena* arena);

/* The arena's number of zones (and of zonelists); 0 on a bad handle. */
uint32_t fb_zone_count(fb_arena* arena);

/* Puts an allocated order-0 page into the page cache (active list). ops is copied (it need not outlive the call); ctx is passed back to the callbacks and must stay valid while the page is cached. dirty: nonzero if it needs writeback before it can be reclaimed. */
int fb_cache_add(fb_arena* arena, void* page, const fb_page_ops* ops, void* ctx, int dirty);

/* Marks a cached page referenced (it ages up and may go back to the active list). */
int fb_cache_touch(fb_arena* arena, void* page);

/* Marks a cached page dirty: it needs writeback before it can be reclaimed. */
int fb_cache_mark_dirty(fb_arena* arena, void* page);

/* Takes a page out of the cache, still allocated and the host's again: FB_OK, and from then on no callback of the page starts (a writeback already running finishes: it is the host's own code). FB_ERR_RECLAIMED if the arena chose it for eviction since it was last cached (evict runs or ran: the page is no longer the host's). FB_ERR_INVALID_ARGUMENT if it is a live order-0 page that is not in the cache (never cached, or already removed); FB_ERR_NOT_OWNED, FB_ERR_NOT_A_BLOCK, FB_ERR_DOUBLE_FREE or FB_ERR_ORDER_MISMATCH if it is not a live order-0 page at all. */
int fb_cache_remove(fb_arena* arena, void* page);

/* Fills *stats (stats->struct_size must be set, at least FB_STATS_MIN_SIZE; only that many bytes are written). */
int fb_get_stats(fb_arena* arena, fb_stats* stats);

/* Fills *stats for zone `zone` (0 = lowest; stats->struct_size at least FB_ZONE_STATS_MIN_SIZE). */
int fb_get_slab_stats(fb_arena* arena, uint32_t cls, fb_slab_stats* stats); /* cls < fb_stats.slab_class_count, smallest first */
int fb_get_zone_stats(fb_arena* arena, uint32_t zone, fb_zone_stats* stats);

/* Walks every list, bitmap and counter: FB_OK or FB_ERR_CORRUPT. */
int fb_validate(fb_arena* arena);

/* Runs one reclaimer (kswapd) pass synchronously: for arenas with background_reclaim = 0 (harmless otherwise). May call writeback/evict on this thread. */
int fb_balance(fb_arena* arena);

/* Gives everything idle back to the buddy system (like malloc_trim): every thread's parked blocks and slabs, and
   every empty slab (the spares each size class keeps). Returns the pages given back (>= 0), or a negative status. */
int64_t fb_trim(fb_arena* arena);

/* The largest request fb_alloc serves as an object from a slab cache (0: none; 32768 at the defaults). */
size_t fb_small_max(fb_arena* arena);

/* The calling thread's last status: why its last allocation returned NULL (FB_OK after a successful allocation), or the status of a later fb_ call that failed. */
int fb_last_error(void);

/* The reason of the calling thread's last failing fb_ call, in English (UTF-8), e.g. "Order 12 is out of range: ...": never NULL; valid until the next fb_ call on this thread fails; "" after a successful allocation. */
const char* fb_last_error_message(void);

/* A static English description of a status (never NULL; unknown values give "unknown status"). */
const char* fb_strerror(int status);

/* The library's version, FB_VERSION_STRING of the header it was built with (static string). */
const char* fb_version(void);

/* ------------------------------------------------------------- inline path */
/*
 * The fast path of fb_alloc_pages and fb_free_pages, compiled into the host.
 *
 * Each thread has a magazine per arena: a block of the library's memory with a
 * small stack of parked blocks per order of the arena's first zone (the
 * highest zone), its slot tag, and two handshake words. The functions below pop
 * and park on it directly, through a thread-local pointer (initial-exec TLS),
 * with the same protocol as the library's own C# fast path:
 *  - the thread raises in_use around each operation; another thread that must
 *    reach into the magazine (a drain, a free of a block this thread owns,
 *    fb_arena_destroy) raises drain_requested, issues a process-wide barrier
 *    and waits for in_use to drop, so the owner needs no atomic instruction;
 *  - a block may be parked only if its page descriptor's 8-byte tag says
 *    "allocated head of this order owned by this thread" (one compare), and
 *    only while the zone's gate word admits the order (the step-1 watermark
 *    test free - (2^order - 1) >= pages_low, precomputed by the library);
 *  - fb_alloc, fb_free and fb_usable_size serve small objects the same way:
 *    the thread owns its current slab of each size class, so an allocation
 *    takes the lowest free bit of the slab's cursor word of the owner bitmap
 *    and a free of an object of a slab it owns sets that bit back (after one
 *    descriptor load finds the slab's header, out of band, and an exact
 *    division by multiplication checks the pointer is an object start not
 *    free already); a free of another thread's object goes to the library,
 *    which sets a bit of the slab's remote bitmap with one atomic OR;
 *  - anything else (another flag than FB_WAIT/FB_IO/FB_FS/FB_MEMALLOC, an
 *    empty or full list, another arena, a block of another thread, a bad
 *    pointer) calls the library (fb__alloc_pages_miss, fb__free_pages_miss,
 *    fb__alloc_miss, fb__free_miss),
 *    which validates everything exactly as the plain exports do and hands the
 *    thread's magazine to the thread-local for the next call.
 * The layout below is the library's (version FB_LAYOUT_VERSION): fb_arena_create
 * refuses a header whose version or struct sizes differ. A thread's exit is
 * noted in its magazine by a pthread-key destructor; the arena's next sweep
 * (kswapd's pass, fb_balance, fb_validate, a new thread) gives its blocks back.
 *
 * Define FB_NO_INLINE before including this header to call the plain exported
 * functions instead (every fb_* symbol is also exported for FFI hosts; that is
 * the slower route). The inline path needs GCC or Clang.
 */

#define FB_LAYOUT_VERSION 4u

typedef struct fb_page_desc {
    int32_t next;
    int32_t prev;
    uint64_t tag;            /* owner slot (32) | flags (16) | order (8) | age (8) */
} fb_page_desc;

typedef struct fb_magazine_list {
    uint16_t count;
    uint16_t cap;
    uint32_t offset;         /* first slot, in uint32_t units from the magazine's start */
} fb_magazine_list;

typedef struct fb_magazine {
    uint64_t arena_key;      /* the fb_arena* this magazine serves; 0 once it is gone */
    volatile int32_t in_use;
    volatile int32_t drain_requested;
    uint64_t head_tag;       /* tag of an allocated head this thread owns, order 0 */
    uint8_t* base;           /* the first zone's memory */
    fb_page_desc* desc;      /* its page descriptors */
    const volatile int32_t* gate; /* its gate word: orders step 1 admits now */
    uint32_t pages;          /* its pages (0 once the arena is gone) */
    uint8_t page_shift;
    uint8_t last_error;
    volatile uint8_t exited;
    uint8_t orders;
    int64_t freed;
    struct fb__slab* slabs;  /* the arena's slab headers, by slab id (a slab page's desc.next) */
    struct fb__slab* recent; /* the slab of this thread's last object free through slabs (never NULL while attached) */
    uint8_t reserved[48];
    /* followed by struct fb__slab* current[FB__CLASSES] (the thread's current slab per size class),
       int32_t owned[FB__CLASSES] (the library's), uintptr_t reuse[FB__CLASSES][8] (per class one cache line:
       the count n, then n free objects of the current slab this thread freed last, the latest at n),
       fb_magazine_list lists[orders] of the first zone, then the library's own data */
} fb_magazine;

/* A slab's header, out of band (the library's SlabHeader). */
typedef struct fb__slab {
    uint8_t* base;           /* first object */
    uint32_t size;           /* object size (the class size) */
    uint16_t objects;
    uint8_t words;
    uint8_t state;
    uint64_t inverse;        /* inverse of size's odd part mod 2^64: index = rotr(offset * inverse, twos), exact */
    int32_t owner;           /* owner's slot (the low 32 bits of its head_tag); 0: none */
    int32_t used;            /* objects not free in the owner bitmap */
    int32_t cursor;          /* no word of free[] below it has a bit set */
    int32_t remote_pending;
    int32_t next, prev;
    uint16_t cls;
    uint8_t order, zone;
    int32_t page, id;
    uint8_t twos;            /* size's trailing zero bits */
    uint8_t reserved[3];
    uint64_t free[8];        /* owner bitmap: 1 = free (written only by the owner) */
    uint64_t remote[8];      /* frees from other threads (atomic OR), folded in by the owner */
} fb__slab;

/* Fields whose offsets tests compare with the library's (fb__layout_offset). */
enum fb__layout_field {
    FB__MAG_ARENA_KEY, FB__MAG_IN_USE, FB__MAG_DRAIN_REQUESTED, FB__MAG_HEAD_TAG, FB__MAG_BASE, FB__MAG_DESC,
    FB__MAG_GATE, FB__MAG_PAGES, FB__MAG_PAGE_SHIFT, FB__MAG_LAST_ERROR, FB__MAG_EXITED, FB__MAG_ORDERS,
    FB__MAG_FREED, FB__MAG_LISTS, FB__LIST_COUNT, FB__LIST_CAP, FB__LIST_OFFSET, FB__DESC_NEXT, FB__DESC_PREV,
    FB__DESC_TAG, FB__TAG_FLAGS_SHIFT, FB__TAG_ORDER_SHIFT, FB__TAG_PARKED, FB__TAG_ALLOCATED_HEAD,
    FB__MAG_SLABS, FB__MAG_CURRENT, FB__MAG_OWNED, FB__SLAB_BASE, FB__SLAB_SIZE, FB__SLAB_OBJECTS, FB__SLAB_INVERSE,
    FB__SLAB_OWNER, FB__SLAB_USED, FB__SLAB_CURSOR, FB__SLAB_REMOTE_PENDING, FB__SLAB_CLASS, FB__SLAB_FREE,
    FB__SLAB_REMOTE, FB__TAG_SLAB, FB__SLAB_TWOS, FB__CLASSES_FIELD, FB__SMALL_MAX_FIELD, FB__MAG_RECENT,
    FB__MAG_REUSE, FB__REUSE_DEPTH_FIELD, FB__LAYOUT_FIELDS
};

#define FB__TAG_ORDER_BITS 48
#define FB__PARKED_BIT ((uint64_t)1 << (32 + 11))
#define FB__FAST_FLAGS (FB_WAIT | FB_IO | FB_FS | FB_MEMALLOC)
#define FB__SLAB_BIT ((uint64_t)1 << (32 + 13))
#define FB__CLASSES 80
#define FB__SMALL_MAX 32768u
#define FB__REUSE_DEPTH 7u
/* After the header: a current slab pointer and an owned-list head per class, then a 64-byte reuse line per class. */
#define FB__REUSE_START (FB__CLASSES * (8 + 4))
#define FB__OBJECT_BYTES (FB__REUSE_START + FB__CLASSES * 64)

/* The library's side of the inline path (not for direct use). */
int fb__arena_create_layout(const fb_options* options, fb_arena** out, uint32_t layout_version,
                            uint32_t magazine_size, uint32_t desc_size, uint32_t list_size, uint32_t slab_size);
int64_t fb__layout_offset(uint32_t field);
void* fb__alloc_pages_miss(fb_arena* arena, uint32_t order, uint32_t flags, fb_magazine** tls);
int fb__free_pages_miss(fb_arena* arena, void* block, uint32_t order, fb_magazine** tls);
void* fb__alloc_miss(fb_arena* arena, size_t bytes, uint32_t flags, fb_magazine** tls);
int fb__free_miss(fb_arena* arena, void* p, fb_magazine** tls);

/* The size class of 1 <= bytes <= FB__SMALL_MAX (the library's SizeClasses.Of). */
static inline uint32_t fb__size_class(size_t bytes)
{
    size_t s = bytes - 1;
    if (s < 64)
        return (uint32_t)(s >> 3);
    unsigned b = 63u - (unsigned)__builtin_clzll((unsigned long long)s);
    return 8u + ((b - 6u) << 3) + (uint32_t)((s >> (b - 3u)) & 7u);
}

#if !defined(FB_NO_INLINE) && (defined(__GNUC__) || defined(__clang__))

#include <pthread.h>

typedef char fb__magazine_is_two_lines[sizeof(fb_magazine) == 128 ? 1 : -1];
typedef char fb__slab_is_three_lines[sizeof(fb__slab) == 192 ? 1 : -1];
typedef char fb__desc_is_16_bytes[sizeof(fb_page_desc) == 16 ? 1 : -1];

static __thread fb_magazine* fb__tls __attribute__((tls_model("initial-exec")));
static pthread_key_t fb__exit_key;
static pthread_once_t fb__exit_once = PTHREAD_ONCE_INIT;

static inline void fb__thread_exit(void* magazine)
{
    __atomic_store_n(&((fb_magazine*)magazine)->exited, (uint8_t)1, __ATOMIC_RELEASE);
}

static inline void fb__exit_key_init(void)
{
    (void)pthread_key_create(&fb__exit_key, fb__thread_exit);
}

/* A miss handed a (new) magazine to the thread-local: note it for the thread's exit. */
static inline void fb__note(fb_magazine* before)
{
    if (fb__tls != before && fb__tls != NULL) {
        (void)pthread_once(&fb__exit_once, fb__exit_key_init);
        (void)pthread_setspecific(fb__exit_key, fb__tls);
    }
}

static __attribute__((noinline, unused)) void* fb__alloc_pages_slow(fb_arena* arena, uint32_t order, uint32_t flags)
{
    fb_magazine* before = fb__tls;
    void* block = fb__alloc_pages_miss(arena, order, flags, &fb__tls);
    fb__note(before);
    return block;
}

static __attribute__((noinline, unused)) int fb__free_pages_slow(fb_arena* arena, void* block, uint32_t order)
{
    fb_magazine* before = fb__tls;
    int status = fb__free_pages_miss(arena, block, order, &fb__tls);
    fb__note(before);
    return status;
}

static __attribute__((noinline, unused)) void* fb__alloc_slow(fb_arena* arena, size_t bytes, uint32_t flags)
{
    fb_magazine* before = fb__tls;
    void* p = fb__alloc_miss(arena, bytes, flags, &fb__tls);
    fb__note(before);
    return p;
}

static __attribute__((noinline, unused)) int fb__free_slow(fb_arena* arena, void* p)
{
    fb_magazine* before = fb__tls;
    int status = fb__free_miss(arena, p, &fb__tls);
    fb__note(before);
    return status;
}

static inline fb__slab** fb__current(fb_magazine* m)
{
    return (fb__slab**)(m + 1);
}

/* The reuse line of class cls: word 0 the count n, words 1..n free objects of the current slab, the latest at n. */
static inline uintptr_t* fb__reuse(fb_magazine* m, uint32_t cls)
{
    return (uintptr_t*)((uint8_t*)(m + 1) + FB__REUSE_START) + ((size_t)cls << 3);
}

static inline fb_magazine_list* fb__list(fb_magazine* m, uint32_t order)
{
    return (fb_magazine_list*)((uint8_t*)(m + 1) + FB__OBJECT_BYTES) + order;
}

static inline void fb__enter(fb_magazine* m)
{
    __atomic_store_n(&m->in_use, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void fb__exit(fb_magazine* m)
{
    __atomic_store_n(&m->in_use, 0, __ATOMIC_RELEASE);
}

static inline void* fb__alloc_pages_inline(fb_arena* arena, uint32_t order, uint32_t flags)
{
    fb_magazine* m = fb__tls;
    if (__builtin_expect(m != NULL && m->arena_key == (uint64_t)(uintptr_t)arena && (flags & ~FB__FAST_FLAGS) == 0, 1)) {
        fb__enter(m);
        if (__atomic_load_n(&m->drain_requested, __ATOMIC_ACQUIRE) == 0 && order < (uint32_t)*m->gate) {
            fb_magazine_list* list = fb__list(m, order);
            uint32_t n = list->count;
            if (__builtin_expect(n != 0, 1)) {
                uint32_t page = ((const uint32_t*)m)[list->offset + --n];
                list->count = (uint16_t)n;
                /* Descriptor tags are shared with other threads' frees: atomic word accesses (plain moves on x86). */
                __atomic_store_n(&m->desc[page].tag, m->head_tag | (uint64_t)order << FB__TAG_ORDER_BITS, __ATOMIC_RELAXED);
                m->last_error = 0;
                fb__exit(m);
                return m->base + ((size_t)page << m->page_shift);
            }
        }
        fb__exit(m);
    }
    return fb__alloc_pages_slow(arena, order, flags);
}

/* Inside the window, no drain asked for: parks a block this thread owns (tag "allocated head of this order,
   ours") while the gate admits its order and its list has room. 0 changes nothing. */
static inline int fb__park_owned(fb_magazine* m, uint64_t page, uint32_t order)
{
    if (order >= (uint32_t)*m->gate)
        return 0;
    uint64_t want = m->head_tag | (uint64_t)order << FB__TAG_ORDER_BITS;
    fb_magazine_list* list = fb__list(m, order);
    uint32_t n = list->count;
    if (__atomic_load_n(&m->desc[page].tag, __ATOMIC_RELAXED) != want || n >= list->cap)
        return 0;
    ((uint32_t*)m)[list->offset + n] = (uint32_t)page;
    list->count = (uint16_t)(n + 1);
    __atomic_store_n(&m->desc[page].tag, want | FB__PARKED_BIT, __ATOMIC_RELAXED);
    m->freed++;
    return 1;
}

static inline int fb__park(fb_magazine* m, uint64_t page, uint32_t order)
{
    fb__enter(m);
    int parked = __atomic_load_n(&m->drain_requested, __ATOMIC_ACQUIRE) == 0 && fb__park_owned(m, page, order);
    fb__exit(m);
    return parked;
}

/* One compare for range and alignment: a misaligned offset rotates its low bits to the top. */
static inline uint64_t fb__block_page(const fb_magazine* m, const void* block)
{
    uint64_t offset = (uint64_t)((uintptr_t)block - (uintptr_t)m->base);
    unsigned shift = m->page_shift;
    return (offset >> shift) | (offset << ((64u - shift) & 63u));
}

static inline int fb__free_pages_inline(fb_arena* arena, void* block, uint32_t order)
{
    fb_magazine* m = fb__tls;
    if (__builtin_expect(m != NULL && m->arena_key == (uint64_t)(uintptr_t)arena, 1)) {
        uint64_t page = fb__block_page(m, block);
        if (page < m->pages && fb__park(m, page, order))
            return FB_OK;
    }
    return fb__free_pages_slow(arena, block, order);
}

/* The multiply and rotate of fb__object_index, unchecked: the index of p when an object starts there. */
static inline uint64_t fb__object_quotient(const fb__slab* s, const void* p)
{
    uint64_t offset = (uint64_t)((uintptr_t)p - (uintptr_t)s->base);
    unsigned k = s->twos;
    uint64_t q = offset * s->inverse;
    return (q >> k) | (q << ((64u - k) & 63u));
}

/* The object at p of slab s: its index, or -1 when no object starts there. */
static inline int64_t fb__object_index(const fb__slab* s, const void* p)
{
    uint64_t index = fb__object_quotient(s, p);
    return index < s->objects ? (int64_t)index : -1;
}

/* The owner's take of p, a free object of slab s named by the reuse line (so no range check): its bit cleared,
   counted in use (the library's SlabHeader.Retake). */
static inline void fb__retake(fb__slab* s, const void* p)
{
    uint64_t index = fb__object_quotient(s, p);
    uint64_t* word = &s->free[index >> 6];
    __atomic_store_n(word, __atomic_load_n(word, __ATOMIC_RELAXED) & ~((uint64_t)1 << (index & 63)), __ATOMIC_RELAXED);
    s->used++;
}

static inline void* fb__alloc_inline(fb_arena* arena, size_t bytes, uint32_t flags)
{
    fb_magazine* m = fb__tls;
    if (__builtin_expect(m != NULL && m->arena_key == (uint64_t)(uintptr_t)arena && bytes - 1 < FB__SMALL_MAX
                         && (flags & ~FB__FAST_FLAGS) == 0, 1)) {
        fb__enter(m);
        /* The current slab is read only after the drain word: a drain that released it lowered the word last. */
        uint32_t cls = fb__size_class(bytes);
        fb__slab* s = __atomic_load_n(&m->drain_requested, __ATOMIC_ACQUIRE) == 0 ? fb__current(m)[cls] : NULL;
        if (s != NULL) {
            uintptr_t* line = fb__reuse(m, cls);
            uintptr_t n = line[0];
            if (n != 0) {
                /* The latest object of the reuse line (free in the bitmap too): no wait for the word a free wrote. */
                void* p = (void*)line[n];
                line[0] = n - 1;
                fb__retake(s, p);
                m->last_error = 0;
                fb__exit(m);
                return p;
            }
            int32_t w = s->cursor;
            uint64_t bits = __atomic_load_n(&s->free[w], __ATOMIC_RELAXED);
            if (__builtin_expect(bits != 0, 1)) {
                /* Other threads read the owner bitmap (never write it): atomic word accesses, plain moves on x86. */
                __atomic_store_n(&s->free[w], bits & (bits - 1), __ATOMIC_RELAXED);
                s->used++;
                m->last_error = 0;
                fb__exit(m);
                return s->base + (size_t)(((uint32_t)w << 6) + (uint32_t)__builtin_ctzll(bits)) * s->size;
            }
        }
        fb__exit(m);
    }
    return fb__alloc_slow(arena, bytes, flags);
}

/* Inside the window: frees p into slab s if it is an object in use there and s is ours (0 changes nothing). */
static inline int fb__free_owned(fb_magazine* m, fb__slab* s, const void* p)
{
    if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) != (int32_t)(uint32_t)m->head_tag)
        return 0;
    int64_t index = fb__object_index(s, p);
    if (index < 0)
        return 0;
    int32_t w = (int32_t)(index >> 6);
    uint64_t bit = (uint64_t)1 << (index & 63);
    uint64_t bits = __atomic_load_n(&s->free[w], __ATOMIC_RELAXED);
    uint32_t cls = s->cls;
    int current = s == fb__current(m)[cls];
    /* Emptying a slab other than the current one is the library's: it gives the slab back. */
    if (((bits | __atomic_load_n(&s->remote[w], __ATOMIC_RELAXED)) & bit) != 0 || (s->used <= 1 && !current))
        return 0;
    __atomic_store_n(&s->free[w], bits | bit, __ATOMIC_RELAXED);
    s->used--;
    if (w < s->cursor)
        s->cursor = w;
    if (current) {
        uintptr_t* line = fb__reuse(m, cls);
        uintptr_t n = line[0];
        if (n < FB__REUSE_DEPTH) {
            line[n + 1] = (uintptr_t)p;
            line[0] = n + 1;
        }
    }
    return 1;
}

/* Inside the window: a free through p's page descriptor, as an object of a slab this thread owns (which becomes
   recent) or as a block to park. The table is read only after the drain word: fb_arena_destroy nulls it before it
   lowers that word. */
static inline int fb__free_by_descriptor(fb_magazine* m, const void* p)
{
    uint64_t offset = (uint64_t)((uintptr_t)p - (uintptr_t)m->base);
    uint64_t page = offset >> m->page_shift;
    if (page >= m->pages)
        return 0;
    fb_page_desc* d = &m->desc[page];
    uint64_t tag = __atomic_load_n(&d->tag, __ATOMIC_RELAXED);
    if ((tag & FB__SLAB_BIT) == 0)
        return (offset & (((uint64_t)1 << m->page_shift) - 1)) == 0
            && fb__park_owned(m, page, (uint32_t)(tag >> FB__TAG_ORDER_BITS) & 0xFFu);
    fb__slab* s = m->slabs != NULL ? m->slabs + d->next : NULL;
    if (s == NULL || !fb__free_owned(m, s, p))
        return 0;
    m->recent = s;
    return 1;
}

/* A free in one window: first the recent slab, without a descriptor or table load (the index check rejects any
   pointer outside that slab, and the owner is checked again, so a slab that changed hands is a miss; recent is
   read only after the drain word, since fb_arena_destroy points it at an empty header before it lowers that
   word), then the page's descriptor. */
static inline int fb__free_inline(fb_arena* arena, void* p)
{
    fb_magazine* m = fb__tls;
    if (__builtin_expect(m != NULL && m->arena_key == (uint64_t)(uintptr_t)arena, 1)) {
        fb__enter(m);
        int freed = __atomic_load_n(&m->drain_requested, __ATOMIC_ACQUIRE) == 0
            && (fb__free_owned(m, m->recent, p) || fb__free_by_descriptor(m, p));
        fb__exit(m);
        if (freed)
            return FB_OK;
    }
    return fb__free_slow(arena, p);
}

/* An object's class size without a call; blocks, other arenas and bad pointers ask the library. */
static inline size_t fb__usable_size_inline(fb_arena* arena, const void* p)
{
    fb_magazine* m = fb__tls;
    if (__builtin_expect(m != NULL && m->arena_key == (uint64_t)(uintptr_t)arena, 1)) {
        uint64_t page = (uint64_t)((uintptr_t)p - (uintptr_t)m->base) >> m->page_shift;
        if (page < m->pages && (__atomic_load_n(&m->desc[page].tag, __ATOMIC_RELAXED) & FB__SLAB_BIT) != 0) {
            size_t size = 0;
            fb__enter(m); /* inside the window, so that a racing fb_arena_destroy waits for the header read */
            const fb__slab* s = __atomic_load_n(&m->drain_requested, __ATOMIC_ACQUIRE) == 0 && m->slabs != NULL
                ? m->slabs + m->desc[page].next : NULL;
            int64_t index = s != NULL ? fb__object_index(s, p) : -1;
            uint64_t bit = (uint64_t)1 << (index & 63);
            if (index >= 0 && ((__atomic_load_n(&s->free[index >> 6], __ATOMIC_RELAXED)
                                | __atomic_load_n(&s->remote[index >> 6], __ATOMIC_RELAXED)) & bit) == 0)
                size = s->size;
            fb__exit(m);
            if (size != 0)
                return size;
        }
    }
    return fb_usable_size(arena, p);
}

#define fb_alloc_pages(arena, order, flags) fb__alloc_pages_inline((arena), (order), (flags))
#define fb_free_pages(arena, block, order) fb__free_pages_inline((arena), (block), (order))
#define fb_alloc(arena, bytes, flags) fb__alloc_inline((arena), (bytes), (flags))
#define fb_free(arena, p) fb__free_inline((arena), (p))
#define fb_usable_size(arena, p) fb__usable_size_inline((arena), (p))

#endif /* inline path */

/* Every host compiled against this header has its layout checked at creation (the plain symbol skips the check). */
#define fb_arena_create(options, out) \
    fb__arena_create_layout((options), (out), FB_LAYOUT_VERSION, (uint32_t)sizeof(fb_magazine), \
                            (uint32_t)sizeof(fb_page_desc), (uint32_t)sizeof(fb_magazine_list), (uint32_t)sizeof(fb__slab))

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTBUDDY_H */
