/*
 * SQLite as a real client of FastBuddy: every allocation of SQLite (Debian's libsqlite3) served by fb_alloc,
 * fb_realloc, fb_free and fb_usable_size on one arena through SQLITE_CONFIG_MALLOC (sqlite_workload.c), on the
 * workload of sqlite_workload.h: tens of thousands of rows with texts of 10 to 200 bytes, an index, a scan in
 * index order and one through SQLite's sorter (whose buffer realloc grows past the largest page block), deletes,
 * updates, VACUUM and PRAGMA integrity_check. Each test checks SQLite's answers against the model, then that
 * after sqlite3_shutdown SQLite holds nothing, the arena validates and every page is back.
 *
 * SQLite's allocator is process-wide: each test installs it, and shuts SQLite down before it returns.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fbtest.h"
#include "helpers.h"
#include "sqlite_workload.h"

#define SQL_OK(expr)                                                               \
    do {                                                                           \
        if ((expr) != SQLITE_OK)                                                   \
            fbt_fail(__FILE__, __LINE__, fbsql_error());                           \
    } while (0)

static void check_totals(const char* what, fbsql_totals got, fbsql_totals expected, const char* file, int line)
{
    if (got.rows != expected.rows || got.sum_k != expected.sum_k || got.sum_length != expected.sum_length) {
        char message[256];
        snprintf(message, sizeof message,
                 "%s: %lld rows, sum(k) %lld, sum(length(s)) %lld; the model says %lld, %lld, %lld", what,
                 (long long)got.rows, (long long)got.sum_k, (long long)got.sum_length, (long long)expected.rows,
                 (long long)expected.sum_k, (long long)expected.sum_length);
        fbt_fail(file, line, message);
    }
}
#define CHECK_TOTALS(what, got, expected) check_totals((what), (got), (expected), __FILE__, __LINE__)

/* The index gives the k order without a sort; ORDER BY s goes through the sorter. */
static void check_scan(const char* what, const fbsql_scan* scan, fbsql_order order, fbsql_totals expected,
                       int texts_checked, const char* file, int line)
{
    check_totals(what, scan->totals, expected, file, line);
    if (!scan->in_order)
        fbt_fail(file, line, order == FBSQL_BY_K ? "ORDER BY k: a row came out of order" : "ORDER BY s: a row came out of order");
    if (order == FBSQL_BY_K && scan->sorts != 0)
        fbt_fail(file, line, "ORDER BY k sorted instead of walking the index t_k");
    if (order == FBSQL_BY_S && scan->sorts == 0)
        fbt_fail(file, line, "ORDER BY s did not use the sorter");
    if (texts_checked && !scan->texts_match)
        fbt_fail(file, line, "a row read back differs from what was inserted");
}
#define CHECK_SCAN(what, scan, order, expected, texts) \
    check_scan((what), &(scan), (order), (expected), (texts), __FILE__, __LINE__)

/* An arena with options o; SQLite configured on it and initialised (NULL on failure, reported). */
static fb_arena* sqlite_on_arena(const fb_options* o)
{
    fb_arena* a = fbt_arena_with(o);
    if (a == NULL)
        return NULL;
    if (fbsql_use(FBSQL_FASTBUDDY, a) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK) {
        fbt_fail(__FILE__, __LINE__, fbsql_error());
        fb_arena_destroy(a);
        return NULL;
    }
    return a;
}

/* sqlite3_shutdown, then: SQLite freed everything it allocated, FastBuddy refused nothing it should not have, no
   object of any size class is in use; fb_trim gives back the slabs the threads and the classes keep, and then the
   arena validates and has every page back (free, or parked in a thread's per-CPU lists). */
