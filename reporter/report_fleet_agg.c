/*
 * report_fleet_agg.c - a day's records of every node from Redis into
 * one report_agg (pipelined LRANGE, journal_decode), and the policy
 * texts the reports name (report_fleet_impl.h)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fleet_rpt.h"
#include "journal_fmt.h"
#include "report_fleet_impl.h"
#include "xmalloc.h"

#define CHUNK		10000		/* records per LRANGE */
#define PIPE		4		/* LRANGEs per round trip */

/* report_fleet_agg_ptext - a policy text from P ptext:<hash>, if its
 * hash matches (the shipped text is checked as the archive's would be) */
char *
report_fleet_agg_ptext(void *arg, const char *hash, size_t *len)
{
	struct fleet_rpt	*fr = arg;
	struct buf		 why = BUF_INIT;
	redisReply		*rep;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	char			 k[FLEET_KEY_MAX], hex[65], *text = NULL;

	rep = fleet_rpt_do(fr, &why, "GET", fleet_rpt_key(fr, k, "ptext:%s", hash), NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		EVP_Digest(rep->str, rep->len, md, &mdlen, EVP_sha256(), NULL);
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		hex[64] = '\0';
		if (strcmp(hex, hash) == 0) {
			text = xstrndup(rep->str, rep->len);
			*len = rep->len;
		}
	}
	if (rep != NULL)
		fleet_reply_free(rep);
	buf_free(&why);
	return text;
}

/* add_lines - decode and count every line of one LRANGE reply */
static void
add_lines(redisReply *rep, struct report_agg *agg, unsigned long *bad)
{
	struct journal_rec	rec;
	struct buf		why = BUF_INIT;
	size_t			i;

	for (i = 0; i < rep->elements; i++) {
		redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_STRING ||
		    journal_decode(e->str, e->len, &rec, &why) != ST_OK) {
			(*bad)++;
			buf_reset(&why);
			continue;
		}
		report_agg_add(agg, &rec);
	}
	buf_free(&why);
}

int
report_fleet_aggregate(struct fleet_rpt *fr, const char *day, size_t n,
    char *const *nodes, const long long *upto, struct report_agg *agg,
    unsigned long *bad, struct buf *why)
{
	struct fleet_cmd	 cmds[PIPE];
	redisReply		*reps[PIPE];
	const char		*argv[PIPE][4];
	char			 k[FLEET_KEY_MAX], from[PIPE][24], to[PIPE][24],
				 e[256];
	long long		 at, want;
	size_t			 i;
	int			 nc, c, short_list;

	for (i = 0; i < n; i++) {
		fleet_rpt_key(fr, k, "j:%s:%s", day, nodes[i]);
		for (at = 0; at < upto[i]; ) {
			/* PIPE LRANGEs of CHUNK records in one round trip */
			want = at;
			for (nc = 0; nc < PIPE && want < upto[i]; nc++) {
				long long end = want + CHUNK < upto[i] ?
				    want + CHUNK : upto[i];

				snprintf(from[nc], sizeof(from[nc]), "%lld",
				    want);
				snprintf(to[nc], sizeof(to[nc]), "%lld",
				    end - 1);
				argv[nc][0] = "LRANGE";
				argv[nc][1] = k;
				argv[nc][2] = from[nc];
				argv[nc][3] = to[nc];
				cmds[nc].argc = 4;
				cmds[nc].argv = argv[nc];
				cmds[nc].lens = NULL;
				want = end;
			}
			if (fleet_redis_pipeline(fr->r, fr->budget_ms, nc, cmds,
			    reps) != 0) {
				fleet_redis_last_error(fr->r, e, sizeof(e));
				buf_printf(why, "redis: %s", e);
				return -1;
			}
			short_list = 0;
			for (c = 0; c < nc; c++) {
				if (reps[c]->type != REDIS_REPLY_ARRAY)
					short_list = 1;
				else {
					add_lines(reps[c], agg, bad);
					at += (long long)reps[c]->elements;
					if (reps[c]->elements == 0)
						short_list = 1;
				}
				fleet_reply_free(reps[c]);
			}
			/* fewer records than fixed (Redis lost data): stop */
			if (short_list && at < upto[i]) {
				buf_printf(why, "%s holds fewer records than "
				    "the %lld fixed for the reports", k,
				    upto[i]);
				return -1;
			}
		}
	}
	return 0;
}
