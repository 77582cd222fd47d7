/* A page-cache owner for the C tests: remembers every page it cached and what the arena did to it. */
#ifndef FB_TEST_CACHE_OWNER_H
#define FB_TEST_CACHE_OWNER_H

#include <stdatomic.h>
#include <stdio.h>

#include <fastbuddy.h>

#define OWNER_MAX_PAGES 1024

enum page_state { PAGE_NONE = 0, PAGE_CACHED, PAGE_EVICTED, PAGE_REMOVED };

typedef struct cache_owner {
    fb_arena* arena;
    size_t page_size;
    void* pages[OWNER_MAX_PAGES];
    _Atomic int state[OWNER_MAX_PAGES];
    _Atomic int written[OWNER_MAX_PAGES]; /* writebacks per page */
    _Atomic int added_dirty[OWNER_MAX_PAGES];
    int count;
    atomic_int writebacks;
    atomic_int evictions;
    atomic_int bad_calls;          /* a callback for a page that was not cached, or evict of a dirty page never written */
    atomic_int writeback_result;   /* what writeback returns: 1 clean, 0 still dirty, < 0 error */
    FILE* backing;                 /* writeback writes page i at offset i * page_size */
} cache_owner;

extern const fb_page_ops cache_owner_ops; /* writeback + evict */
extern const fb_page_ops cache_owner_ops_no_writeback; /* writeback NULL: always clean */

void cache_owner_init(cache_owner* o, fb_arena* arena, int with_file);
void cache_owner_close(cache_owner* o);

/* Allocates n order-0 pages (flags), fills each with its pattern and caches it; returns how many were added. */
int cache_owner_fill(cache_owner* o, int n, int dirty, const fb_page_ops* ops, uint32_t flags);

/* Takes every page still cached out (fb_cache_remove) and frees it; returns how many were removed.
   Checks that each page got exactly one of {evict, remove}. */
int cache_owner_release(cache_owner* o);

/* Checks the backing file holds page i's pattern. */
int cache_owner_file_matches(cache_owner* o, int i);

#endif
