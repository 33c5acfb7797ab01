/*
 * fleet_report_bench.c - benchmark of the fleet reporter's aggregation
 * from Redis (issue 12, item 7)
 *
 * SYNOPSIS
 *	fleet_report_bench load SOCKET DIR NODES
 *	fleet_report_bench run SOCKET NODES
 *
 * DESCRIPTION
 *	load puts the synthetic day of report_bench (DIR/journal, made by
 *	"report_bench gen") into the Redis at unix:SOCKET as NODES nodes
 *	would ship it (FLEET.md): the lines dealt round-robin to
 *	sts:j:<day>:n<i>, every node in sts:day:<day>:nodes and closed,
 *	every archived policy text in sts:ptext:<hash>.  It prints Redis's
 *	memory per shipped record.
 *
 *	run aggregates that day from Redis with report_fleet_aggregate(),
 *	the code tlsrpt-reporter runs in fleet mode (pipelined LRANGE,
 *	journal_decode, report_agg), and prints records/s and the peak
 *	memory (maximum resident set size) of this process.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_time.h"
#include "conf.h"
#include "fleet_conf.h"
#include "fleet_redis.h"
#include "fleet_rpt.h"
#include "fsutil.h"
#include "report_agg.h"
#include "report_fleet.h"
#include "xmalloc.h"

#define DAY	"2026-11-01"
#define BATCH	2000		/* lines per RPUSH */

static struct fleet_redis *
connect_to(const char *sock, struct fleet_conf *fc)
{
	struct conf	*c = conf_defaults();
	struct buf	 why = BUF_INIT;
	char		*text;

	text = xasprintf("fleet_redis = unix:%s\nfleet_node = bench\n"
	    "fleet_timeout = 300s\n", sock);
	if (conf_parse(c, text, strlen(text), "bench", &why) != ST_OK ||
	    fleet_conf_from(fc, c, &why) != ST_OK) {
		fprintf(stderr, "%s\n", buf_str(&why));
		exit(1);
	}
	free(text);
	conf_free(c);
	return fleet_redis_new(fc, "bench");
}

static long long
used_memory(struct fleet_redis *r)
{
	redisReply	*rep = fleet_redis_cmd(r, 0, "INFO memory");
	const char	*p;
	long long	 v = -1;

	if (rep != NULL && rep->type == REDIS_REPLY_STRING &&
	    (p = strstr(rep->str, "used_memory:")) != NULL)
		v = strtoll(p + 12, NULL, 10);
	fleet_reply_free(rep);
	return v;
}

/* redis_cpu - Redis's own CPU seconds so far (INFO cpu: user + sys) */
static double
redis_cpu(struct fleet_redis *r)
{
	redisReply	*rep = fleet_redis_cmd(r, 0, "INFO cpu");
	const char	*p;
	double		 v = 0;

	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		if ((p = strstr(rep->str, "used_cpu_sys:")) != NULL)
			v += strtod(p + 13, NULL);
		if ((p = strstr(rep->str, "used_cpu_user:")) != NULL)
			v += strtod(p + 14, NULL);
	}
	fleet_reply_free(rep);
	return v;
}

static int
ok_reply(redisReply *rep)
{
	int ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;

	fleet_reply_free(rep);
	return ok;
}

/* push - one RPUSH of the pending lines of node i */
static int
push(struct fleet_redis *r, const char *key, const char **lines,
    size_t *lens, size_t n)
{
	lines[0] = "RPUSH";
	lens[0] = 5;
	lines[1] = key;
	lens[1] = strlen(key);
	return ok_reply(fleet_redis_argv(r, 0, (int)n + 2, lines, lens));
}

