/*
 * clock.h - the time seam
 *
 * clock_now() is the only source of wall-clock seconds for logic that
 * tests drive (cache expiry, back-off, report days); tests link
 * tests/fakes/fake_clock.c instead.  clock_mono_ms() is for deadlines.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>
#include <time.h>

time_t		clock_now(void);
int64_t		clock_mono_ms(void);

#endif
