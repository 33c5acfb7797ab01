/*
 * report_run_util.c - the steps of a reporter run that the single-host
 * run (report_run.c) and the fleet's (report_fleet*.c) share: the exit
 * status, the run lock, the counts, a new report's state, a day's
 * directory removed (see report_run.h)
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "report_run.h"
#include "report_state.h"
#include "xmalloc.h"

int
report_run_rc(int have, int rc)
{
	/* errors outrank "retry later", which outranks success */
	return have == EX_OK || (have == EX_TEMPFAIL && rc != EX_OK) ? rc :
	    have;
}

int
report_run_lock(const char *rdir, const char *name, int *rc)
{
	char	*p;
	int	 fd = -1;

	if (fs_mkdir_p(rdir, 0750) != 0) {
		log_warn("%s", rdir);
		*rc = report_run_rc(*rc, EX_CANTCREAT);
		return -1;
	}
	p = xasprintf("%s/%s", rdir, name);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		log_warn("%s", p);
		*rc = report_run_rc(*rc, EX_CANTCREAT);
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_warnx("another tlsrpt-reporter run holds %s; nothing done",
		    p);
		*rc = report_run_rc(*rc, EX_TEMPFAIL);
		close(fd);
		fd = -1;
	}
	free(p);
	return fd;
}

void
report_run_count(struct report_run_stats *st, const struct report_agg *agg,
    unsigned long bad)
{
	const struct report_agg_stats	*a = report_agg_stats(agg);

	st->records += a->records;
	st->sessions += a->sessions;
	st->own_reports += a->own_reports;
	st->bad += a->bad + bad;
}

size_t
report_run_domains(struct report_run_stats *st, struct report_make_ctx *x,
    struct report_agg *agg, unsigned long bad, const char *who,
    const char *day, const char *where, struct report_domain ***doms)
{
	unsigned long	missing = x->ptext_missing;
	size_t		n;

	report_run_count(st, agg, bad);
	n = report_agg_domains(agg, doms);
	report_make_ctx_attach(x, *doms, n);
	if (x->ptext_missing > missing)
		log_warnx("%sday=%s: %lu policy texts missing %s "
		    "(policy-string left empty)", who, day, x->ptext_missing - missing, where);
	return n;
}

void
report_run_state_new(struct report_state *s, const struct report_made *m,
    time_t now)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->report_id, sizeof(s->report_id), "%s", m->report_id);
	s->built = now;
	s->nsuccess = m->nsuccess;
	s->nfailure = m->nfailure;
}

void
report_run_rmdir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		*p;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			p = xasprintf("%s/%s", dir, e->d_name);
			(void)unlink(p);
			free(p);
		}
		closedir(d);
	}
	(void)rmdir(dir);
}
