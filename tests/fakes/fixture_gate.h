/*
 * fixture_gate.h - the gate the unit tests drive (test_gate, test_mlfi)
 *
 * A state directory under /tmp, the DNS, HTTP and TLS probe fakes reset,
 * the fake clock set, the configuration's defaults, a memory-only policy
 * cache, the journal and the gate.  In its own object (not
 * fake_fixture.c): only the tests that use it link the gate.
 */
#ifndef FIXTURE_GATE_H
#define FIXTURE_GATE_H

#include "conf.h"
#include "gate.h"
#include "journal.h"
#include "sts_cache.h"

struct fixture_gate {
	char			 dir[64];	/* /tmp/NAME.XXXXXX */
	struct conf		*conf;
	struct sts_cache	*cache;
	struct journal		*jnl;
	struct gate		*gate;
};

/* fixture_gate_init - the directory, the fakes, the clock (1700000000)
 * and conf: the defaults with state_dir and gate_deadline 3; change conf
 * here, before fixture_gate_start() */
void	fixture_gate_init(struct fixture_gate *, const char *name);
/* fixture_gate_start - the cache (wait_ms 2000), journal and gate */
void	fixture_gate_start(struct fixture_gate *);
/* fixture_gate_free - free them all, remove the directory */
void	fixture_gate_free(struct fixture_gate *);

#endif
