/* SQLite as a client of FastBuddy: the allocator methods and the workload of sqlite_workload.h. */
#define _GNU_SOURCE
#include "sqlite_workload.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ allocator */

/* SQLite's xMalloc and friends get no context: the arena they serve is process-wide, like SQLite's own config. */
static fb_arena* g_arena;

static struct {
    atomic_llong mallocs, reallocs, frees, live, largest, refused, bad_frees, inits, shutdowns;
} g_counts;

static _Thread_local char t_refusal[384]; /* the allocator's last refusal on this thread, since the step began */
static _Thread_local char t_error[1024];

static void note_request(int bytes)
{
    long long n = bytes;
    long long seen = atomic_load_explicit(&g_counts.largest, memory_order_relaxed);
    while (n > seen && !atomic_compare_exchange_weak_explicit(&g_counts.largest, &seen, n, memory_order_relaxed,
                                                              memory_order_relaxed)) {
    }
}

static void count(atomic_llong* counter, long long delta)
{
    atomic_fetch_add_explicit(counter, delta, memory_order_relaxed);
}

/* Records why FastBuddy refused a request, in the words of fb_last_error_message (valid only until the next failure). */
static void note_refusal(const char* call)
{
    int status = fb_last_error();
    snprintf(t_refusal, sizeof t_refusal, "%s returned NULL: status %d (%s): %s", call, status, fb_strerror(status),
             fb_last_error_message());
    count(&g_counts.refused, 1);
}

static void* fb_x_malloc(int bytes)
{
    note_request(bytes);
    void* p = fb_alloc(g_arena, (size_t)bytes, FB_KERNEL);
    if (p == NULL) {
        char call[96];
        snprintf(call, sizeof call, "fb_alloc(arena, %d, FB_KERNEL)", bytes);
        note_refusal(call);
        return NULL;
    }
    count(&g_counts.mallocs, 1);
    count(&g_counts.live, 1);
    return p;
}

static void fb_x_free(void* p)
{
    int status = fb_free(g_arena, p);
    if (status != FB_OK) {
        /* xFree cannot report: say it now, and count it for the test. */
        fprintf(stderr, "fb_free(arena, %p) returned %d (%s): %s\n", p, status, fb_strerror(status),
                fb_last_error_message());
        count(&g_counts.bad_frees, 1);
        return;
    }
    count(&g_counts.frees, 1);
    count(&g_counts.live, -1);
}

/* SQLite calls xRealloc only with a live pointer and a size > 0 (sqlite3Realloc handles NULL and 0 itself). */
static void* fb_x_realloc(void* p, int bytes)
{
    note_request(bytes);
    void* q = fb_realloc(g_arena, p, (size_t)bytes, FB_KERNEL);
    if (q == NULL) {
        char call[128];
        snprintf(call, sizeof call, "fb_realloc(arena, %p [usable %zu], %d, FB_KERNEL)", p,
                 fb_usable_size(g_arena, p), bytes);
        note_refusal(call);
        return NULL;
    }
    count(&g_counts.reallocs, 1);
    return q;
}

static int fb_x_size(void* p)
{
    return (int)fb_usable_size(g_arena, p);
}

static void* glibc_x_malloc(int bytes)
{
    note_request(bytes);
    void* p = malloc((size_t)bytes);
    if (p == NULL) {
        snprintf(t_refusal, sizeof t_refusal, "malloc(%d) returned NULL", bytes);
        count(&g_counts.refused, 1);
        return NULL;
    }
    count(&g_counts.mallocs, 1);
    count(&g_counts.live, 1);
    return p;
}

static void glibc_x_free(void* p)
{
    free(p);
    count(&g_counts.frees, 1);
    count(&g_counts.live, -1);
}

static void* glibc_x_realloc(void* p, int bytes)
{
    note_request(bytes);
    void* q = realloc(p, (size_t)bytes);
    if (q == NULL) {
        snprintf(t_refusal, sizeof t_refusal, "realloc(%p, %d) returned NULL", p, bytes);
        count(&g_counts.refused, 1);
        return NULL;
    }
    count(&g_counts.reallocs, 1);
    return q;
}

static int glibc_x_size(void* p)
{
    return (int)malloc_usable_size(p);
}

/* Only for SQLite's soft heap limit; xSize gives the real figure afterwards. */
static int x_roundup(int bytes)
{
    return (bytes + 7) & ~7;
}

