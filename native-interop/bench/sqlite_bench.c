/*
 * sqlite_bench.c - SQLite's program on FastBuddy against glibc malloc: wall time and peak resident memory.
 *
 * The program is the one the SQLite test checks (tests/sqlite_workload.c, fbsql_program): an in-memory database,
 * `rows` rows with texts of 10 to 200 bytes inserted in one transaction, an index, a full scan in index order and
 * one through SQLite's sorter, a third of the rows deleted and a fifth updated, VACUUM, both scans again and
 * PRAGMA integrity_check. SQLite's allocator is installed through SQLITE_CONFIG_MALLOC either way, by the same
 * methods over two back ends:
 *   glibc       malloc / free / realloc / malloc_usable_size
 *   fastbuddy   fb_alloc / fb_free / fb_realloc / fb_usable_size (FB_KERNEL) on one arena of --arena-mib MiB
 *               (one zone, the library's default options: fb_options_init)
 * Each run is its own process (this program runs itself again with --child), so that each peak resident size
 * (ru_maxrss from wait4) is that allocator's alone; the allocators alternate in the order of their runs. A child
 * checks SQLite's answers against the model of sqlite_workload.h before it reports, so that a wrong run never
 * gives a figure. Prints a markdown table: the median of --repeat runs of each, and FastBuddy / glibc.
 *   program time    sqlite3_initialize .. sqlite3_shutdown (for FastBuddy after fb_arena_create)
 *   process time    fork .. exit as the parent sees it (exec, library load, runtime start, arena creation too)
 *   peak resident   ru_maxrss of the child process
 *   SQLite's peak   sqlite3_memory_highwater: the most SQLite held at once, in usable bytes (xSize)
 *
 * Usage: fastbuddy_sqlite_bench [--rows N (200000)] [--arena-mib N (1024)] [--repeat N (1)]
 * Exit status 0 when every run succeeded; 1 when one failed (its reason is printed in the table and on stderr).
 */
#define _GNU_SOURCE
#include "sqlite_workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPEAT 25
#define ALLOCATORS 2

typedef struct settings {
    long rows;
    long arena_mib;
    int repeat;
} settings;

static const char* const k_names[ALLOCATORS] = { "glibc", "fastbuddy" };
static const char* const k_titles[ALLOCATORS] = { "glibc malloc", "FastBuddy" };

