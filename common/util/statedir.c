/*
 * statedir.c - the names under state_dir (see statedir.h)
 */
#include "statedir.h"
#include "xmalloc.h"

const char *const statedir_dirs[] = { "", "/cache", "/journal", "/policies",
    "/reporter", "/requests", NULL };

#define STATEDIR_PATH(fn, name)						\
char *									\
fn(const char *sd)							\
{									\
	return xasprintf("%s/" name, sd);				\
}

STATEDIR_PATH(statedir_cache, "cache")
STATEDIR_PATH(statedir_journal, "journal")
STATEDIR_PATH(statedir_policies, "policies")
STATEDIR_PATH(statedir_reporter, "reporter")
STATEDIR_PATH(statedir_status, "status.json")
STATEDIR_PATH(statedir_logpos, "postfix-log.pos")
STATEDIR_PATH(statedir_quarantine, "tlsrpt-quarantine")
STATEDIR_PATH(statedir_requests, "requests")

char *
statedir_journal_day(const char *sd, const char *day)
{
	return xasprintf("%s/journal/%s.jnl", sd, day);
}

char *
statedir_policy(const char *sd, const char *hash)
{
	return xasprintf("%s/policies/%s.txt", sd, hash);
}