static int x_init(void* app)
{
    count(&g_counts.inits, 1);
    /* FastBuddy: the arena must be alive (fb_page_size is 0 on a dead handle). */
    return app == NULL || fb_page_size((fb_arena*)app) != 0 ? SQLITE_OK : SQLITE_ERROR;
}

static void x_shutdown(void* app)
{
    (void)app;
    count(&g_counts.shutdowns, 1);
}

int fbsql_use(fbsql_allocator allocator, fb_arena* arena)
{
    static sqlite3_mem_methods methods;
    if (allocator == FBSQL_FASTBUDDY)
        methods = (sqlite3_mem_methods){ fb_x_malloc, fb_x_free, fb_x_realloc, fb_x_size, x_roundup, x_init,
                                         x_shutdown, arena };
    else
        methods = (sqlite3_mem_methods){ glibc_x_malloc, glibc_x_free, glibc_x_realloc, glibc_x_size, x_roundup,
                                         x_init, x_shutdown, NULL };
    atomic_llong* all[] = { &g_counts.mallocs, &g_counts.reallocs, &g_counts.frees, &g_counts.live,
                            &g_counts.largest, &g_counts.refused, &g_counts.bad_frees, &g_counts.inits,
                            &g_counts.shutdowns };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        atomic_store(all[i], 0);
    g_arena = arena;
    t_refusal[0] = '\0';
    int rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
    if (rc != SQLITE_OK)
        snprintf(t_error, sizeof t_error, "sqlite3_config(SQLITE_CONFIG_MALLOC): %s (%d)", sqlite3_errstr(rc), rc);
    return rc;
}

fbsql_counts fbsql_counts_now(void)
{
    return (fbsql_counts){
        atomic_load(&g_counts.mallocs), atomic_load(&g_counts.reallocs),  atomic_load(&g_counts.frees),
        atomic_load(&g_counts.live),    atomic_load(&g_counts.largest),   atomic_load(&g_counts.refused),
        atomic_load(&g_counts.bad_frees), atomic_load(&g_counts.inits), atomic_load(&g_counts.shutdowns),
    };
}

const char* fbsql_error(void)
{
    return t_error;
}

/* Every step starts here: a refusal recorded by an earlier, successful step is not this step's cause. */
static void begin(void)
{
    t_refusal[0] = '\0';
}

static int fail(const char* step, sqlite3* db, int rc)
{
    snprintf(t_error, sizeof t_error, "%s: %s (%d): %s%s%s", step, sqlite3_errstr(rc), rc,
             db != NULL ? sqlite3_errmsg(db) : "", t_refusal[0] != '\0' ? "; allocator: " : "", t_refusal);
    return rc;
}

/* ---------------------------------------------------------------------- model */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A permutation of 1 .. FBSQL_MAX_ROWS into 1 .. 1000002 (1000003 is prime, 7919 is not a multiple of it). */
int64_t fbsql_key(int64_t id)
{
    return (id * 7919) % 1000003;
}

size_t fbsql_text_length(int64_t id)
{
    return 10 + (size_t)(mix((uint64_t)id) % 191);
}

void fbsql_text(int64_t id, char* out)
{
    size_t n = fbsql_text_length(id);
    uint64_t x = mix((uint64_t)id ^ 0x9E3779B97F4A7C15ULL);
    for (size_t i = 0; i < n; i++) {
        if ((i & 7) == 0)
            x = mix(x + i);
        out[i] = (char)('a' + (x >> (8 * (i & 7))) % 26);
    }
}

fbsql_totals fbsql_expect(int64_t first, int64_t n, int mutated)
{
    fbsql_totals t = { 0, 0, 0 };
    for (int64_t id = first; id < first + n; id++) {
        if (mutated && id % 3 == 0)
            continue;
        int64_t k = fbsql_key(id);
        int64_t length = (int64_t)fbsql_text_length(id);
        if (mutated && id % 7 == 2)
            k = -k;
        if (mutated && id % 5 == 1)
            length += length < 40 ? length : 40;
        t.rows++;
        t.sum_k += k;
        t.sum_length += length;
    }
    return t;
}

/* ------------------------------------------------------------------- workload */

static int exec(sqlite3* db, const char* step, const char* sql)
{
    begin();
    char* message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        snprintf(t_error, sizeof t_error, "%s (%s): %s (%d): %s%s%s", step, sql, sqlite3_errstr(rc), rc,
                 message != NULL ? message : sqlite3_errmsg(db), t_refusal[0] != '\0' ? "; allocator: " : "",
                 t_refusal);
    }
    sqlite3_free(message);
    return rc;
}