static void shutdown_and_check(fb_arena* a, int expect_refusals)
{
    CHECK_EQ(sqlite3_shutdown(), SQLITE_OK);
    fbsql_counts c = fbsql_counts_now();
    CHECK_EQ(c.inits, 1);
    CHECK_EQ(c.shutdowns, 1);
    CHECK_EQ(c.live, 0);
    CHECK_EQ(c.bad_frees, 0);
    CHECK(c.mallocs > 0);
    CHECK_EQ(c.mallocs, c.frees);
    if (!expect_refusals)
        CHECK_EQ(c.refused, 0);
    fb_stats s = fbt_stats(a);
    CHECK_EQ(s.slab_objects, 0);
    CHECK_EQ(s.slab_object_bytes, 0);
    CHECK(fb_trim(a) >= 0);
    CHECK_EQ(fbt_stats(a).slab_pages, 0);
    CHECK_ARENA(a, s.total_pages);
    CHECK_STATUS(fb_arena_destroy(a), FB_OK);
}

static void default_options(fb_options* o, size_t bytes)
{
    CHECK_STATUS(fb_options_init(o), FB_OK);
    o->arena_bytes = bytes;
}

FB_TEST(sqlite_program_runs_on_fastbuddy)
{
    fb_options o;
    default_options(&o, 256 * MIB);
    fb_arena* a = sqlite_on_arena(&o);
    REQUIRE(a != NULL);
    int64_t rows = fbt_scale(40000);
    fbsql_report r;
    if (fbsql_program(rows, &r) != SQLITE_OK) {
        fbt_fail(__FILE__, __LINE__, fbsql_error()); /* the step that failed, and the allocator's refusal if any */
    } else {
        fbsql_totals inserted = fbsql_expect(1, rows, 0), mutated = fbsql_expect(1, rows, 1);
        CHECK_TOTALS("after the inserts", r.inserted, inserted);
        CHECK_SCAN("ORDER BY k", r.by_k, FBSQL_BY_K, inserted, 1);
        CHECK_SCAN("ORDER BY s", r.by_s, FBSQL_BY_S, inserted, 1);
        CHECK_TOTALS("after the deletes and updates", r.mutated, mutated);
        CHECK_SCAN("ORDER BY k after VACUUM", r.by_k_vacuumed, FBSQL_BY_K, mutated, 0);
        CHECK_SCAN("ORDER BY s after VACUUM", r.by_s_vacuumed, FBSQL_BY_S, mutated, 0);
        CHECK(strcmp(r.integrity, "ok") == 0);
    }
    fbsql_counts c = fbsql_counts_now();
    CHECK(c.reallocs > 0);
    /* The full run's sorter buffer outgrows the largest page block: served as a run of blocks. */
    size_t largest_block = (size_t)fb_page_size(a) << (fb_max_order(a) - 1);
    if (rows >= 40000)
        CHECK(c.largest > (int64_t)largest_block);
    shutdown_and_check(a, 0);
}

/* Two threads fill a database each, then swap: each mutates, sorts, checks and closes the other's, so every page
   SQLite cached for one thread is freed by the other. Meanwhile both insert into one shared connection row by
   row, interleaved; the main thread checks and closes it. */
typedef struct sqlite_worker {
    int64_t first, rows;   /* its own database: rows first .. first+rows-1 */
    int64_t shared_first, shared_rows;
    sqlite3* own;
    sqlite3* shared;
    struct sqlite_worker* peer;
    pthread_barrier_t* swap;
} sqlite_worker;

static void worker_fill(sqlite_worker* w)
{
    SQL_OK(fbsql_open(&w->own));
    if (w->own == NULL)
        return;
    SQL_OK(fbsql_insert(w->own, w->first, w->rows, 1));
    SQL_OK(fbsql_index(w->own));
}

