/*
 * report_state.c - delivery state of one report, on disk
 *
 * The file is text, one "key value" per line, so an operator can read
 * it:
 *	report-id 20261129a1b2...
 *	built 1796000000
 *	sessions 120 3
 *	rua found|none|unknown|gaveup <tries> <first> <next> <last error>
 *	dest <status> <attempts> <first> <next> <done> <uri> <last error>
 * URIs and errors are %-escaped (space, %, control bytes), so a line
 * always splits on single spaces.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "report_state.h"
#include "xmalloc.h"

#define REPORT_STATE_MAX	(1024 * 1024)

static const char *const dest_names[] = { "pending", "delivered", "gaveup",
    "unsupported" };
static const char *const rua_names[] = { "unknown", "found", "none",
    "gaveup" };

const char *
report_dest_st_str(enum report_dest_st s)
{
	return (unsigned)s < 4 ? dest_names[s] : "?";
}

static void
put_esc(struct buf *b, const char *s)
{
	if (s == NULL || *s == '\0') {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '%' || c >= 0x7f || (c == '-' && s[1] ==
		    '\0' && b->b_len && b->b_data[b->b_len - 1] == ' '))
			buf_printf(b, "%%%02X", c);
		else
			buf_putc(b, c);
	}
}

static char *
get_esc(const char *s)
{
	char	*out, *o;

	if (strcmp(s, "-") == 0)
		return xstrdup("");
	out = o = xmalloc(strlen(s) + 1);
	for (; *s; s++) {
		unsigned int v;

		if (*s == '%' && sscanf(s + 1, "%2X", &v) == 1 &&
		    s[1] && s[2]) {
			*o++ = (char)v;
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

void
report_state_clear(struct report_state *s)
{
	size_t	i;

	for (i = 0; i < s->ndest; i++) {
		free(s->dest[i].uri);
		free(s->dest[i].last);
	}
	free(s->lk_last);
	memset(s, 0, sizeof(*s));
}

/*
 * get_time, get_count - a number from the file, held to a range that no
 * later arithmetic overflows with (a corrupt or hand-edited file: found
 * by fuzz_report_state, "9223372036854775807" as a first attempt)
 */
#define STATE_TIME_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */
#define STATE_COUNT_MAX	1000000L

static time_t
get_time(const char *v)
{
	long long	t = strtoll(v, NULL, 10);

	return (time_t)(t < 0 ? 0 : t > STATE_TIME_MAX ? STATE_TIME_MAX : t);
}

static int
get_count(const char *v)
{
	long	n = strtol(v, NULL, 10);

	return (int)(n < 0 ? 0 : n > STATE_COUNT_MAX ? STATE_COUNT_MAX : n);
}

/* parse_line - one "key value..." line into s; unknown lines are ignored */
static void
parse_line(char *line, struct report_state *s)
{
	char	*v[9], *p, *save;
	int	 n = 0, k;

	for (p = strtok_r(line, " ", &save); p != NULL && n < 9;
	    p = strtok_r(NULL, " ", &save))
		v[n++] = p;
	if (n == 2 && strcmp(v[0], "report-id") == 0)
		snprintf(s->report_id, sizeof(s->report_id), "%s", v[1]);
	else if (n == 2 && strcmp(v[0], "built") == 0)
		s->built = get_time(v[1]);
	else if (n == 3 && strcmp(v[0], "sessions") == 0) {
		s->nsuccess = strtoul(v[1], NULL, 10);
		s->nfailure = strtoul(v[2], NULL, 10);
	} else if (n == 6 && strcmp(v[0], "rua") == 0) {
		for (k = 0; k < 4; k++)
			if (strcmp(v[1], rua_names[k]) == 0)
				s->rua = (enum report_rua_st)k;
		s->lk_tries = get_count(v[2]);
		s->lk_first = get_time(v[3]);
		s->lk_next = get_time(v[4]);
		free(s->lk_last);
		s->lk_last = get_esc(v[5]);
	} else if (n == 8 && strcmp(v[0], "dest") == 0 &&
	    s->ndest < REPORT_DEST_MAX) {
		struct report_dest *d = &s->dest[s->ndest++];

		d->st = DEST_PENDING;
		for (k = 0; k < 4; k++)
			if (strcmp(v[1], dest_names[k]) == 0)
				d->st = (enum report_dest_st)k;
		d->attempts = get_count(v[2]);
		d->first = get_time(v[3]);
		d->next = get_time(v[4]);
		d->done = get_time(v[5]);
		d->uri = get_esc(v[6]);
		d->last = get_esc(v[7]);
	}
}

