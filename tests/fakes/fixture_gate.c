/*
 * fixture_gate.c - the gate the unit tests drive (fixture_gate.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fakes.h"
#include "fixture_gate.h"

void
fixture_gate_init(struct fixture_gate *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX", name);
	if (mkdtemp(f->dir) == NULL)
		abort();
	fake_dns_reset();
	fake_http_reset();
	fake_tls_probe_reset();
	fake_clock_set(1700000000);
	f->conf = conf_defaults();
	free(f->conf->state_dir);
	f->conf->state_dir = strdup(f->dir);
	f->conf->gate_deadline = 3;
}

void
fixture_gate_start(struct fixture_gate *f)
{
	struct sts_cache_opts	o;
	struct buf		why = BUF_INIT;

	fake_cache_opts(&o, NULL);
	o.wait_ms = 2000;
	f->cache = sts_cache_new(&o);
	f->jnl = journal_open(f->dir, &why);
	f->gate = gate_new(f->conf, f->cache, NULL, f->jnl);
	buf_free(&why);
}

void
fixture_gate_free(struct fixture_gate *f)
{
	gate_free(f->gate);
	journal_close(f->jnl);
	sts_cache_free(f->cache);
	conf_free(f->conf);
	fake_rm_rf(f->dir);
}
