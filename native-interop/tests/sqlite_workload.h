/*
 * sqlite_workload.h - SQLite as a client of FastBuddy: its allocator methods and a workload with a model.
 *
 * Shared by the SQLite test (tests/test_sqlite.c) and the SQLite benchmark (bench/sqlite_bench.c), so that the
 * benchmark times exactly the program the test checks.
 *
 * The allocator: fbsql_use installs SQLITE_CONFIG_MALLOC methods (xMalloc, xFree, xRealloc, xSize, xRoundup,
 * xInit, xShutdown) over fb_alloc / fb_free / fb_realloc / fb_usable_size on one arena, or over glibc's malloc
 * family for comparison; both count what SQLite asks for (fbsql_counts). Call it before sqlite3_initialize or
 * after sqlite3_shutdown (SQLite accepts no allocator change in between).
 *
 * The rows: row i (i >= 1) has id i, a unique key fbsql_key(i) and a text of 10 to 200 letters (fbsql_text).
 * fbsql_expect computes from the model what any range of rows must add up to, before and after fbsql_mutate.
 *
 * Every function returning int returns an SQLite result code; on failure fbsql_error() (per thread) says which
 * step failed, SQLite's message and, when the allocator refused a request, which call failed and why.
 */
#ifndef FB_SQLITE_WORKLOAD_H
#define FB_SQLITE_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <fastbuddy.h>
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rows are numbered 1 .. FBSQL_MAX_ROWS (their keys are unique up to there). */
#define FBSQL_MAX_ROWS 1000000
/* The longest text a row can have: 200 letters, grown by fbsql_mutate by up to 40. */
#define FBSQL_MAX_TEXT 240

typedef enum fbsql_allocator { FBSQL_GLIBC, FBSQL_FASTBUDDY } fbsql_allocator;

/* What SQLite asked of its allocator since fbsql_use (plain snapshot of atomic counters). */
typedef struct fbsql_counts {
    int64_t mallocs, reallocs, frees;
    int64_t live;          /* allocations not freed yet */
    int64_t largest;       /* largest request in bytes (xMalloc or xRealloc) */
    int64_t refused;       /* requests that returned NULL */
    int64_t bad_frees;     /* fb_free calls that did not return FB_OK (an allocator or SQLite bug) */
    int64_t inits, shutdowns;
} fbsql_counts;

/* sqlite3_config(SQLITE_CONFIG_MALLOC) with the chosen allocator (arena: FastBuddy's, NULL for glibc); resets the counts. */
int fbsql_use(fbsql_allocator allocator, fb_arena* arena);
fbsql_counts fbsql_counts_now(void);

/* The last failure on this thread ("" if none): the step, SQLite's code and message, the allocator's refusal. */
const char* fbsql_error(void);

/* The model of row i. */
int64_t fbsql_key(int64_t id);
size_t fbsql_text_length(int64_t id);
void fbsql_text(int64_t id, char* out); /* fbsql_text_length(id) letters, not terminated */

/* What a set of rows adds up to. */
typedef struct fbsql_totals {
    int64_t rows;
    int64_t sum_k;
    int64_t sum_length; /* of the texts */
} fbsql_totals;

/* Rows first .. first+n-1 as inserted (mutated = 0) or after fbsql_mutate (mutated = 1). */
fbsql_totals fbsql_expect(int64_t first, int64_t n, int mutated);

/* An in-memory database (":memory:", SQLITE_OPEN_FULLMUTEX: any thread may use it), a cache limit large enough
   that the sorter keeps its run in one growing buffer, and the table t(id, k, s). */
int fbsql_open(sqlite3** db);
/* Inserts rows first .. first+n-1: in one transaction, or (one_transaction = 0) one autocommit per row. */
int fbsql_insert(sqlite3* db, int64_t first, int64_t n, int one_transaction);
/* CREATE INDEX t_k ON t(k). */
int fbsql_index(sqlite3* db);
/* SELECT count(*), sum(k), sum(length(s)) FROM t. */
int fbsql_totals_of(sqlite3* db, fbsql_totals* out);

/* One full scan in order: by k (the index: no sort) or by s (no index: SQLite's sorter). */
typedef enum fbsql_order { FBSQL_BY_K, FBSQL_BY_S } fbsql_order;
typedef struct fbsql_scan {
    fbsql_totals totals; /* of the rows returned */
    int in_order;        /* 1 if every row came in order (k strictly ascending; s never descending) */
    int sorts;           /* SQLITE_STMTSTATUS_SORT: 0 when the index gave the order */
    int texts_match;     /* 1 if every s read back is the model's text of its id (before fbsql_mutate) */
} fbsql_scan;
int fbsql_scan_rows(sqlite3* db, fbsql_order order, int check_texts, fbsql_scan* out);

/* DELETE the rows with id % 3 = 0; s = s || substr(s, 1, 40) where id % 5 = 1; k = -k where id % 7 = 2. */
int fbsql_mutate(sqlite3* db);
/* VACUUM. */
int fbsql_vacuum(sqlite3* db);
/* PRAGMA integrity_check: its first row into out ("ok" when the database is sound). */
int fbsql_integrity(sqlite3* db, char* out, size_t size);

/* The whole program on one connection, as the test checks it and the benchmark times it. */
typedef struct fbsql_report {
    fbsql_totals inserted;       /* after inserting rows 1 .. rows */
    fbsql_scan by_k, by_s;       /* after CREATE INDEX */
    fbsql_totals mutated;        /* after fbsql_mutate */
    fbsql_scan by_k_vacuumed, by_s_vacuumed; /* after VACUUM */
    char integrity[64];          /* after VACUUM */
} fbsql_report;
/* Open, insert, index, scan both ways, mutate, VACUUM, scan again, integrity_check, close. */
int fbsql_program(int64_t rows, fbsql_report* report);

#ifdef __cplusplus
}
#endif

#endif
