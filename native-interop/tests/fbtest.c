/* The runner of fbtest.h: registration, failure records, command line, summary. */
#define _POSIX_C_SOURCE 200809L
#include "fbtest.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <fastbuddy.h>

#define FBT_MAX_TESTS 512

struct fbt_case {
    const char* name;
    const char* suite; /* source file name without directory and extension */
    fbt_fn fn;
};

static struct fbt_case g_cases[FBT_MAX_TESTS];
static int g_count;
static atomic_int g_failures_in_test;

static const char* suite_of(const char* file, char* buffer, size_t size)
{
    const char* base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strcspn(base, ".");
    if (n >= size)
        n = size - 1;
    memcpy(buffer, base, n);
    buffer[n] = '\0';
    return buffer;
}

void fbt_register(const char* name, fbt_fn fn, const char* file)
{
    if (g_count == FBT_MAX_TESTS) {
        fprintf(stderr, "fbtest: too many tests (raise FBT_MAX_TESTS)\n");
        exit(2);
    }
    for (int i = 0; i < g_count; i++) {
        if (strcmp(g_cases[i].name, name) == 0) {
            fprintf(stderr, "fbtest: test %s is defined twice\n", name);
            exit(2);
        }
    }
    char buffer[128];
    g_cases[g_count].name = name;
    g_cases[g_count].suite = strdup(suite_of(file, buffer, sizeof buffer));
    g_cases[g_count].fn = fn;
    g_count++;
}

void fbt_fail(const char* file, int line, const char* what)
{
    atomic_fetch_add(&g_failures_in_test, 1);
    fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what);
}

void fbt_fail_eq(const char* file, int line, const char* a_text, const char* b_text, long long a, long long b)
{
    atomic_fetch_add(&g_failures_in_test, 1);
    fprintf(stderr, "  %s:%d: check failed: %s == %s (%lld != %lld)\n", file, line, a_text, b_text, a, b);
}

void fbt_fail_status(const char* file, int line, const char* expr, int got, int expected)
{
    atomic_fetch_add(&g_failures_in_test, 1);
    fprintf(stderr, "  %s:%d: %s returned %d (%s), expected %d (%s)\n", file, line, expr, got, fb_strerror(got),
            expected, fb_strerror(expected));
    if (got != FB_OK)
        fprintf(stderr, "    fb_last_error_message: %s\n", fb_last_error_message());
}

int fbt_failed_now(void)
{
    return atomic_load(&g_failures_in_test) != 0;
}

static int cmp_case(const void* a, const void* b)
{
    const struct fbt_case* x = (const struct fbt_case*)a;
    const struct fbt_case* y = (const struct fbt_case*)b;
    int c = strcmp(x->suite, y->suite);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static void usage(const char* self)
{
    fprintf(stderr, "usage: %s [--list | --suite FILE | TEST...]\n", self);
}

int main(int argc, char** argv)
{
    const char* suite = NULL;
    int first_name = 1;
    qsort(g_cases, (size_t)g_count, sizeof g_cases[0], cmp_case);

    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < g_count; i++)
            printf("%s %s\n", g_cases[i].suite, g_cases[i].name);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--suite") == 0) {
        if (argc != 3) {
            usage(argv[0]);
            return 2;
        }
        suite = argv[2];
        first_name = 3;
    }

    int passed = 0, failed = 0, matched = 0;
    for (int i = 0; i < g_count; i++) {
        const struct fbt_case* c = &g_cases[i];
        int wanted = 1;
        if (suite != NULL) {
            wanted = strcmp(c->suite, suite) == 0;
        } else if (argc > first_name) {
            wanted = 0;
            for (int a = first_name; a < argc; a++)
                wanted |= strcmp(argv[a], c->name) == 0;
        }
        if (!wanted)
            continue;
        matched++;
        atomic_store(&g_failures_in_test, 0);
        printf("[ RUN  ] %s.%s\n", c->suite, c->name);
        fflush(stdout);
        c->fn();
        fflush(stderr);
        if (atomic_load(&g_failures_in_test) == 0) {
            passed++;
            printf("[   OK ] %s.%s\n", c->suite, c->name);
        } else {
            failed++;
            printf("[ FAIL ] %s.%s\n", c->suite, c->name);
        }
        fflush(stdout);
    }
    if (matched == 0) {
        fprintf(stderr, "fbtest: no test matched\n");
        usage(argv[0]);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