static void worker_take_over_peer(sqlite_worker* w)
{
    sqlite3* db = w->peer->own;
    if (db == NULL)
        return; /* the peer failed to open it (reported there) */
    fbsql_totals mutated = fbsql_expect(w->peer->first, w->peer->rows, 1), totals;
    fbsql_scan by_s;
    char integrity[64];
    SQL_OK(fbsql_mutate(db));
    SQL_OK(fbsql_totals_of(db, &totals));
    CHECK_TOTALS("the peer's database after the deletes and updates", totals, mutated);
    SQL_OK(fbsql_scan_rows(db, FBSQL_BY_S, 0, &by_s));
    CHECK_SCAN("the peer's database ORDER BY s", by_s, FBSQL_BY_S, mutated, 0);
    SQL_OK(fbsql_vacuum(db));
    SQL_OK(fbsql_integrity(db, integrity, sizeof integrity));
    CHECK(strcmp(integrity, "ok") == 0);
    CHECK_EQ(sqlite3_close(db), SQLITE_OK);
}

static void* sqlite_worker_main(void* arg)
{
    sqlite_worker* w = (sqlite_worker*)arg;
    worker_fill(w);
    SQL_OK(fbsql_insert(w->shared, w->shared_first, w->shared_rows, 0));
    pthread_barrier_wait(w->swap); /* every thread reaches it, whatever failed before */
    worker_take_over_peer(w);
    return NULL;
}

FB_TEST(sqlite_two_threads_free_each_others_memory)
{
    fb_options o;
    default_options(&o, 256 * MIB);
    fb_arena* a = sqlite_on_arena(&o);
    REQUIRE(a != NULL);
    int64_t rows = fbt_scale(10000), shared_rows = fbt_scale(2000);
    sqlite3* shared = NULL;
    SQL_OK(fbsql_open(&shared));
    pthread_barrier_t swap;
    CHECK_EQ(pthread_barrier_init(&swap, NULL, 2), 0);
    sqlite_worker w[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        w[i] = (sqlite_worker){ 1 + i * rows, rows, 1 + i * shared_rows, shared_rows, NULL, shared, &w[1 - i], &swap };
    int started = 0;
    if (shared != NULL)
        for (; started < 2; started++)
            if (pthread_create(&threads[started], NULL, sqlite_worker_main, &w[started]) != 0)
                break;
    CHECK_EQ(started, shared != NULL ? 2 : 0);
    if (started == 1)
        pthread_barrier_wait(&swap); /* the one thread started must not wait forever */
    for (int i = 0; i < started; i++)
        CHECK_EQ(pthread_join(threads[i], NULL), 0);
    CHECK_EQ(pthread_barrier_destroy(&swap), 0);
    if (shared != NULL) {
        fbsql_totals totals;
        SQL_OK(fbsql_totals_of(shared, &totals));
        CHECK_TOTALS("the shared connection", totals, fbsql_expect(1, 2 * shared_rows, 0));
        CHECK_EQ(sqlite3_close(shared), SQLITE_OK);
    }
    shutdown_and_check(a, 0);
}

/* An arena too small for the table: SQLite gets NULL, says SQLITE_NOMEM, and FastBuddy said why (NO_MEMORY, not
   INVALID_ARGUMENT); SQLite frees what it had and the arena gets it all back. */
FB_TEST(sqlite_out_of_memory_is_sqlite_nomem)
{
    fb_options o;
    fbt_default_options(&o, 2 * MIB); /* no reclaimer thread, 20 ms wait: the refusals come quickly */
    fb_arena* a = sqlite_on_arena(&o);
    REQUIRE(a != NULL);
    sqlite3* db = NULL;
    SQL_OK(fbsql_open(&db));
    if (db != NULL) {
        CHECK_EQ(fbsql_insert(db, 1, 100000, 1), SQLITE_NOMEM);
        char expected[64];
        snprintf(expected, sizeof expected, "status %d (", FB_ERR_NO_MEMORY);
        if (strstr(fbsql_error(), expected) == NULL)
            fbt_fail(__FILE__, __LINE__, fbsql_error());
        CHECK_EQ(sqlite3_close(db), SQLITE_OK);
    }
    CHECK(fbsql_counts_now().refused > 0);
    shutdown_and_check(a, 1);
}
