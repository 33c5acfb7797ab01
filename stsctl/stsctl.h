/*
 * stsctl.h - shared helpers of stsctl and its command modules
 *
 * Commands that live in other files (probe, journal, deferrals) are
 * listed in STSCTL_EXTRA_COMMANDS and implemented as
 * int stsctl_cmd_<name>(int argc, char **argv).
 */
#ifndef STSCTL_H
#define STSCTL_H

#include <time.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "status.h"
#include "sts_cache.h"

struct conf		*stsctl_conf(void);
struct dns		*stsctl_dns(const struct conf *);
struct sts_cache	*stsctl_cache(const struct conf *, struct dns *);
void			 stsctl_lookup_json(struct buf *, const char *,
			    enum status, const struct sts_lookup *);

int	stsctl_cmd_probe(int, char **);
int	stsctl_cmd_journal(int, char **);
int	stsctl_cmd_deferrals(int, char **);
int	stsctl_cmd_reports(int, char **);
int	stsctl_cmd_status(int, char **);
int	stsctl_cmd_fleet(int, char **);

struct report_state;
/* stsctl_reports.c and the fleet's reports (stsctl_reports_fleet.c) */
void	stsctl_reports_print(const char *day, const char *domain,
	    const struct report_state *, const char *fleet);
void	stsctl_reports_line(const char *json);
/* stsctl_reports_fleet - -1 when not in fleet mode, else an exit code */
int	stsctl_reports_fleet(const struct conf *, time_t since, time_t until);

/* stsctl policy in fleet mode (stsctl_policy_fleet.c): NULL when
 * fleet_redis is not set */
struct stsctl_pfleet;
struct stsctl_pfleet *stsctl_pfleet_new(const struct conf *);
void	stsctl_pfleet_attach(struct stsctl_pfleet *, struct sts_cache *);
enum status stsctl_pfleet_cached(struct stsctl_pfleet *, const char *domain,
	    enum status, struct sts_lookup *);
void	stsctl_pfleet_json(struct stsctl_pfleet *, const char *domain,
	    struct buf *);
void	stsctl_pfleet_free(struct stsctl_pfleet *);

#define STSCTL_EXTRA_COMMANDS					\
	{ "probe", stsctl_cmd_probe },				\
	{ "journal", stsctl_cmd_journal },			\
	{ "deferrals", stsctl_cmd_deferrals },			\
	{ "reports", stsctl_cmd_reports },			\
	{ "status", stsctl_cmd_status },			\
	{ "fleet", stsctl_cmd_fleet },

#endif