enum status
report_state_parse(const char *text, size_t len, struct report_state *s,
    struct buf *why)
{
	const char	*p = text, *end = text + len, *nl;
	char		*line;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line = xmalloc((size_t)(nl - p) + 1);
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		parse_line(line, s);
		free(line);
		p = nl + 1;
	}
	if (s->report_id[0] == '\0') {
		buf_puts(why, "no report-id (corrupt state)");
		report_state_clear(s);
		return ST_INVALID;
	}
	if (s->lk_last == NULL)
		s->lk_last = xstrdup("");
	return ST_OK;
}

enum status
report_state_load(const char *path, struct report_state *s, struct buf *why)
{
	struct buf	 w = BUF_INIT;
	enum status	 st;
	char		*text;
	size_t		 len;

	memset(s, 0, sizeof(*s));
	if ((text = fs_read_regular(path, REPORT_STATE_MAX, &len, NULL)) == NULL) {
		if (errno == ENOENT)
			return ST_NOTFOUND;
		buf_printf(why, "%s: %s", path, strerror(errno));
		return ST_TEMPFAIL;
	}
	if ((st = report_state_parse(text, len, s, &w)) != ST_OK)
		buf_printf(why, "%s: %s", path, buf_str(&w));
	buf_free(&w);
	free(text);
	return st;
}

void
report_state_format(const struct report_state *s, struct buf *b)
{
	size_t	i;

	buf_printf(b, "report-id %s\nbuilt %lld\nsessions %lu %lu\n",
	    s->report_id, (long long)s->built, s->nsuccess, s->nfailure);
	buf_printf(b, "rua %s %d %lld %lld ", rua_names[s->rua], s->lk_tries,
	    (long long)s->lk_first, (long long)s->lk_next);
	put_esc(b, s->lk_last);
	buf_putc(b, '\n');
	for (i = 0; i < s->ndest; i++) {
		const struct report_dest *d = &s->dest[i];

		buf_printf(b, "dest %s %d %lld %lld %lld ",
		    report_dest_st_str(d->st), d->attempts,
		    (long long)d->first, (long long)d->next,
		    (long long)d->done);
		put_esc(b, d->uri);
		buf_putc(b, ' ');
		put_esc(b, d->last);
		buf_putc(b, '\n');
	}
}

enum status
report_state_save(const char *path, const struct report_state *s,
    struct buf *why)
{
	struct buf	b = BUF_INIT;
	int		rc;

	report_state_format(s, &b);
	rc = fs_write_atomic(path, buf_str(&b), b.b_len, 0640, FS_SYNC_FULL);
	if (rc != 0)
		buf_printf(why, "%s: %s", path, strerror(errno));
	buf_free(&b);
	return rc == 0 ? ST_OK : ST_TEMPFAIL;
}

time_t
report_retry_next(int attempts, time_t first, time_t now)
{
	time_t	delay = REPORT_RETRY_FIRST, last = first + REPORT_RETRY_WINDOW;
	int	i;

	for (i = 1; i < attempts && delay < REPORT_RETRY_MAX; i++)
		delay *= 2;
	if (delay > REPORT_RETRY_MAX)
		delay = REPORT_RETRY_MAX;
	if (now >= last)
		return 0;		/* 24 h are over: give up */
	return now + delay < last ? now + delay : last;
}

int
report_state_failed(struct report_dest *d, time_t now, const char *reason,
    int permanent)
{
	time_t	next;

	if (d->first == 0)
		d->first = now;
	d->attempts++;
	free(d->last);
	d->last = xstrdup(reason ? reason : "");
	next = permanent ? 0 : report_retry_next(d->attempts, d->first, now);
	if (next == 0) {
		d->st = DEST_GAVEUP;
		d->done = now;
		d->next = 0;
		return 1;
	}
	d->next = next;
	return 0;
}

void
report_state_delivered(struct report_dest *d, time_t now)
{
	if (d->first == 0)
		d->first = now;
	d->attempts++;
	d->st = DEST_DELIVERED;
	d->done = now;
	d->next = 0;
	free(d->last);
	d->last = xstrdup("");
}

int
report_state_final(const struct report_state *s)
{
	size_t	i;

	if (s->rua == RUA_ST_NONE || s->rua == RUA_ST_GAVEUP)
		return 1;
	if (s->rua != RUA_ST_FOUND)
		return 0;
	for (i = 0; i < s->ndest; i++)
		if (s->dest[i].st == DEST_PENDING)
			return 0;
	return 1;
}

int
report_state_delivered_any(const struct report_state *s)
{
	size_t	i;

	for (i = 0; i < s->ndest; i++)
		if (s->dest[i].st == DEST_DELIVERED)
			return 1;
	return 0;
}
