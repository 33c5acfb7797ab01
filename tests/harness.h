/*
 * harness.h - a small, non-fatal test harness
 *
 * CHECK() records a failure and goes on, so one run shows every broken
 * expectation.  RUN(fn) runs one case (one that ran no CHECK at all
 * fails: it could not have); harness_done() prints the
 * "name: N passed, M failed" line that tests/run-tests sums.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <string.h>

static int	h_pass, h_fail, h_skip, h_case_failed, h_case_checks,
		h_case_skipped;

#define CHECK(cond) do {						\
	h_case_checks++;						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n",		\
		    __FILE__, __LINE__, #cond);				\
		h_case_failed = 1;					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	h_case_checks++;						\
	if (g_ != w_) {							\
		fprintf(stderr, "%s:%d: %s == %lld, want %lld\n",	\
		    __FILE__, __LINE__, #got, g_, w_);			\
		h_case_failed = 1;					\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	h_case_checks++;						\
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
	h_case_checks++;						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		h_case_failed = 1;					\
	}								\
} while (0)

/* SKIP - the case cannot run here (say why, then return): a skip */
#define SKIP(why) do {							\
	printf("skip %s: %s\n", __func__, why);				\
	h_case_skipped = 1;						\
} while (0)

#define RUN(fn) do {							\
	h_case_failed = h_case_checks = h_case_skipped = 0;		\
	fn();								\
	if (h_case_checks == 0 && !h_case_skipped) {			\
		fprintf(stderr, "%s: no CHECK ran\n", #fn);		\
		h_case_failed = 1;					\
	}								\
	if (h_case_failed)						\
		h_fail++;						\
	else if (h_case_skipped)					\
		h_skip++;						\
	else								\
		h_pass++;						\
	if (h_case_failed || !h_case_skipped)				\
		printf("%s %s\n", h_case_failed ? "FAIL" : "ok  ", #fn);	\
	fflush(stdout);							\
} while (0)

static inline int
harness_done(const char *name)
{
	if (h_skip > 0)
		printf("%s: %d passed, %d failed, %d skipped\n", name,
		    h_pass, h_fail, h_skip);
	else
		printf("%s: %d passed, %d failed\n", name, h_pass, h_fail);
	return h_fail != 0;
}

#endif