int fbsql_open(sqlite3** db)
{
    begin();
    *db = NULL;
    int rc = sqlite3_open_v2(":memory:", db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        fail("sqlite3_open_v2(\":memory:\")", *db, rc);
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    /* A 64 MiB cache limit: the sorter keeps its whole run in one buffer, which realloc doubles past 4 MiB (the
       largest page block at the default options) instead of spilling to a temp file at SQLite's default of 2 MB.
       (With temp_store = MEMORY the sorter would malloc each record on its own and never ask for that buffer.) */
    rc = exec(*db, "set up", "PRAGMA cache_size = -65536;"
                             "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER NOT NULL, s TEXT NOT NULL)");
    if (rc != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

static int insert_rows(sqlite3* db, sqlite3_stmt* insert, int64_t first, int64_t n)
{
    char text[FBSQL_MAX_TEXT];
    for (int64_t id = first; id < first + n; id++) {
        fbsql_text(id, text);
        sqlite3_bind_int64(insert, 1, id);
        sqlite3_bind_int64(insert, 2, fbsql_key(id));
        /* SQLITE_TRANSIENT: SQLite copies the text, one more allocation per row. */
        sqlite3_bind_text(insert, 3, text, (int)fbsql_text_length(id), SQLITE_TRANSIENT);
        int rc = sqlite3_step(insert);
        sqlite3_reset(insert);
        if (rc != SQLITE_DONE)
            return fail("INSERT INTO t", db, rc);
    }
    return SQLITE_OK;
}

int fbsql_insert(sqlite3* db, int64_t first, int64_t n, int one_transaction)
{
    int rc;
    if (first < 1 || n < 0 || first + n - 1 > FBSQL_MAX_ROWS)
        return fail("fbsql_insert: rows out of the model's range", NULL, SQLITE_RANGE);
    if (one_transaction && (rc = exec(db, "insert", "BEGIN")) != SQLITE_OK)
        return rc;
    begin();
    sqlite3_stmt* insert = NULL;
    rc = sqlite3_prepare_v2(db, "INSERT INTO t(id, k, s) VALUES (?1, ?2, ?3)", -1, &insert, NULL);
    if (rc != SQLITE_OK)
        fail("prepare INSERT", db, rc);
    else
        rc = insert_rows(db, insert, first, n);
    sqlite3_finalize(insert);
    if (one_transaction)
        rc = rc == SQLITE_OK ? exec(db, "insert", "COMMIT") : (sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), rc);
    return rc;
}

int fbsql_index(sqlite3* db)
{
    return exec(db, "index", "CREATE INDEX t_k ON t(k)");
}

/* Runs a statement that returns one row and hands that row to read. */
static int one_row(sqlite3* db, const char* sql, void (*read)(sqlite3_stmt* s, void* out), void* out)
{
    begin();
    sqlite3_stmt* s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        fail(sql, db, rc);
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read(s, out);
        rc = SQLITE_OK;
    } else {
        rc = fail(sql, db, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    }
    sqlite3_finalize(s);
    return rc;
}

static void read_totals(sqlite3_stmt* s, void* out)
{
    /* total() is a double: exact here, the sums stay far below 2^53. */
    *(fbsql_totals*)out = (fbsql_totals){ sqlite3_column_int64(s, 0), (int64_t)sqlite3_column_double(s, 1),
                                          (int64_t)sqlite3_column_double(s, 2) };
}

int fbsql_totals_of(sqlite3* db, fbsql_totals* out)
{
    return one_row(db, "SELECT count(*), total(k), total(length(s)) FROM t", read_totals, out);
}

/* BINARY collation: memcmp over the common length, then the shorter first. */
static int text_compare(const char* a, size_t na, const char* b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    return c != 0 ? c : (na > nb) - (na < nb);
}

static void scan_row(sqlite3_stmt* s, fbsql_order order, int check_texts, fbsql_scan* out, char* previous,
                     size_t* previous_length, int64_t* previous_k)
{
    int64_t id = sqlite3_column_int64(s, 0);
    int64_t k = sqlite3_column_int64(s, 1);
    const char* text = (const char*)sqlite3_column_text(s, 2);
    size_t length = (size_t)sqlite3_column_bytes(s, 2);
    if (text == NULL || length > FBSQL_MAX_TEXT) {
        out->in_order = 0;
        out->texts_match = 0;
        return;
    }
    if (out->totals.rows > 0) {
        if (order == FBSQL_BY_K && k <= *previous_k)
            out->in_order = 0;
        if (order == FBSQL_BY_S && text_compare(previous, *previous_length, text, length) > 0)
            out->in_order = 0;
    }
    if (check_texts) {
        char expected[FBSQL_MAX_TEXT];
        fbsql_text(id, expected);
        if (length != fbsql_text_length(id) || memcmp(text, expected, length) != 0 || k != fbsql_key(id))
            out->texts_match = 0;
    }
    memcpy(previous, text, length);
    *previous_length = length;
    *previous_k = k;
    out->totals.rows++;
    out->totals.sum_k += k;
    out->totals.sum_length += (int64_t)length;
}

int fbsql_scan_rows(sqlite3* db, fbsql_order order, int check_texts, fbsql_scan* out)
{
    begin();
    *out = (fbsql_scan){ { 0, 0, 0 }, 1, 0, 1 };
    const char* sql = order == FBSQL_BY_K ? "SELECT id, k, s FROM t ORDER BY k" : "SELECT id, k, s FROM t ORDER BY s";
    sqlite3_stmt* s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return sqlite3_finalize(s), fail(sql, db, rc);
    char previous[FBSQL_MAX_TEXT];
    size_t previous_length = 0;
    int64_t previous_k = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        scan_row(s, order, check_texts, out, previous, &previous_length, &previous_k);
    out->sorts = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_SORT, 0);
    if (rc != SQLITE_DONE)
        fail(sql, db, sqlite3_errcode(db));
    rc = rc == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    sqlite3_finalize(s);
    return rc;
}

int fbsql_mutate(sqlite3* db)
{
    return exec(db, "mutate", "DELETE FROM t WHERE id % 3 = 0;"
                              "UPDATE t SET s = s || substr(s, 1, 40) WHERE id % 5 = 1;"
                              "UPDATE t SET k = -k WHERE id % 7 = 2");
}

int fbsql_vacuum(sqlite3* db)
{
    return exec(db, "vacuum", "VACUUM");
}

typedef struct text_out {
    char* text;
    size_t size;
} text_out;

static void read_text(sqlite3_stmt* s, void* out)
{
    text_out* t = (text_out*)out;
    const unsigned char* text = sqlite3_column_text(s, 0);
    snprintf(t->text, t->size, "%s", text != NULL ? (const char*)text : "(NULL)");
}

int fbsql_integrity(sqlite3* db, char* out, size_t size)
{
    out[0] = '\0';
    text_out t = { out, size };
    return one_row(db, "PRAGMA integrity_check", read_text, &t);
}

static int program_steps(sqlite3* db, int64_t rows, fbsql_report* r)
{
    int rc;
    if ((rc = fbsql_insert(db, 1, rows, 1)) != SQLITE_OK || (rc = fbsql_totals_of(db, &r->inserted)) != SQLITE_OK ||
        (rc = fbsql_index(db)) != SQLITE_OK || (rc = fbsql_scan_rows(db, FBSQL_BY_K, 1, &r->by_k)) != SQLITE_OK ||
        (rc = fbsql_scan_rows(db, FBSQL_BY_S, 1, &r->by_s)) != SQLITE_OK || (rc = fbsql_mutate(db)) != SQLITE_OK ||
        (rc = fbsql_totals_of(db, &r->mutated)) != SQLITE_OK || (rc = fbsql_vacuum(db)) != SQLITE_OK ||
        (rc = fbsql_scan_rows(db, FBSQL_BY_K, 0, &r->by_k_vacuumed)) != SQLITE_OK ||
        (rc = fbsql_scan_rows(db, FBSQL_BY_S, 0, &r->by_s_vacuumed)) != SQLITE_OK)
        return rc;
    return fbsql_integrity(db, r->integrity, sizeof r->integrity);
}

int fbsql_program(int64_t rows, fbsql_report* report)
{
    memset(report, 0, sizeof *report);
    sqlite3* db;
    int rc = fbsql_open(&db);
    if (rc != SQLITE_OK)
        return rc;
    rc = program_steps(db, rows, report);
    int closed = sqlite3_close(db);
    if (rc == SQLITE_OK && closed != SQLITE_OK)
        rc = fail("sqlite3_close", NULL, closed);
    return rc;
}
