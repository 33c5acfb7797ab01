/*
 * fleet_redis.c - one connection to the fleet's Redis, never in the way
 *
 * hiredis's synchronous API with socket timeouts (redisSetTimeout: each
 * read and write) set from the call's remaining budget.  Any failure
 * frees the context: hiredis leaves a context unusable after an I/O
 * error, and a reply that arrives after its timeout must not be taken
 * for the next command's.  The back-off and the "log once" state live
 * beside the context, under the same mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/evp.h>

#include "clock.h"
#include "fleet_redis.h"
#include "fsutil.h"
#include "log.h"
#include "xmalloc.h"

struct fleet_redis {
	struct fleet_conf	 fc;
	char			 who[32];
	pthread_mutex_t		 mu;
	redisContext		*ctx;
	int64_t			 next_try;	/* mono ms: no connect before */
	int			 backoff;	/* ms */
	int			 logged;	/* the outage was logged */
	int			 quiet;
	int			 timeout_set;	/* ms the socket has now */
	unsigned long		 generation;
	unsigned long		 outage_errors;
	struct fleet_redis_stats st;
	char			 err[600];
};

struct fleet_redis *
fleet_redis_new(const struct fleet_conf *fc, const char *who)
{
	struct fleet_redis	*r = xcalloc(1, sizeof(*r));
	struct sigaction	 sa;

	r->fc = *fc;
	snprintf(r->who, sizeof(r->who), "%s", who);
	pthread_mutex_init(&r->mu, NULL);
	r->backoff = FLEET_BACKOFF_MIN_MS;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	return r;
}

void
fleet_redis_free(struct fleet_redis *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void
fleet_redis_quiet(struct fleet_redis *r)
{
	r->quiet = 1;
}

void
fleet_reply_free(redisReply *rep)
{
	if (rep != NULL)
		freeReplyObject(rep);
}

static struct timeval
ms_tv(int64_t ms)
{
	struct timeval	tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* failed - the call failed: drop the connection, back off, log once
 * (why may point into the context: copied before it is freed) */
static void
failed(struct fleet_redis *r, const char *why)
{
	int64_t	now = clock_mono_ms();

	snprintf(r->err, sizeof(r->err), "%s", why);
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
	r->st.errors++;
	r->outage_errors++;
	if (r->st.up || r->st.down_since == 0)
		r->st.down_since = clock_now();
	r->st.up = 0;
	r->next_try = now + r->backoff;
	r->backoff = r->backoff * 2 > FLEET_BACKOFF_MAX_MS ?
	    FLEET_BACKOFF_MAX_MS : r->backoff * 2;
	if (!r->logged && !r->quiet) {
		r->logged = 1;
		log_warnx("fleet %s: Redis %s unreachable: %s (carrying on "
		    "without it; failures are counted, the recovery is "
		    "logged)", r->who, r->fc.endpoint, r->err);
	}
}

/* password - the first line of the password file: "pw" or "user pw" */
static int
password(const struct fleet_redis *r, char *user, size_t ulen, char *pw,
    size_t plen)
{
	char	*text, *nl, *sp;
	size_t	 len;

	user[0] = pw[0] = '\0';
	if (r->fc.password_file[0] == '\0')
		return 0;
	if ((text = fs_read_file(r->fc.password_file, 4096, &len)) == NULL)
		return -1;
	if ((nl = strpbrk(text, "\r\n")) != NULL)
		*nl = '\0';
	if ((sp = strchr(text, ' ')) != NULL) {
		*sp = '\0';
		snprintf(user, ulen, "%s", text);
		snprintf(pw, plen, "%s", sp + 1);
	} else
		snprintf(pw, plen, "%s", text);
	explicit_bzero(text, len);
	free(text);
	return 0;
}

/* answered - 0 if rep is an answer that is not an error; else -1 with
 * why ("what: reason"); rep freed */
static int
answered(const struct fleet_redis *r, redisReply *rep, const char *what,
    char *why, size_t size)
{
	int	rc = 0;

	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, size, "%s: %s", what, rep ? rep->str :
		    r->ctx->errstr);
		rc = -1;
	}
	fleet_reply_free(rep);
	return rc;
}

/*
 * setup - on a fresh connection: AUTH (with a password file), then
 * SELECT db, or PING: a connect alone proves nothing (a stopped
 * server's kernel still accepts), one answer does.  0, or -1 (why set).
 */
