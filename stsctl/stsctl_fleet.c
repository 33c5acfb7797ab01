/*
 * stsctl_fleet.c - "stsctl fleet": the fleet's nodes as Redis knows them
 *
 * SYNOPSIS
 *	stsctl fleet
 *
 * DESCRIPTION
 *	Asks the fleet's Redis (fleet_redis, fleet_prefix) for every node
 *	in <P>nodes (and this one, fleet_node, even before it registered)
 *	and prints one JSON object per node, by name:
 *
 *	  {"node","self":bool,"seen","seen_age","started","version","pid",
 *	   "shipped","last_day","last_offset","last_record","lag_bytes",
 *	   "lag_seconds","closed","local_lag_bytes"}
 *
 *	seen is the node's last heartbeat (every 5 s while its shipper
 *	runs) and seen_age its age in seconds; shipped counts the records
 *	its shipper appended since Redis has had them; last_record is the
 *	time of the last one shipped, last_day/last_offset where in its
 *	journal; lag_* what the node itself reported at its heartbeat;
 *	closed its watermark (the last UTC day it declared closed).  For
 *	this node, local_lag_bytes compares the local journal with the
 *	position in Redis now (the shipper need not run).  Times are RFC
 *	3339 UTC; absent values are left out.  Read only.
 *
 *	Then it asks Redis for its maxmemory-policy (CONFIG GET): the
 *	fleet needs noeviction (Redis's default), since an evicting Redis
 *	drops shipped records, policy texts, positions or cache entries
 *	without a word.  Any other policy is a warning on stderr (the exit
 *	status stays 0); a Redis that refuses CONFIG is a note there too.
 *
 * EXIT STATUS
 *	0; 69 when Redis cannot be reached or fleet_redis is not set.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "fleet_ship.h"
#include "statedir.h"
#include "stsctl.h"
#include "stsctl_table.h"
#include "timefmt.h"
#include "xmalloc.h"

static const struct stsctl_col cols[] = {
	{ "NODE", "node" }, { "SEEN", "seen" }, { "SHIPPED", "shipped" },
	{ "LAST-RECORD", "last_record" }, { "LAG-BYTES", "lag_bytes" },
	{ "LAG-S", "lag_seconds" }, { "CLOSED", "closed" },
	{ "VERSION", "version" }, { NULL, NULL }
};

/* field - value of name in an HGETALL answer, or NULL */
static const char *
field(const redisReply *h, const char *name)
{
	size_t	i;

	for (i = 0; h != NULL && i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(h->element[i]->str, name) == 0 &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			return h->element[i + 1]->str;
	return NULL;
}

static void
put_num(struct buf *b, const char *key, const char *v)
{
	if (v != NULL && v[0] != '\0' && strspn(v, "0123456789-") == strlen(v))
		buf_printf(b, ",\"%s\":%s", key, v);
}

static void
put_time(struct buf *b, const char *key, const char *v)
{
	char	s[TIMEFMT_LEN];
	time_t	t;

	if (v != NULL && (t = (time_t)atoll(v)) > 0)
		buf_printf(b, ",\"%s\":\"%s\"", key, timefmt_rfc3339(t, s));
}

static void
put_str(struct buf *b, const char *key, const char *v)
{
	if (v != NULL) {
		buf_printf(b, ",\"%s\":", key);
		buf_json_str(b, v);
	}
}

/* local_lag - bytes of this node's retained journal not in Redis yet */
static long long
local_lag(const struct conf *c, const struct fleet_conf *fc,
    const redisReply *pos)
{
	char		 day[11], cutoff[11];
	long long	 lag = 0, off;
	struct stat	 st;
	const char	*v;
	char		*path;
	time_t		 t;
	int		 i;

	timefmt_day(clock_now() - (time_t)fc->retention_days * 86400, cutoff);
	for (i = 0; i <= fc->retention_days + 1; i++) {
		t = clock_now() - (time_t)i * 86400;
		timefmt_day(t, day);
		if (strcmp(day, cutoff) < 0)
			break;
		path = statedir_journal_day(c->state_dir, day);
		if (stat(path, &st) == 0) {
			off = (v = field(pos, day)) ? atoll(v) : 0;
			if ((long long)st.st_size > off)
				lag += (long long)st.st_size - off;
		}
		free(path);
	}
	return lag;
}

/* node_line - the JSON line of node n */
static int
node_line(struct fleet_redis *r, const struct conf *c,
    const struct fleet_conf *fc, const char *n, struct buf *b)
{
	char		 key[256], closed[256], pos[256];
	redisReply	*h, *cl, *p = NULL;
	const char	*seen;
	int		 self = strcmp(n, fc->node) == 0;

	if (fleet_key(fc, key, sizeof(key), "node:%s", n) == NULL ||
	    fleet_key(fc, closed, sizeof(closed), "closed:%s", n) == NULL ||
	    fleet_key(fc, pos, sizeof(pos), "pos:%s", n) == NULL)
		return 0;
	if ((h = fleet_redis_cmd(r, 0, "HGETALL %s", key)) == NULL)
		return -1;
	if ((cl = fleet_redis_cmd(r, 0, "GET %s", closed)) == NULL ||
	    (self && (p = fleet_redis_cmd(r, 0, "HGETALL %s", pos)) == NULL)) {
		fleet_reply_free(h);
		fleet_reply_free(cl);
		return -1;
	}
	buf_reset(b);
	buf_puts(b, "{\"node\":");
	buf_json_str(b, n);
	buf_printf(b, ",\"self\":%s", self ? "true" : "false");
	put_time(b, "seen", seen = field(h, "seen"));
	if (seen != NULL)
		buf_printf(b, ",\"seen_age\":%lld",
		    (long long)(clock_now() - atoll(seen)));
	put_time(b, "started", field(h, "started"));
	put_str(b, "version", field(h, "version"));
	put_num(b, "pid", field(h, "pid"));
	put_num(b, "shipped", field(h, "shipped"));
	put_str(b, "last_day", field(h, "last_day"));
	put_num(b, "last_offset", field(h, "last_off"));
	put_time(b, "last_record", field(h, "last_time"));
	put_num(b, "lag_bytes", field(h, "lag_bytes"));
	put_num(b, "lag_seconds", field(h, "lag_s"));
	put_str(b, "closed", cl->type == REDIS_REPLY_STRING ? cl->str : NULL);
	if (self)
		buf_printf(b, ",\"local_lag_bytes\":%lld", local_lag(c, fc,
		    p->type == REDIS_REPLY_ARRAY ? p : NULL));
	buf_putc(b, '}');
	fleet_reply_free(h);
	fleet_reply_free(cl);
	fleet_reply_free(p);
	return 0;
}

/*
 * evict_check - warn on stderr unless Redis keeps maxmemory-policy
 * noeviction (an evicting Redis loses fleet keys silently)
 */
static void
evict_check(struct fleet_redis *r, const struct fleet_conf *fc)
{
	redisReply	*p;

	p = fleet_redis_cmd(r, 0, "CONFIG GET maxmemory-policy");
	if (p != NULL && p->type == REDIS_REPLY_ARRAY && p->elements == 2 &&
	    p->element[1]->type == REDIS_REPLY_STRING) {
		if (strcmp(p->element[1]->str, "noeviction") != 0)
			fprintf(stderr, "stsctl: warning: Redis %s has "
			    "maxmemory-policy %s, not noeviction: it may evict "
			    "shipped records, policy texts and cache entries "
			    "without a word\n", fc->endpoint,
			    p->element[1]->str);
	} else
		fprintf(stderr, "stsctl: note: Redis %s did not tell its "
		    "maxmemory-policy (%s): the fleet needs noeviction\n",
		    fc->endpoint, p != NULL && p->type == REDIS_REPLY_ERROR ?
		    p->str : "no answer");
	fleet_reply_free(p);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
stsctl_cmd_fleet(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct fleet_conf	 fc;
	struct fleet_redis	*r;
	struct stsctl_table	*t;
	struct buf		 why = BUF_INIT, line = BUF_INIT;
	redisReply		*m;
	char			 key[256], err[600];
	const char		**names;
	size_t			 i, n = 0;
	int			 rc = EX_OK, have_self = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: stsctl fleet\n");
		return EX_USAGE;
	}
	if (fleet_conf_from(&fc, c, &why) != ST_OK) {
		fprintf(stderr, "stsctl: %s\n", buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	if (!fc.on) {
		fprintf(stderr, "stsctl: fleet_redis is not set: a single "
		    "host, no fleet\n");
		return EX_UNAVAILABLE;
	}
	r = fleet_redis_new(&fc, "stsctl");
	fleet_redis_quiet(r);
	(void)fleet_key(&fc, key, sizeof(key), "nodes");
	if ((m = fleet_redis_cmd(r, 0, "SMEMBERS %s", key)) == NULL ||
	    m->type != REDIS_REPLY_ARRAY) {
		fleet_redis_last_error(r, err, sizeof(err));
		fprintf(stderr, "stsctl: Redis %s: %s\n", fc.endpoint,
		    m ? (m->type == REDIS_REPLY_ERROR ? m->str : "not a set") :
		    err);
		fleet_reply_free(m);
		fleet_redis_free(r);
		return EX_UNAVAILABLE;
	}
	names = xcalloc(m->elements + 1, sizeof(*names));
	for (i = 0; i < m->elements; i++)
		if (m->element[i]->type == REDIS_REPLY_STRING) {
			names[n++] = m->element[i]->str;
			have_self |= strcmp(m->element[i]->str, fc.node) == 0;
		}
	if (!have_self)
		names[n++] = fc.node;
	qsort(names, n, sizeof(*names), cmp_str);
	t = stsctl_table_new(cols);
	for (i = 0; i < n && rc == EX_OK; i++) {
		if (node_line(r, c, &fc, names[i], &line) != 0) {
			fleet_redis_last_error(r, err, sizeof(err));
			fprintf(stderr, "stsctl: Redis %s: %s\n", fc.endpoint,
			    err);
			rc = EX_UNAVAILABLE;
		} else if (line.b_len > 0)
			stsctl_table_line(t, buf_str(&line));
	}
	if (stsctl_table_end(t) != EX_OK && rc == EX_OK)
		rc = EX_IOERR;
	if (rc == EX_OK)
		evict_check(r, &fc);
	free(names);
	fleet_reply_free(m);
	fleet_redis_free(r);
	buf_free(&line);
	buf_free(&why);
	return rc;
}
