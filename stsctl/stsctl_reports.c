/*
 * stsctl_reports.c - "stsctl reports": what tlsrpt-reporter built and
 * where each report stands, per destination
 *
 * SYNOPSIS
 *	stsctl reports [--since YYYY-MM-DD | --day YYYY-MM-DD]
 *
 * DESCRIPTION
 *	Reads <state_dir>/reporter/<day>/<domain>.state (report_state.h)
 *	for the last seven UTC days (or from --since, or one --day) and
 *	prints one JSON object per report, oldest day first:
 *
 *	  {"day","domain","report_id","built","sessions":{"success",
 *	   "failure"},"rua":"found|none|unknown|gaveup","final":bool,
 *	   "destinations":[{"uri","state":"pending|delivered|gaveup|
 *	   unsupported","attempts","first","next","done","last_error"}]}
 *
 *	Times are RFC 3339 UTC; absent ones are left out.  In fleet mode
 *	(fleet_redis set) the reports are the fleet's, read from Redis
 *	(stsctl_reports_fleet.c), and each also carries the day's
 *	"fleet" member.  Read only: it
 *	takes no lock and changes nothing, so it may run beside the
 *	reporter (a state file is replaced atomically).
 *
 * EXIT STATUS
 *	0; 74/77 when a state directory or file exists but cannot be read.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "report_state.h"
#include "statedir.h"
#include "stsctl.h"
#include "stsctl_table.h"
#include "timefmt.h"
#include "xmalloc.h"

static const char *const rua_names[] = { "unknown", "found", "none",
    "gaveup" };

static void
put_time(struct buf *b, const char *key, time_t t)
{
	char	s[TIMEFMT_LEN];

	if (t > 0)
		buf_printf(b, ",\"%s\":\"%s\"", key, timefmt_rfc3339(t, s));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the table a person sees (stsctl_table.h) */
static const struct stsctl_col report_cols[] = {
	{ "DAY", "day" }, { "DOMAIN", "domain" },
	{ "SUCCESS", "sessions.success" }, { "FAILURE", "sessions.failure" },
	{ "RUA", "rua" }, { "FINAL", "final" },
	{ "DESTINATION", "destinations.uri" },
	{ "STATE", "destinations.state" },
	{ "ATTEMPTS", "destinations.attempts" },
	{ "NEXT", "destinations.next" },
	{ NULL, NULL }
};
static struct stsctl_table	*table;

/* stsctl_reports_line - a line that is not a report (a fleet day that
 * waits for its nodes) */
void
stsctl_reports_line(const char *json)
{
	stsctl_table_line(table, json);
}

/* stsctl_reports_print - one report as a JSON line; fleet: NULL, or the
 * members of the fleet's day ("\"fleet\":{...}") */
void
stsctl_reports_print(const char *day, const char *domain,
    const struct report_state *s, const char *fleet)
{
	struct buf	b = BUF_INIT;
	size_t		i;

	buf_printf(&b, "{\"day\":\"%s\",\"domain\":", day);
	buf_json_str(&b, domain);
	buf_puts(&b, ",\"report_id\":");
	buf_json_str(&b, s->report_id);
	put_time(&b, "built", s->built);
	buf_printf(&b, ",\"sessions\":{\"success\":%lu,\"failure\":%lu}"
	    ",\"rua\":\"%s\",\"final\":%s,\"destinations\":[", s->nsuccess,
	    s->nfailure, (unsigned)s->rua < 4 ? rua_names[s->rua] : "unknown",
	    report_state_final(s) ? "true" : "false");
	for (i = 0; i < s->ndest; i++) {
		const struct report_dest *d = &s->dest[i];

		buf_puts(&b, i ? ",{\"uri\":" : "{\"uri\":");
		buf_json_str(&b, d->uri ? d->uri : "");
		buf_printf(&b, ",\"state\":\"%s\",\"attempts\":%d",
		    report_dest_st_str(d->st), d->attempts);
		put_time(&b, "first", d->first);
		if (d->st == DEST_PENDING)
			put_time(&b, "next", d->next);
		put_time(&b, "done", d->done);
		if (d->last != NULL && d->last[0] != '\0') {
			buf_puts(&b, ",\"last_error\":");
			buf_json_str(&b, d->last);
		}
		buf_putc(&b, '}');
	}
	buf_putc(&b, ']');
	if (fleet != NULL)
		buf_printf(&b, ",%s", fleet);
	buf_putc(&b, '}');
	stsctl_table_line(table, buf_str(&b));
	buf_free(&b);
}

/* one_day - every report state of day; the exit status so far */
static int
one_day(const char *rdir, const char *day)
{
	struct report_state	 s;
	struct buf		 why = BUF_INIT;
	struct dirent		*de;
	char			*dir = xasprintf("%s/%s", rdir, day), **names = NULL;
	size_t			 n = 0, cap = 0, i, l;
	int			 rc = EX_OK;
	DIR			*d;

	if ((d = opendir(dir)) == NULL) {
		int	e = errno;		/* before fprintf */

		if (e != ENOENT) {
			fprintf(stderr, "stsctl: %s: %s\n", dir, strerror(e));
			rc = e == EACCES ? EX_NOPERM : EX_IOERR;
		}
		free(dir);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l <= 6 ||
		    strcmp(de->d_name + l - 6, ".state") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrndup(de->d_name, l - 6);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		char	*path = xasprintf("%s/%s.state", dir, names[i]);

		memset(&s, 0, sizeof(s));
		buf_reset(&why);
		if (report_state_load(path, &s, &why) == ST_OK)
			stsctl_reports_print(day, names[i], &s, NULL);
		else if (access(path, F_OK) != 0 && errno == ENOENT)
			;	/* removed meanwhile (journal_retention) */
		else {
			fprintf(stderr, "stsctl: %s: %s\n", path,
			    buf_str(&why));
			rc = EX_IOERR;
		}
		report_state_clear(&s);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
	buf_free(&why);
	return rc;
}

int
stsctl_cmd_reports(int argc, char **argv)
{
	struct conf	*c = stsctl_conf();
	char		 day[11], *rdir;
	time_t		 since, until, now = clock_now(), t;
	int		 rc = EX_OK, k;

	since = timefmt_day_start(now) - 6 * 86400;	/* a week */
	until = now;
	if (argc == 3 && (strcmp(argv[1], "--since") == 0 ||
	    strcmp(argv[1], "--day") == 0)) {
		if (timefmt_parse(argv[2], &since) != 0 ||
		    strlen(argv[2]) != 10) {
			fprintf(stderr, "usage: stsctl reports [--since "
			    "YYYY-MM-DD | --day YYYY-MM-DD]\n");
			return EX_USAGE;
		}
		if (strcmp(argv[1], "--day") == 0)
			until = since;
	} else if (argc != 1) {
		fprintf(stderr, "usage: stsctl reports [--since YYYY-MM-DD | "
		    "--day YYYY-MM-DD]\n");
		return EX_USAGE;
	}
	rdir = statedir_reporter(c->state_dir);
	table = stsctl_table_new(report_cols);
	if ((k = stsctl_reports_fleet(c, timefmt_day_start(since), until)) !=
	    -1) {
		rc = k;		/* fleet mode: the fleet's reports, in Redis */
		goto out;
	}
	for (t = timefmt_day_start(since); t <= until; t += 86400) {
		timefmt_day(t, day);
		if ((k = one_day(rdir, day)) != EX_OK)
			rc = k;
	}
out:
	if ((k = stsctl_table_end(table)) != EX_OK)
		rc = k;
	free(rdir);
	return rc;
}