static int
setup(struct fleet_redis *r, char *why, size_t size)
{
	char		 user[128], pw[512];
	redisReply	*rep;

	if (password(r, user, sizeof(user), pw, sizeof(pw)) != 0) {
		snprintf(why, size, "fleet_redis_password_file %s: %s",
		    r->fc.password_file, strerror(errno));
		return -1;
	}
	if (pw[0] != '\0') {
		rep = user[0] ? redisCommand(r->ctx, "AUTH %s %s", user, pw) :
		    redisCommand(r->ctx, "AUTH %s", pw);
		explicit_bzero(pw, sizeof(pw));
		if (answered(r, rep, "AUTH", why, size) != 0)
			return -1;
	}
	if (r->fc.db != 0)
		return answered(r, redisCommand(r->ctx, "SELECT %d", r->fc.db),
		    "SELECT", why, size);
	return answered(r, redisCommand(r->ctx, "PING"), "PING", why, size);
}

/* ready - a connection within the deadline; 0, or -1 (failure counted,
 * or skipped during the back-off) */
static int
ready(struct fleet_redis *r, int64_t deadline)
{
	int64_t		now = clock_mono_ms();
	struct timeval	tv;
	char		why[600];

	if (r->ctx != NULL)
		return 0;
	if (now < r->next_try) {
		r->st.skipped++;
		return -1;
	}
	tv = ms_tv(deadline - now);
	r->ctx = r->fc.is_unix ? redisConnectUnixWithTimeout(r->fc.host, tv) :
	    redisConnectWithTimeout(r->fc.host, r->fc.port, tv);
	if (r->ctx == NULL || r->ctx->err) {
		failed(r, r->ctx ? r->ctx->errstr : "out of memory");
		return -1;
	}
	(void)redisSetTimeout(r->ctx, tv);
	r->timeout_set = (int)(deadline - now);
	if (!r->fc.is_unix)
		(void)redisEnableKeepAlive(r->ctx);
	if (setup(r, why, sizeof(why)) != 0) {
		failed(r, why);
		return -1;
	}
	r->st.connects++;
	r->generation++;
	if (r->logged)
		log_notice("fleet %s: Redis %s reachable again (%lu failed "
		    "call%s in %lld s)", r->who, r->fc.endpoint,
		    r->outage_errors, r->outage_errors == 1 ? "" : "s",
		    (long long)(clock_now() - r->st.down_since));
	r->logged = 0;
	r->outage_errors = 0;
	r->st.up = 1;
	r->st.down_since = 0;
	r->backoff = FLEET_BACKOFF_MIN_MS;
	r->err[0] = '\0';
	return 0;
}

/* closed - the server had closed a connection we reused (restarted,
 * timeout): worth one fresh connect within the same call */
static int
closed(const redisContext *ctx)
{
	return ctx->err == REDIS_ERR_EOF || (ctx->err == REDIS_ERR_IO &&
	    (strstr(ctx->errstr, "Broken pipe") != NULL ||
	    strstr(ctx->errstr, "reset by peer") != NULL));
}

/*
 * exchange - send cmd (n formatted commands) and read n replies within
 * the budget; 0 or -1 (failed: counted, logged once, back-off).  A
 * connection the server closed while we did not use it is replaced at
 * once, once: the commands of the first attempt were not run (the
 * server had gone), or were and are run again (callers' commands are
 * idempotent or, like the ship script, check before they write).
 */
