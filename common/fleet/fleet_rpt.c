/*
 * fleet_rpt.c - the fleet's report state in Redis (fleet_rpt.h)
 *
 * Every command goes through fleet_redis.h (its timeouts, AUTH, SELECT
 * and back-off); the Lua scripts by fleet_redis_eval().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_rpt.h"
#include "xmalloc.h"

/* KEYS: lease, fence; ARGV: node, lease_ms, takeover */
static const char lua_take[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur and not (ARGV[3] == '1' and "
    "string.sub(cur, 1, #ARGV[1] + 1) == ARGV[1] .. ' ') then\n"
    "  return {0, cur}\n"
    "end\n"
    "local t = redis.call('INCR', KEYS[2])\n"
    "local v = ARGV[1] .. ' ' .. t\n"
    "redis.call('SET', KEYS[1], v, 'PX', ARGV[2])\n"
    "return {t, v}\n";

/* KEYS: lease, fence; ARGV: value, lease_ms, token.  Nobody took the
 * lease since ours (the fence is still our token): ours again, also if
 * it had expired meanwhile */
static const char lua_renew[] =
    "if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return 1\n";

/* KEYS: lease; ARGV: value */
static const char lua_drop[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) end\n"
    "return 1\n";

/* KEYS: fence, key; ARGV: token, command, args... */
static const char lua_fenced[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n"
    "  return redis.error_reply('FENCED stale fencing token')\n"
    "end\n"
    "return redis.call(ARGV[2], KEYS[2], unpack(ARGV, 3))\n";

/* KEYS: fence, report hash, domains set, days set;
 * ARGV: token, domain, day, id, gz, built, state */
static const char lua_store[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n"
    "  return redis.error_reply('FENCED stale fencing token')\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[2], 'id', ARGV[4], 'gz', ARGV[5], "
    "'built', ARGV[6], 'state', ARGV[7])\n"
    "redis.call('SADD', KEYS[3], ARGV[2])\n"
    "redis.call('SADD', KEYS[4], ARGV[3])\n"
    "return 1\n";

/* KEYS: fence, list, day hash; ARGV: token, gone field */
static const char lua_drop_list[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n"
    "  return redis.error_reply('FENCED stale fencing token')\n"
    "end\n"
    "local n = redis.call('LLEN', KEYS[2])\n"
    "if n > 0 then\n"
    "  redis.call('HINCRBY', KEYS[3], ARGV[2], n)\n"
    "  redis.call('UNLINK', KEYS[2])\n"
    "end\n"
    "return tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')\n";

void
fleet_rpt_init(struct fleet_rpt *fr, struct fleet_redis *r, int budget_ms,
    const char *prefix, const char *node, long lease_ms)
{
	memset(fr, 0, sizeof(*fr));
	fr->r = r;
	fr->budget_ms = budget_ms;
	snprintf(fr->prefix, sizeof(fr->prefix), "%s", prefix);
	snprintf(fr->node, sizeof(fr->node), "%s", node);
	fr->lease_ms = lease_ms;
}

char *
fleet_rpt_key(const struct fleet_rpt *fr, char *k, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(k, FLEET_KEY_MAX, "%s", fr->prefix);
	va_start(ap, fmt);
	vsnprintf(k + n, FLEET_KEY_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return k;
}

/* checked - NULL with why for no reply or an error reply */
static redisReply *
checked(struct fleet_rpt *fr, redisReply *r, struct buf *why)
{
	char	e[256];

	if (r == NULL) {
		fleet_redis_last_error(fr->r, e, sizeof(e));
		buf_printf(why, "redis: %s", e[0] ? e : "unreachable");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		buf_printf(why, "redis: %.*s", (int)r->len, r->str);
		fleet_reply_free(r);
		return NULL;
	}
	return r;
}

redisReply *
fleet_rpt_do(struct fleet_rpt *fr, struct buf *why, const char *cmd, ...)
{
	const char	*av[16];
	va_list		 ap;
	int		 n = 0;

	av[n++] = cmd;
	va_start(ap, cmd);
	while (n < 16 && (av[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	return fleet_rpt_argv(fr, why, n, av, NULL);
}

redisReply *
fleet_rpt_argv(struct fleet_rpt *fr, struct buf *why, int argc,
    const char **argv, const size_t *lens)
{
	return checked(fr, fleet_redis_argv(fr->r, fr->budget_ms, argc, argv,
	    lens), why);
}

static redisReply *
eval(struct fleet_rpt *fr, struct buf *why, const char *script, int nkeys,
    int argc, const char **argv, const size_t *lens)
{
	return checked(fr, fleet_redis_eval(fr->r, script, fr->budget_ms,
	    nkeys, argc, argv, lens), why);
}

int
fleet_rpt_lease_take(struct fleet_rpt *fr, int takeover, struct buf *why)
{
	redisReply	*r;
	char		 kl[FLEET_KEY_MAX], kf[FLEET_KEY_MAX], ms[32];
	int		 rc = -1;

	const char	*av[5];

	snprintf(ms, sizeof(ms), "%ld", fr->lease_ms);
	av[0] = fleet_rpt_key(fr, kl, "lease");
	av[1] = fleet_rpt_key(fr, kf, "fence");
	av[2] = fr->node;
	av[3] = ms;
	av[4] = takeover ? "1" : "0";
	r = eval(fr, why, lua_take, 2, 5, av, NULL);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		if (r->element[0]->integer > 0) {
			fr->token = r->element[0]->integer;
			snprintf(fr->lease_val, sizeof(fr->lease_val), "%s",
			    r->element[1]->str);
			rc = 1;
		} else {
			buf_printf(why, "the lease is held by %s",
			    r->element[1]->str);
			rc = 0;
		}
	} else
		buf_printf(why, "redis: unexpected reply to the lease script");
	fleet_reply_free(r);
	return rc;
}

enum fleet_rpt_rc
fleet_rpt_lease_renew(struct fleet_rpt *fr, struct buf *why)
{
	redisReply		*r;
	char			 kl[FLEET_KEY_MAX], kf[FLEET_KEY_MAX], ms[32],
				 tok[32];
	enum fleet_rpt_rc	 rc;

	if (fr->token == 0) {
		buf_printf(why, "no lease");
		return FR_FENCED;
	}
	snprintf(ms, sizeof(ms), "%ld", fr->lease_ms);
	snprintf(tok, sizeof(tok), "%lld", fr->token);
	{
		const char *av[5] = { fleet_rpt_key(fr, kl, "lease"),
		    fleet_rpt_key(fr, kf, "fence"), fr->lease_val, ms, tok };

		r = eval(fr, why, lua_renew, 2, 5, av, NULL);
	}
	if (r == NULL)
		return FR_ERR;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? FR_OK :
	    FR_FENCED;
	if (rc == FR_FENCED)
		buf_printf(why, "the lease %s was lost", fr->lease_val);
	fleet_reply_free(r);
	return rc;
}

void
fleet_rpt_lease_drop(struct fleet_rpt *fr)
{
	struct buf	 why = BUF_INIT;
	redisReply	*r;
	char		 kl[FLEET_KEY_MAX];

	if (fr->token == 0)
		return;
	{
		const char *av[2] = { fleet_rpt_key(fr, kl, "lease"),
		    fr->lease_val };

		r = eval(fr, &why, lua_drop, 1, 2, av, NULL);
	}
	if (r != NULL)
		fleet_reply_free(r);
	fr->token = 0;
	buf_free(&why);
}

/* fenced_rc - the outcome of a fenced script's reply */
static enum fleet_rpt_rc
fenced_rc(struct fleet_rpt *fr, redisReply *r, struct buf *why)
{
	if (r != NULL)
		return FR_OK;
	return strstr(buf_str(why), "FENCED") != NULL ? FR_FENCED : FR_ERR;
}

enum fleet_rpt_rc
fleet_rpt_fenced(struct fleet_rpt *fr, struct buf *why, const char *cmd,
    const char *key, int argc, const char **argv, const size_t *lens)
{
	const char		**av;
	size_t			 *al;
	char			  kf[FLEET_KEY_MAX], tok[32];
	redisReply		 *r;
	enum fleet_rpt_rc	  rc;
	int			  i, n = 0;

	av = xreallocarray(NULL, (size_t)argc + 4, sizeof(*av));
	al = xreallocarray(NULL, (size_t)argc + 4, sizeof(*al));
	snprintf(tok, sizeof(tok), "%lld", fr->token);
	fleet_rpt_key(fr, kf, "fence");
#define PUT(s)	do { av[n] = (s); al[n] = strlen(s); n++; } while (0)
	PUT(kf);
	PUT(key);
	PUT(tok);
	PUT(cmd);
#undef PUT
	for (i = 0; i < argc; i++) {
		av[n] = argv[i];
		al[n++] = lens != NULL ? lens[i] : strlen(argv[i]);
	}
	r = eval(fr, why, lua_fenced, 2, n, av, al);
	rc = fenced_rc(fr, r, why);
	if (r != NULL)
		fleet_reply_free(r);
	free(av);
	free(al);
	return rc;
}

int
fleet_rpt_store(struct fleet_rpt *fr, struct buf *why, const char *day,
    const char *domain, const char *id, const void *gz, size_t gzlen,
    time_t built, const char *state)
{
	char		 kf[FLEET_KEY_MAX], kr[FLEET_KEY_MAX], kd[FLEET_KEY_MAX],
			 ks[FLEET_KEY_MAX], tok[32], bt[32];
	const char	*av[11];
	size_t		 al[11];
	redisReply	*r;
	int		 i, rc;

	snprintf(tok, sizeof(tok), "%lld", fr->token);
	snprintf(bt, sizeof(bt), "%lld", (long long)built);
	av[0] = fleet_rpt_key(fr, kf, "fence");
	av[1] = fleet_rpt_key(fr, kr, "rpt:%s:%s", day, domain);
	av[2] = fleet_rpt_key(fr, kd, "rpt:%s:domains", day);
	av[3] = fleet_rpt_key(fr, ks, "rpt:days");
	av[4] = tok;
	av[5] = domain;
	av[6] = day;
	av[7] = id;
	av[8] = gz;
	av[9] = bt;
	av[10] = state;
	for (i = 0; i < 11; i++)
		al[i] = i == 8 ? gzlen : strlen(av[i]);
	r = eval(fr, why, lua_store, 4, 11, av, al);
	if (r == NULL)
		return fenced_rc(fr, r, why) == FR_FENCED ? -1 : -2;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	fleet_reply_free(r);
	return rc;
}

long long
fleet_rpt_drop_list(struct fleet_rpt *fr, struct buf *why, const char *day,
    const char *node)
{
	char		 kf[FLEET_KEY_MAX], kl[FLEET_KEY_MAX], kd[FLEET_KEY_MAX],
			 tok[32], f[300];
	const char	*av[5];
	redisReply	*r;
	long long	 gone;

	snprintf(tok, sizeof(tok), "%lld", fr->token);
	snprintf(f, sizeof(f), "gone:%s", node);
	av[0] = fleet_rpt_key(fr, kf, "fence");
	av[1] = fleet_rpt_key(fr, kl, "j:%s:%s", day, node);
	av[2] = fleet_rpt_key(fr, kd, "rpt:%s", day);
	av[3] = tok;
	av[4] = f;
	if ((r = eval(fr, why, lua_drop_list, 3, 5, av, NULL)) == NULL)
		return fenced_rc(fr, r, why) == FR_FENCED ? -1 : -2;
	gone = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	fleet_reply_free(r);
	return gone;
}

long long
fleet_rpt_shipped(struct fleet_rpt *fr, const char *day, const char *node)
{
	struct buf	 why = BUF_INIT;
	redisReply	*r;
	char		 k[FLEET_KEY_MAX], f[300];
	long long	 n = 0;

	r = fleet_rpt_do(fr, &why, "LLEN", fleet_rpt_key(fr, k, "j:%s:%s",
	    day, node), NULL);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	if (r != NULL)
		fleet_reply_free(r);
	buf_free(&why);
	snprintf(f, sizeof(f), "gone:%s", node);
	return n + fleet_rpt_hget_ll(fr, fleet_rpt_key(fr, k, "rpt:%s", day),
	    f, 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
fleet_rpt_strings(redisReply *r, char ***out)
{
	char	**v;
	size_t	  i, n = 0;

	*out = NULL;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return 0;
	v = xreallocarray(NULL, r->elements, sizeof(*v));
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			v[n++] = xstrndup(r->element[i]->str,
			    r->element[i]->len);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	return n;
}

size_t
fleet_rpt_dedup(char **v, size_t n)
{
	size_t	i, j;

	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[j++] = v[i];
	}
	return j;
}

void
fleet_rpt_strings_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

long long
fleet_rpt_hget_ll(struct fleet_rpt *fr, const char *key, const char *field,
    long long def)
{
	struct buf	 why = BUF_INIT;
	redisReply	*r;
	long long	 v = def;

	r = fleet_rpt_do(fr, &why, "HGET", key, field, NULL);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	if (r != NULL)
		fleet_reply_free(r);
	buf_free(&why);
	return v;
}
