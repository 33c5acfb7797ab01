/*
 * report_fleet_mirror.c - the local mirror of the reports that reached
 * a destination, <state_dir>/reporter/fleet/<day>/<domain>.json.gz and
 * .state, written before Redis records the delivery: a Redis that lost
 * it cannot make this reporter send again (report_fleet_impl.h)
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "report_fleet_impl.h"
#include "timefmt.h"
#include "xmalloc.h"

#define GZ_MAX		(64 * 1024 * 1024)

/* mirror_paths - the local mirror of one report */
static void
mirror_paths(struct frun *r, const char *day, const char *domain,
    char **gzp, char **stp)
{
	*gzp = xasprintf("%s/%s/%s.json.gz", r->mdir, day, domain);
	*stp = xasprintf("%s/%s/%s.state", r->mdir, day, domain);
}

/* report_fleet_mirror_save - the report's bytes and state on local
 * disk, before the delivery is recorded in Redis: a Redis that loses it
 * cannot make us resend */
int
report_fleet_mirror_save(struct frun *r, const char *day, const char *domain,
    const struct buf *gz, const struct report_state *s)
{
	struct buf	 why = BUF_INIT;
	char		*dd, *gzp, *stp;
	int		 rc = 0;

	dd = xasprintf("%s/%s", r->mdir, day);
	mirror_paths(r, day, domain, &gzp, &stp);
	if (fs_mkdir_p(dd, 0750) != 0 || (access(gzp, F_OK) != 0 &&
	    fs_write_atomic(gzp, gz->b_data, gz->b_len, 0640,
	    FS_SYNC_FULL) != 0) || report_state_save(stp, s, &why) != ST_OK) {
		log_warn("fleet: cannot mirror the report of day=%s domain=%s "
		    "in %s", day, domain, dd);
		rc = -1;
	}
	free(dd);
	free(gzp);
	free(stp);
	buf_free(&why);
	return rc;
}

/* report_fleet_mirror_load - a mirrored report: 1 (gz and s filled), 0 none */
int
report_fleet_mirror_load(struct frun *r, const char *day, const char *domain,
    struct buf *gz, struct report_state *s)
{
	struct buf	 why = BUF_INIT;
	char		*gzp, *stp, *data;
	size_t		 len = 0;
	int		 ok = 0;

	mirror_paths(r, day, domain, &gzp, &stp);
	memset(s, 0, sizeof(*s));
	if (report_state_load(stp, s, &why) == ST_OK &&
	    (data = fs_read_regular(gzp, GZ_MAX, &len, NULL)) != NULL) {
		buf_reset(gz);
		buf_append(gz, data, len);
		free(data);
		ok = 1;
	} else
		report_state_clear(s);
	free(gzp);
	free(stp);
	buf_free(&why);
	return ok;
}

/* report_fleet_mirror_adopt - destinations the local mirror has as
 * delivered (Redis lost the record of it) are not sent to again */
void
report_fleet_mirror_adopt(struct frun *r, const char *day, const char *domain,
    struct report_state *s)
{
	struct report_state	 ms;
	struct buf		 gz = BUF_INIT;
	size_t			 i, j;

	if (!report_fleet_mirror_load(r, day, domain, &gz, &ms))
		return;
	for (i = 0; i < ms.ndest; i++) {
		if (ms.dest[i].st != DEST_DELIVERED)
			continue;
		for (j = 0; j < s->ndest; j++)
			if (s->dest[j].st == DEST_PENDING &&
			    strcmp(s->dest[j].uri, ms.dest[i].uri) == 0) {
				report_state_delivered(&s->dest[j],
				    ms.dest[i].done);
				log_info("fleet: day=%s domain=%s rua=%s: "
				    "delivered before (local mirror); not "
				    "sent again", day, domain, s->dest[j].uri);
			}
	}
	report_state_clear(&ms);
	buf_free(&gz);
}

/* report_fleet_mirror_retention - the local mirror's days older than
 * journal_retention (Redis may have lost them: swept on their own) */
void
report_fleet_mirror_retention(struct frun *r)
{
	DIR		*d;
	struct dirent	*e;
	char		*p;
	time_t		 t;

	if ((d = opendir(r->mdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 10 || timefmt_parse(e->d_name, &t) !=
		    0 || t + 86400LL * (r->x->conf->journal_retention + 1) >
		    r->o->now)
			continue;
		p = xasprintf("%s/%s", r->mdir, e->d_name);
		report_run_rmdir(p);
		free(p);
	}
	closedir(d);
}
