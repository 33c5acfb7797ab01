/*
 * stsctl.h - shared helpers of stsctl and its command modules
 *
 * Commands that live in other files (probe, journal, deferrals) are
 * listed in STSCTL_EXTRA_COMMANDS and implemented as
 * int stsctl_cmd_<name>(int argc, char **argv).
 */
#ifndef STSCTL_H
#define STSCTL_H

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

#define STSCTL_EXTRA_COMMANDS					\
	{ "probe", stsctl_cmd_probe },				\
	{ "journal", stsctl_cmd_journal },			\
	{ "deferrals", stsctl_cmd_deferrals },			\
	{ "reports", stsctl_cmd_reports },			\
	{ "status", stsctl_cmd_status },

#endif
