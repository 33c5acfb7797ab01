/*
 * fake_tls_probe.c - tls_probe() answered from a table the test fills
 *
 * Unit tests link this instead of common/net/tls_probe.c (test_tls_probe
 * alone links the real one).  A (host, ip) with no entry is refused, as
 * if nothing listened: ST_TEMPFAIL, transient, "connection-refused".  A
 * listed one gets its status, result type and reason, filled in the way
 * the real probe fills them (transient for ST_TEMPFAIL, result
 * validation-failure and why set for any status but ST_OK).  With a
 * delay, every probe sleeps first; a delay past the caller's
 * total_timeout_ms ends at that deadline with "connect-timeout".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "tls_probe.h"

#define FAKE_MAX	64

struct fake_probe {
	char			key[320];	/* "host|ip" */
	enum status		st;
	enum tlsrpt_result	result;
	char			reason[128];
};

static struct fake_probe	fake[FAKE_MAX];
static int			nfake, ncalls, delay_ms;
static pthread_mutex_t		fake_mu = PTHREAD_MUTEX_INITIALIZER;

void
fake_tls_probe_reset(void)
{
	pthread_mutex_lock(&fake_mu);
	nfake = ncalls = delay_ms = 0;
	pthread_mutex_unlock(&fake_mu);
}

void
fake_tls_probe_set(const char *host, const char *ip, enum status st,
    enum tlsrpt_result result, const char *reason)
{
	struct fake_probe	*f = NULL;
	char			 key[320];
	int			 i;

	snprintf(key, sizeof(key), "%s|%s", host, ip);
	pthread_mutex_lock(&fake_mu);
	for (i = 0; i < nfake; i++)
		if (strcmp(fake[i].key, key) == 0)
			f = &fake[i];
	if (f == NULL && nfake < FAKE_MAX)
		f = &fake[nfake++];
	if (f != NULL) {
		snprintf(f->key, sizeof(f->key), "%s", key);
		f->st = st;
		f->result = result;
		snprintf(f->reason, sizeof(f->reason), "%s", reason);
	}
	pthread_mutex_unlock(&fake_mu);
}

void
fake_tls_probe_delay_ms(int ms)
{
	pthread_mutex_lock(&fake_mu);
	delay_ms = ms;
	pthread_mutex_unlock(&fake_mu);
}

int
fake_tls_probe_calls(void)
{
	int	n;

	pthread_mutex_lock(&fake_mu);
	n = ncalls;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

/* answer - the scripted outcome of key into out; returns the status */
static enum status
answer(const char *key, struct tls_probe_result *out)
{
	enum status	st = ST_TEMPFAIL;
	int		i;

	snprintf(out->reason, sizeof(out->reason), "connection-refused");
	pthread_mutex_lock(&fake_mu);
	ncalls++;
	for (i = 0; i < nfake; i++)
		if (strcmp(fake[i].key, key) == 0) {
			st = fake[i].st;
			out->result = fake[i].result;
			snprintf(out->reason, sizeof(out->reason), "%s",
			    fake[i].reason);
		}
	pthread_mutex_unlock(&fake_mu);
	return st;
}

enum status
tls_probe(const char *mx_host, const char *ip,
    const struct tls_probe_opts *opts, struct tls_probe_result *out,
    struct buf *why)
{
	char		key[320];
	enum status	st;
	int		ms, total;

	memset(out, 0, sizeof(*out));
	snprintf(key, sizeof(key), "%s|%s", mx_host, ip);
	pthread_mutex_lock(&fake_mu);
	ms = delay_ms;
	pthread_mutex_unlock(&fake_mu);
	total = opts != NULL && opts->total_timeout_ms > 0 ?
	    opts->total_timeout_ms : TLS_PROBE_TOTAL_MS;
	if (ms > 0)
		usleep((useconds_t)(ms < total ? ms : total) * 1000);
	st = answer(key, out);
	if (ms >= total) {
		st = ST_TEMPFAIL;
		snprintf(out->reason, sizeof(out->reason), "connect-timeout");
	}
	snprintf(out->mx_host, sizeof(out->mx_host), "%s", mx_host);
	snprintf(out->receiving_ip, sizeof(out->receiving_ip), "%s", ip);
	snprintf(out->sending_ip, sizeof(out->sending_ip), "192.0.2.200");
	if (st == ST_OK) {
		snprintf(out->helo, sizeof(out->helo), "%s", mx_host);
		snprintf(out->tls_version, sizeof(out->tls_version), "TLSv1.3");
		if (out->result == TLSRPT_SUCCESS)
			out->reason[0] = '\0';
		return ST_OK;
	}
	out->transient = st == ST_TEMPFAIL;
	out->result = TLSRPT_VALIDATION_FAILURE;
	if (why != NULL)
		buf_printf(why, "%s", out->reason);
	return st;
}
