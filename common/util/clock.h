/*
 * clock.h - the time seam
 *
 * clock_now() is the only source of wall-clock seconds for logic that
 * tests drive (cache expiry, back-off, report days); tests link
 * tests/fakes/fake_clock.c instead.  clock_mono_ms() is for deadlines.
 *
 * Test builds of the programs (make testprogs: $(BUILD)/test/sts-milter)
 * compile clock.c with -DSTS_TEST_CLOCK: there clock_now() adds an
 * offset in seconds read from the file named by the environment
 * variable STS_TEST_CLOCK_FILE (one signed decimal number; re-read at
 * most every 50 ms, so a test moves the clock of a running daemon by
 * rewriting the file).  The installed programs are built without it:
 * they contain no code that reads the variable or the file.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>
#include <time.h>

time_t		clock_now(void);
int64_t		clock_mono_ms(void);

#endif
