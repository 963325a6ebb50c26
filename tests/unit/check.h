/* SPDX-License-Identifier: MIT */
/*
 * A minimal test harness: every case prints one line, "ok NAME", "not ok NAME" or
 * "skip NAME (why)", which tests/run.sh counts. A failed CHECK prints where and why and
 * ends only the current case.
 */
#ifndef SELFFLASH_CHECK_H
#define SELFFLASH_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_case_failed;
static int check_failures;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                  \
			check_case_failed = 1;                                           \
			return;                                                          \
		}                                                                        \
	} while (0)

#define CHECK_STR_EQ(got, want)                                                          \
	do {                                                                             \
		const char *check_got_ = (got), *check_want_ = (want);                   \
		if (check_got_ == NULL || strcmp(check_got_, check_want_) != 0) {        \
			fprintf(stderr, "  %s:%d: expected \"%s\", got \"%s\"\n", __FILE__, \
				__LINE__, check_want_,                                   \
				check_got_ ? check_got_ : "(null)");                     \
			check_case_failed = 1;                                           \
			return;                                                          \
		}                                                                        \
	} while (0)

#define RUN(fn)                                                                          \
	do {                                                                             \
		check_case_failed = 0;                                                   \
		fn();                                                                    \
		printf("%s %s\n", check_case_failed ? "not ok" : "ok", #fn);             \
		fflush(stdout);                                                          \
		check_failures += check_case_failed;                                     \
	} while (0)

#define SKIP(fn, why) printf("skip %s (%s)\n", #fn, why)

#define CHECK_EXIT() (check_failures ? 1 : 0)

#endif