static int
load(const char *sock, const char *dir, int nodes)
{
	struct fleet_conf	  fc;
	struct fleet_redis	 *r = connect_to(sock, &fc);
	const char		**av[16];
	size_t			 *al[16], na[16];
	char			 *path, *data, *p, *e, key[128];
	size_t			  len, nrec = 0;
	long long		  m0, m1;
	double			  t0;
	int			  i;
	DIR			 *d;
	struct dirent		 *de;

	if (nodes < 1 || nodes > 16)
		return 1;
	m0 = used_memory(r);
	path = xasprintf("%s/journal/%s.jnl", dir, DAY);
	if ((data = fs_read_regular(path, (size_t)16 << 30, &len, NULL)) ==
	    NULL) {
		fprintf(stderr, "%s: %s (run report_bench gen first)\n", path,
		    strerror(errno));
		return 1;
	}
	t0 = bench_time_s();
	for (i = 0; i < nodes; i++) {
		av[i] = xcalloc(BATCH + 2, sizeof(char *));
		al[i] = xcalloc(BATCH + 2, sizeof(size_t));
		na[i] = 0;
	}
	for (p = data; p < data + len; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(data + len - p))) == NULL)
			break;
		i = (int)(nrec++ % (size_t)nodes);
		av[i][na[i] + 2] = p;
		al[i][na[i] + 2] = (size_t)(e - p);
		if (++na[i] == BATCH) {
			snprintf(key, sizeof(key), "sts:j:%s:n%d", DAY, i + 1);
			if (!push(r, key, av[i], al[i], na[i]))
				return 1;
			na[i] = 0;
		}
	}
	for (i = 0; i < nodes; i++) {
		snprintf(key, sizeof(key), "sts:j:%s:n%d", DAY, i + 1);
		if (na[i] > 0 && !push(r, key, av[i], al[i], na[i]))
			return 1;
		snprintf(key, sizeof(key), "n%d", i + 1);
		if (!ok_reply(fleet_redis_cmd(r, 0, "SADD sts:day:%s:nodes %s",
		    DAY, key)) || !ok_reply(fleet_redis_cmd(r, 0,
		    "SET sts:closed:%s %s", key, DAY)))
			return 1;
	}
	free(path);
	path = xasprintf("%s/policies", dir);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char	*f, *t;
			size_t	 tl;

			if (strlen(de->d_name) != 68)
				continue;
			f = xasprintf("%s/%s", path, de->d_name);
			if ((t = fs_read_regular(f, 1 << 20, &tl, NULL)) !=
			    NULL) {
				const char *a[3] = { "SET", key, t };
				size_t l[3] = { 3, 0, tl };

				snprintf(key, sizeof(key), "sts:ptext:%.64s",
				    de->d_name);
				l[1] = strlen(key);
				(void)ok_reply(fleet_redis_argv(r, 0, 3, a, l));
			}
			free(t);
			free(f);
		}
		closedir(d);
	}
	m1 = used_memory(r);
	printf("load: %zu records as %d nodes in %.1f s; Redis memory %.0f MB, "
	    "%.0f bytes per shipped record\n", nrec, nodes, bench_time_s() - t0,
	    (m1 - m0) / 1e6, nrec ? (double)(m1 - m0) / nrec : 0);
	printf("RESULT-LOAD records=%zu redis_mb=%.1f bytes_per_record=%.0f\n",
	    nrec, (m1 - m0) / 1e6, nrec ? (double)(m1 - m0) / nrec : 0);
	free(path);
	free(data);
	fleet_redis_free(r);
	return 0;
}

static int
run(const char *sock, int nodes)
{
	struct fleet_conf	 fc;
	struct fleet_redis	*r = connect_to(sock, &fc);
	struct fleet_rpt	 fr;
	struct report_agg	*a;
	struct report_domain	**d;
	struct buf		 why = BUF_INIT;
	struct rusage		 ru;
	char			*names[16], key[64];
	long long		 upto[16];
	unsigned long		 bad = 0;
	double			 t0, t, c0, ct, r0, rt;
	size_t			 n;
	int			 i;

	if (nodes < 1 || nodes > 16)
		return 1;
	fleet_rpt_init(&fr, r, 0, "sts:", "bench", 0);
	for (i = 0; i < nodes; i++) {
		redisReply *rep;

		names[i] = xasprintf("n%d", i + 1);
		snprintf(key, sizeof(key), "sts:j:%s:n%d", DAY, i + 1);
		rep = fleet_redis_cmd(r, 0, "LLEN %s", key);
		upto[i] = rep != NULL && rep->type == REDIS_REPLY_INTEGER ?
		    rep->integer : 0;
		fleet_reply_free(rep);
	}
	r0 = redis_cpu(r);
	t0 = bench_time_s();
	c0 = bench_time_cpu_s();
	a = report_agg_new(NULL);
	if (report_fleet_aggregate(&fr, DAY, (size_t)nodes, names, upto, a,
	    &bad, &why) != 0) {
		fprintf(stderr, "aggregate: %s\n", buf_str(&why));
		return 1;
	}
	n = report_agg_domains(a, &d);
	t = bench_time_s() - t0;
	ct = bench_time_cpu_s() - c0;
	rt = redis_cpu(r) - r0;
	getrusage(RUSAGE_SELF, &ru);
	printf("aggregate from Redis: %lu records of %d nodes (%lu bad), %lu "
	    "sessions, %zu domains in %.2f s: %.0f records/s (%.0f/s by the "
	    "reporter's CPU time); peak memory %.1f MB\n",
	    report_agg_stats(a)->records, nodes, bad,
	    report_agg_stats(a)->sessions, n, t,
	    report_agg_stats(a)->records / t, report_agg_stats(a)->records / ct,
	    ru.ru_maxrss / 1024.0);
	printf("CPU: reporter %.2f s, Redis %.2f s: %.0f records/s if one core "
	    "did both, one after the other\n", ct, rt,
	    report_agg_stats(a)->records / (ct + rt));
	printf("RESULT records=%lu agg_s=%.3f rate_rps=%.0f cpu_rate_rps=%.0f "
	    "redis_cpu_s=%.2f serial_cpu_rate_rps=%.0f domains=%zu "
	    "maxrss_mb=%.1f\n", report_agg_stats(a)->records, t,
	    report_agg_stats(a)->records / t, report_agg_stats(a)->records / ct,
	    rt, report_agg_stats(a)->records / (ct + rt), n,
	    ru.ru_maxrss / 1024.0);
	report_agg_free(a);
	for (i = 0; i < nodes; i++)
		free(names[i]);
	fleet_redis_free(r);
	buf_free(&why);
	return bad != 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && strcmp(argv[1], "load") == 0)
		return load(argv[2], argv[3], atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "run") == 0)
		return run(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: fleet_report_bench load SOCKET DIR NODES\n"
	    "       fleet_report_bench run SOCKET NODES\n");
	return 64;
}