typedef struct run {
    int ok;
    double program_s, process_s, peak_mib, sqlite_peak_mib;
    char error[1200];
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- the child */

static int same(fbsql_totals a, fbsql_totals b)
{
    return a.rows == b.rows && a.sum_k == b.sum_k && a.sum_length == b.sum_length;
}

/* The run counts only if SQLite answered as the model says. */
static const char* wrong_answer(const fbsql_report* r, long rows)
{
    fbsql_totals inserted = fbsql_expect(1, rows, 0), mutated = fbsql_expect(1, rows, 1);
    if (!same(r->inserted, inserted) || !same(r->by_k.totals, inserted) || !same(r->by_s.totals, inserted))
        return "the inserted rows differ from the model";
    if (!same(r->mutated, mutated) || !same(r->by_k_vacuumed.totals, mutated) ||
        !same(r->by_s_vacuumed.totals, mutated))
        return "the rows after the deletes and updates differ from the model";
    if (!r->by_k.in_order || !r->by_s.in_order || !r->by_k_vacuumed.in_order || !r->by_s_vacuumed.in_order ||
        !r->by_k.texts_match || !r->by_s.texts_match)
        return "a scan returned rows out of order or with wrong contents";
    if (strcmp(r->integrity, "ok") != 0)
        return "PRAGMA integrity_check did not say ok";
    return NULL;
}

/* Prints "result <program seconds> <SQLite's peak bytes>" or "error <reason>" on stdout. */
static int child(const char* name, long rows, long arena_mib)
{
    fb_arena* arena = NULL;
    fbsql_allocator allocator = strcmp(name, k_names[1]) == 0 ? FBSQL_FASTBUDDY : FBSQL_GLIBC;
    if (allocator == FBSQL_FASTBUDDY) {
        fb_options o;
        fb_options_init(&o);
        o.arena_bytes = (size_t)arena_mib << 20;
        int status = fb_arena_create(&o, &arena);
        if (status != FB_OK) {
            printf("error fb_arena_create: %s: %s\n", fb_strerror(status), fb_last_error_message());
            return 1;
        }
    }
    if (fbsql_use(allocator, arena) != SQLITE_OK) {
        printf("error %s\n", fbsql_error());
        return 1;
    }
    double start = now_s();
    fbsql_report report;
    int rc = sqlite3_initialize();
    if (rc == SQLITE_OK)
        rc = fbsql_program(rows, &report);
    else
        snprintf(report.integrity, sizeof report.integrity, "sqlite3_initialize failed");
    sqlite3_int64 sqlite_peak = sqlite3_memory_highwater(0);
    sqlite3_shutdown();
    double elapsed = now_s() - start;
    const char* wrong = rc == SQLITE_OK ? wrong_answer(&report, rows) : NULL;
    if (rc != SQLITE_OK)
        printf("error %s\n", fbsql_error());
    else if (wrong != NULL)
        printf("error %s\n", wrong);
    else
        printf("result %.6f %lld\n", elapsed, (long long)sqlite_peak);
    if (arena != NULL)
        fb_arena_destroy(arena);
    return rc == SQLITE_OK && wrong == NULL ? 0 : 1;
}

/* --------------------------------------------------------------- the parent */

static void parse_child_output(const char* text, run* r)
{
    double seconds;
    long long peak;
    if (sscanf(text, "result %lf %lld", &seconds, &peak) == 2) {
        r->ok = 1;
        r->program_s = seconds;
        r->sqlite_peak_mib = (double)peak / (1024.0 * 1024.0);
        return;
    }
    const char* reason = strncmp(text, "error ", 6) == 0 ? text + 6 : text;
    snprintf(r->error, sizeof r->error, "%s", reason[0] != '\0' ? reason : "the child printed nothing");
    r->error[strcspn(r->error, "\n")] = '\0';
}

static void run_child(const settings* s, int which, run* r)
{
    memset(r, 0, sizeof *r);
    int pipe_fd[2];
    if (pipe(pipe_fd) != 0) {
        snprintf(r->error, sizeof r->error, "pipe: %s", strerror(errno));
        return;
    }
    char rows[32], mib[32];
    snprintf(rows, sizeof rows, "%ld", s->rows);
    snprintf(mib, sizeof mib, "%ld", s->arena_mib);
    double start = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipe_fd[1], STDOUT_FILENO);
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        char* args[] = { "fastbuddy_sqlite_bench", "--child", (char*)k_names[which], "--rows", rows, "--arena-mib", mib,
                         NULL };
        execv("/proc/self/exe", args);
        printf("error execv(/proc/self/exe): %s\n", strerror(errno));
        fflush(stdout);
        _exit(127);
    }
    close(pipe_fd[1]);
    char text[sizeof r->error] = "";
    size_t used = 0;
    ssize_t n;
    while (pid > 0 && (n = read(pipe_fd[0], text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)n;
    text[used] = '\0';
    close(pipe_fd[0]);
    int status = 0;
    struct rusage usage;
    if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) {
        snprintf(r->error, sizeof r->error, "fork/wait4: %s", strerror(errno));
        return;
    }
    r->process_s = now_s() - start;
    r->peak_mib = (double)usage.ru_maxrss / 1024.0; /* ru_maxrss is in KiB */
    parse_child_output(text, r);
    if (r->ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        r->ok = 0;
        snprintf(r->error, sizeof r->error, "the child exited with status %d", status);
    }
}

