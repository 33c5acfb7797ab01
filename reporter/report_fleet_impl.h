/*
 * report_fleet_impl.h - private to the fleet reporter's modules
 * (report_fleet.h is the interface):
 *
 *	report_fleet.c		the run: lease, days, waiting, retention,
 *				the node's own housekeeping; the shared
 *				steps (exit status, stop, fenced HSET)
 *	report_fleet_agg.c	aggregation from Redis (LRANGE, decode)
 *				and policy texts from P ptext:<hash>
 *	report_fleet_day.c	a day's nodes and watermarks, the fixed
 *				record counts, building and storing the
 *				reports, --dry-run, late records
 *	report_fleet_send.c	delivering a stored report, its state
 *	report_fleet_mirror.c	the local mirror of delivered reports
 *
 * Local files, under <state_dir>/reporter/:
 *	fleet.lock			flock()ed for the run (one per host)
 *	fleet/<day>/<domain>.json.gz	the mirror of a report that reached
 *	fleet/<day>/<domain>.state	a destination (written before Redis)
 */
#ifndef REPORT_FLEET_IMPL_H
#define REPORT_FLEET_IMPL_H

#include <stddef.h>

#include "buf.h"
#include "fleet_rpt.h"
#include "report_fleet.h"
#include "report_make.h"
#include "report_send.h"
#include "report_state.h"

/* one run */
struct frun {
	const struct report_run_opts	*o;
	const struct report_fleet_conf	*fc;
	struct fleet_rpt		 fr;
	struct report_make_ctx		*x;
	struct report_send		*s;
	struct report_run_stats		*st;
	char				*mdir;		/* the local mirror */
	int				 rc;
	int				 stop;		/* lease lost, Redis gone */
};

/* report_fleet.c: the run's exit status (report_run_rc); a Redis error
 * or a lost lease stops the run (logged once); a fenced HSET, 0 or -1
 * (the run stopped) */
void	report_fleet_rc(struct frun *, int rc);
void	report_fleet_stop(struct frun *, enum fleet_rpt_rc rc,
	    const char *what, const struct buf *why);
int	report_fleet_hset(struct frun *, const char *key, const char *field,
	    const char *val);

/* report_fleet_agg.c: report_make's policy-text seam (arg: the
 * fleet_rpt): P ptext:<hash>, if its sha256 matches */
char	*report_fleet_agg_ptext(void *arg, const char *hash, size_t *len);

/* report_fleet_day.c */
size_t	report_fleet_day_nodes(struct frun *, const char *day,
	    char ***nodes, struct buf *why);
char	**report_fleet_day_closed(struct frun *, size_t n,
	    char *const *nodes);
int	report_fleet_day_build(struct frun *, const char *day, size_t n,
	    char *const *nodes, const char *missing);
void	report_fleet_day_dry(struct frun *, const char *day, size_t n,
	    char *const *nodes);
void	report_fleet_day_late(struct frun *, const char *day, size_t n,
	    char *const *nodes);

/* report_fleet_send.c: rua and due deliveries of one stored report;
 * 1 when it is final */
int	report_fleet_send_one(struct frun *, const char *day,
	    const char *domain);

/* report_fleet_mirror.c */
int	report_fleet_mirror_save(struct frun *, const char *day,
	    const char *domain, const struct buf *gz,
	    const struct report_state *);
int	report_fleet_mirror_load(struct frun *, const char *day,
	    const char *domain, struct buf *gz, struct report_state *);
void	report_fleet_mirror_adopt(struct frun *, const char *day,
	    const char *domain, struct report_state *);
void	report_fleet_mirror_retention(struct frun *);

#endif
