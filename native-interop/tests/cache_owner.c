#define _POSIX_C_SOURCE 200809L
#include "cache_owner.h"

#include <string.h>

#include "fbtest.h"
#include "helpers.h"

static int index_of(cache_owner* o, void* page)
{
    for (int i = 0; i < o->count; i++)
        if (o->pages[i] == page)
            return i;
    return -1;
}

static int owner_writeback(void* ctx, void* page)
{
    cache_owner* o = (cache_owner*)ctx;
    atomic_fetch_add(&o->writebacks, 1);
    int i = index_of(o, page);
    if (i < 0 || atomic_load(&o->state[i]) != PAGE_CACHED) {
        atomic_fetch_add(&o->bad_calls, 1);
        return 1;
    }
    int result = atomic_load(&o->writeback_result);
    if (o->backing != NULL && result > 0) {
        if (fseek(o->backing, (long)i * (long)o->page_size, SEEK_SET) != 0 ||
            fwrite(page, 1, o->page_size, o->backing) != o->page_size)
            return -1;
        fflush(o->backing);
    }
    atomic_fetch_add(&o->written[i], 1);
    return result;
}

static void owner_evict(void* ctx, void* page)
{
    cache_owner* o = (cache_owner*)ctx;
    int i = index_of(o, page);
    if (i < 0) {
        atomic_fetch_add(&o->bad_calls, 1);
        return;
    }
    int expected = PAGE_CACHED;
    if (!atomic_compare_exchange_strong(&o->state[i], &expected, PAGE_EVICTED))
        atomic_fetch_add(&o->bad_calls, 1); /* evicted twice, or after a successful remove */
    if (atomic_load(&o->added_dirty[i]) && atomic_load(&o->written[i]) == 0 && o->backing != NULL)
        atomic_fetch_add(&o->bad_calls, 1); /* a dirty page must be written back before it is reclaimed */
    /* until evict returns the page is still ours: its contents are intact */
    if (!fbt_check_fill(page, o->page_size, (uint32_t)i))
        atomic_fetch_add(&o->bad_calls, 1);
    atomic_fetch_add(&o->evictions, 1);
}

const fb_page_ops cache_owner_ops = { owner_writeback, owner_evict };
const fb_page_ops cache_owner_ops_no_writeback = { NULL, owner_evict };

void cache_owner_init(cache_owner* o, fb_arena* arena, int with_file)
{
    memset(o, 0, sizeof *o);
    o->arena = arena;
    o->page_size = fb_page_size(arena);
    atomic_store(&o->writeback_result, 1);
    if (with_file) {
        o->backing = tmpfile();
        CHECK(o->backing != NULL);
    }
}

void cache_owner_close(cache_owner* o)
{
    if (o->backing != NULL)
        fclose(o->backing);
    o->backing = NULL;
}

int cache_owner_fill(cache_owner* o, int n, int dirty, const fb_page_ops* ops, uint32_t flags)
{
    int added = 0;
    for (int k = 0; k < n && o->count < OWNER_MAX_PAGES; k++) {
        void* page = fb_alloc_pages(o->arena, 0, flags);
        if (page == NULL)
            break;
        int i = o->count++;
        o->pages[i] = page;
        fbt_fill(page, o->page_size, (uint32_t)i);
        atomic_store(&o->added_dirty[i], dirty);
        atomic_store(&o->state[i], PAGE_CACHED);
        int status = fb_cache_add(o->arena, page, ops, o, dirty);
        CHECK_STATUS(status, FB_OK);
        if (status != FB_OK) {
            atomic_store(&o->state[i], PAGE_NONE);
            fb_free_pages(o->arena, page, 0);
            continue;
        }
        added++;
    }
    return added;
}

int cache_owner_release(cache_owner* o)
{
    int removed = 0;
    for (int i = 0; i < o->count; i++) {
        int state = atomic_load(&o->state[i]);
        if (state != PAGE_CACHED)
            continue;
        int status = fb_cache_remove(o->arena, o->pages[i]);
        if (status == FB_OK) {
            int expected = PAGE_CACHED;
            CHECK(atomic_compare_exchange_strong(&o->state[i], &expected, PAGE_REMOVED));
            CHECK(fbt_check_fill(o->pages[i], o->page_size, (uint32_t)i));
            CHECK_STATUS(fb_free_pages(o->arena, o->pages[i], 0), FB_OK);
            removed++;
        } else {
            CHECK_STATUS(status, FB_ERR_RECLAIMED);
            /* the arena chose it: evict has run or runs now; it is not ours to free */
        }
    }
    CHECK_EQ(atomic_load(&o->bad_calls), 0);
    return removed;
}

int cache_owner_file_matches(cache_owner* o, int i)
{
    unsigned char buffer[1 << 16];
    if (o->backing == NULL || o->page_size > sizeof buffer)
        return 0;
    if (fseek(o->backing, (long)i * (long)o->page_size, SEEK_SET) != 0)
        return 0;
    if (fread(buffer, 1, o->page_size, o->backing) != o->page_size)
        return 0;
    return fbt_check_fill(buffer, o->page_size, (uint32_t)i);
}