static int compare_doubles(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* Median of one field over the runs (all of them succeeded). */
static double median(const run* runs, int n, size_t field)
{
    double values[MAX_REPEAT];
    for (int i = 0; i < n; i++)
        values[i] = *(const double*)((const char*)&runs[i] + field);
    qsort(values, (size_t)n, sizeof values[0], compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static int report(const settings* s, run runs[ALLOCATORS][MAX_REPEAT])
{
    printf("SQLite's program (tests/sqlite_workload.c): %ld rows; FastBuddy: one arena of %ld MiB, default options; "
           "each allocator in its own process, median of %d run%s.\n\n",
           s->rows, s->arena_mib, s->repeat, s->repeat == 1 ? "" : "s");
    printf("| allocator | program time | process time | peak resident | SQLite's peak |\n");
    printf("|---|---:|---:|---:|---:|\n");
    double m[ALLOCATORS][4];
    int ok = 1;
    for (int a = 0; a < ALLOCATORS; a++) {
        for (int i = 0; i < s->repeat; i++) {
            if (!runs[a][i].ok) {
                printf("| %s | failed: %s | | | |\n", k_titles[a], runs[a][i].error);
                fprintf(stderr, "%s, run %d: %s\n", k_titles[a], i + 1, runs[a][i].error);
                ok = 0;
                break;
            }
        }
        if (!ok)
            continue;
        m[a][0] = median(runs[a], s->repeat, offsetof(run, program_s));
        m[a][1] = median(runs[a], s->repeat, offsetof(run, process_s));
        m[a][2] = median(runs[a], s->repeat, offsetof(run, peak_mib));
        m[a][3] = median(runs[a], s->repeat, offsetof(run, sqlite_peak_mib));
        printf("| %s | %.3f s | %.3f s | %.1f MiB | %.1f MiB |\n", k_titles[a], m[a][0], m[a][1], m[a][2], m[a][3]);
    }
    if (!ok)
        return 1;
    printf("| FastBuddy / glibc | %.2fx | %.2fx | %.2fx | %.2fx |\n\n", m[1][0] / m[0][0], m[1][1] / m[0][1],
           m[1][2] / m[0][2], m[1][3] / m[0][3]);
    printf("Targets: program time within 1.3x of glibc's, peak resident within 1.5x.\n");
    return 0;
}

static int parse_long(const char* text, long low, long high, long* out)
{
    char* end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high)
        return 0;
    *out = value;
    return 1;
}

int main(int argc, char** argv)
{
    settings s = { 200000, 1024, 1 };
    const char* child_name = NULL;
    for (int i = 1; i < argc; i++) {
        long value = 0;
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--child") == 0 && has_value) {
            child_name = argv[++i];
        } else if (strcmp(argv[i], "--rows") == 0 && has_value && parse_long(argv[++i], 1, FBSQL_MAX_ROWS, &value)) {
            s.rows = value;
        } else if (strcmp(argv[i], "--arena-mib") == 0 && has_value && parse_long(argv[++i], 1, 1 << 20, &value)) {
            s.arena_mib = value;
        } else if (strcmp(argv[i], "--repeat") == 0 && has_value && parse_long(argv[++i], 1, MAX_REPEAT, &value)) {
            s.repeat = (int)value;
        } else {
            fprintf(stderr, "usage: %s [--rows N (1 .. %d, 200000)] [--arena-mib N (1024)] [--repeat N (1 .. %d, 1)]\n",
                    argv[0], FBSQL_MAX_ROWS, MAX_REPEAT);
            return 2;
        }
    }
    if (child_name != NULL) {
        if (strcmp(child_name, k_names[0]) != 0 && strcmp(child_name, k_names[1]) != 0) {
            fprintf(stderr, "--child: glibc or fastbuddy, not %s\n", child_name);
            return 2;
        }
        return child(child_name, s.rows, s.arena_mib);
    }
    static run runs[ALLOCATORS][MAX_REPEAT];
    for (int i = 0; i < s.repeat; i++)
        for (int k = 0; k < ALLOCATORS; k++) {
            int which = (i + k) % ALLOCATORS; /* glibc first in even rounds, FastBuddy first in odd ones */
            run_child(&s, which, &runs[which][i]);
        }
    return report(&s, runs);
}
