/*
 * fbtest.h - a very small test framework for the FastBuddy C tests.
 *
 *   FB_TEST(name) { ... }     defines and registers a test (names are global across files).
 *   CHECK(cond)               records a failure and goes on; safe on any thread, also inside
 *                             fb_page_ops callbacks (it never jumps).
 *   CHECK_EQ(a, b)            CHECK for integers, printing both values.
 *   CHECK_STATUS(expr, st)    CHECK that an fb_ call returned status st, printing both names.
 *   REQUIRE(cond)             CHECK, and return from the test function when it fails (only in the
 *                             test function itself).
 *
 * The runner (fbtest.c) runs one test by name, every test of one source file (--suite FILE), or all
 * of them, and ends with "N passed, M failed". CMake reads the FB_TEST lines of the sources and
 * registers each test as its own ctest test.
 */
#ifndef FBTEST_H
#define FBTEST_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*fbt_fn)(void);

void fbt_register(const char* name, fbt_fn fn, const char* file);
void fbt_fail(const char* file, int line, const char* what);
void fbt_fail_eq(const char* file, int line, const char* a_text, const char* b_text, long long a, long long b);
void fbt_fail_status(const char* file, int line, const char* expr, int got, int expected);
int fbt_failed_now(void);

#ifdef __cplusplus
}
#endif

#define FBT_CAT2(a, b) a##b
#define FBT_CAT(a, b) FBT_CAT2(a, b)

#define FB_TEST(name)                                                              \
    static void FBT_CAT(fbt_body_, name)(void);                                    \
    __attribute__((constructor)) static void FBT_CAT(fbt_register_, name)(void)    \
    {                                                                              \
        fbt_register(#name, FBT_CAT(fbt_body_, name), __FILE__);                   \
    }                                                                              \
    static void FBT_CAT(fbt_body_, name)(void)

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond))                                                               \
            fbt_fail(__FILE__, __LINE__, #cond);                                   \
    } while (0)

#define CHECK_EQ(a, b)                                                             \
    do {                                                                           \
        long long fbt_a_ = (long long)(a), fbt_b_ = (long long)(b);                \
        if (fbt_a_ != fbt_b_)                                                      \
            fbt_fail_eq(__FILE__, __LINE__, #a, #b, fbt_a_, fbt_b_);               \
    } while (0)

#define CHECK_STATUS(expr, expected)                                               \
    do {                                                                           \
        int fbt_got_ = (expr);                                                     \
        if (fbt_got_ != (expected))                                                \
            fbt_fail_status(__FILE__, __LINE__, #expr, fbt_got_, (expected));      \
    } while (0)

#define REQUIRE(cond)                                                              \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fbt_fail(__FILE__, __LINE__, "required: " #cond);                      \
            return;                                                                \
        }                                                                          \
    } while (0)

#endif /* FBTEST_H */
