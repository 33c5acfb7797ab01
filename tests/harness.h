/*
 * harness.h - a small, non-fatal test harness
 *
 * CHECK() records a failure and goes on, so one run shows every broken
 * expectation.  RUN(fn) runs one case; harness_done() prints the
 * "name: N passed, M failed" line that tests/run-tests sums.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <string.h>

static int	h_pass, h_fail, h_case_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n",		\
		    __FILE__, __LINE__, #cond);				\
		h_case_failed = 1;					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_) {							\
		fprintf(stderr, "%s:%d: %s == %lld, want %lld\n",	\
		    __FILE__, __LINE__, #got, g_, w_);			\
		h_case_failed = 1;					\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if ((g_ == NULL) != (w_ == NULL) ||				\
	    (g_ != NULL && strcmp(g_, w_) != 0)) {			\
		fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n",	\
		    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",	\
		    w_ ? w_ : "(null)");				\
		h_case_failed = 1;					\
	}								\
} while (0)

/* CHECKF - CHECK with a printf-style note (e.g. the table row) */
#define CHECKF(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		h_case_failed = 1;					\
	}								\
} while (0)

#define RUN(fn) do {							\
	h_case_failed = 0;						\
	fn();								\
	if (h_case_failed)						\
		h_fail++;						\
	else								\
		h_pass++;						\
	printf("%s %s\n", h_case_failed ? "FAIL" : "ok  ", #fn);	\
	fflush(stdout);							\
} while (0)

static inline int
harness_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, h_pass, h_fail);
	return h_fail != 0;
}

#endif