static int
exchange(struct fleet_redis *r, int budget_ms, const char *cmd, size_t len,
    int n, redisReply **replies)
{
	int64_t	deadline, left;
	void	*rep;
	int	attempt, reused, k;

	if (budget_ms <= 0)
		budget_ms = r->fc.timeout_ms;
	pthread_mutex_lock(&r->mu);
	deadline = clock_mono_ms() + budget_ms;
	for (attempt = 0;; attempt++) {
		reused = r->ctx != NULL;
		if (ready(r, deadline) != 0) {
			pthread_mutex_unlock(&r->mu);
			return -1;
		}
		if ((left = deadline - clock_mono_ms()) < 1)
			left = 1;
		if (left != r->timeout_set) {
			(void)redisSetTimeout(r->ctx, ms_tv(left));
			r->timeout_set = (int)left;
		}
		k = 0;
		if (redisAppendFormattedCommand(r->ctx, cmd, len) == REDIS_OK)
			for (; k < n; k++) {
				if (redisGetReply(r->ctx, &rep) != REDIS_OK)
					break;
				replies[k] = rep;
			}
		if (k == n) {
			r->st.commands++;
			pthread_mutex_unlock(&r->mu);
			return 0;
		}
		while (k > 0)
			fleet_reply_free(replies[--k]);
		if (attempt == 0 && reused && closed(r->ctx) &&
		    clock_mono_ms() < deadline) {
			redisFree(r->ctx);	/* silently: try a fresh one */
			r->ctx = NULL;
			continue;
		}
		failed(r, r->ctx->errstr[0] ? r->ctx->errstr : "no reply");
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
}

redisReply *
fleet_redis_cmd(struct fleet_redis *r, int budget_ms, const char *fmt, ...)
{
	va_list		 ap;
	char		*cmd = NULL;
	int		 len;
	redisReply	*rep = NULL;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len > 0 && exchange(r, budget_ms, cmd, (size_t)len, 1, &rep) != 0)
		rep = NULL;
	redisFreeCommand(cmd);
	return rep;
}

redisReply *
fleet_redis_argv(struct fleet_redis *r, int budget_ms, int argc,
    const char **argv, const size_t *lens)
{
	char		*cmd = NULL;
	int		 len;
	redisReply	*rep = NULL;

	len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	if (len > 0 && exchange(r, budget_ms, cmd, (size_t)len, 1, &rep) != 0)
		rep = NULL;
	redisFreeCommand(cmd);
	return rep;
}

int
fleet_redis_pipeline(struct fleet_redis *r, int budget_ms, int n,
    const struct fleet_cmd *cmds, redisReply **replies)
{
	struct buf	 all = BUF_INIT;
	char		*cmd;
	int		 i, len, rc = -1;

	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		cmd = NULL;
		if ((len = redisFormatCommandArgv(&cmd, cmds[i].argc,
		    cmds[i].argv, cmds[i].lens)) > 0)
			buf_append(&all, cmd, (size_t)len);
		redisFreeCommand(cmd);
		if (len <= 0)
			break;
	}
	if (i == n && !all.b_trunc)
		rc = exchange(r, budget_ms, all.b_data, all.b_len, n, replies);
	buf_free(&all);
	return rc;
}

void
fleet_script_sha(const char *script, char sha[41])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len = 0, i;

	(void)EVP_Digest(script, strlen(script), md, &len, EVP_sha1(), NULL);
	for (i = 0; i < len && i < 20; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	sha[40] = '\0';
}

redisReply *
fleet_redis_eval(struct fleet_redis *r, const char *script, int budget_ms,
    int nkeys, int argc, const char **argv, const size_t *lens)
{
	const char	**av = xcalloc((size_t)argc + 3, sizeof(*av));
	size_t		 *al = xcalloc((size_t)argc + 3, sizeof(*al));
	char		  sha[41], nk[16];
	redisReply	 *rep;
	int		  i;

	fleet_script_sha(script, sha);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	av[1] = sha;
	av[2] = nk;
	for (i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		al[i + 3] = lens ? lens[i] : strlen(argv[i]);
	}
	for (i = 0; i < 3; i++)
		al[i] = strlen(av[i]);
	rep = fleet_redis_argv(r, budget_ms, argc + 3, av, al);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		fleet_reply_free(rep);
		av[0] = "EVAL";
		av[1] = script;
		al[0] = 4;
		al[1] = strlen(script);
		rep = fleet_redis_argv(r, budget_ms, argc + 3, av, al);
	}
	free(av);
	free(al);
	return rep;
}

unsigned long
fleet_redis_generation(struct fleet_redis *r)
{
	unsigned long	g;

	pthread_mutex_lock(&r->mu);
	g = r->generation;
	pthread_mutex_unlock(&r->mu);
	return g;
}

void
fleet_redis_stats(struct fleet_redis *r, struct fleet_redis_stats *st)
{
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
}

void
fleet_redis_last_error(struct fleet_redis *r, char *dst, size_t size)
{
	pthread_mutex_lock(&r->mu);
	snprintf(dst, size, "%s", r->err);
	pthread_mutex_unlock(&r->mu);
}
