/*
 * test_report_golden.c - fixed journals + fixed clock -> byte-identical
 * RFC 8460 JSON (tests/reporter/<case>.<domain>.ref.json)
 *
 * Each tests/reporter/<case>.in is turned into a real journal (records
 * encoded with their CRC, decoded by journal_decode, appended with
 * journal_append, policies archived), read back with journal_read_day
 * and aggregated; every domain's report must equal its .ref.json byte
 * for byte.  UPDATE_REFS=1 rewrites the .ref.json files instead (review
 * the diff); such a run fails, as it checked nothing.  The same journal fed in reverse order must give the same
 * bytes (deterministic output), and the gzip must inflate to the JSON.
 *
 * Run from the top of the source tree (make check does), or set
 * SRCDIR.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "conf.h"
#include "harness.h"
#include "journal.h"
#include "policy_archive.h"
#include "report_agg.h"
#include "report_build.h"
#include "report_make.h"
#include "xmalloc.h"

#define DAY	"2026-11-01"

static const char *srcdir = ".";

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*s;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = xmalloc((size_t)n + 1);
	*len = fread(s, 1, (size_t)n, f);
	s[*len] = '\0';
	fclose(f);
	return s;
}

static void
rm_rf(const char *dir)
{
	char	*cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

/* load_in - the .in lines as journal records, in order or reversed */
static int
load_in(const char *state, const char *name, int reverse)
{
	char		*path, *text, *line, *save, *lines[256];
	struct journal	*j;
	struct buf	 why = BUF_INIT;
	size_t		 len, n = 0, i;
	int		 bad = 0;

	path = xasprintf("%s/tests/reporter/%s.in", srcdir, name);
	text = slurp(path, &len);
	free(path);
	if (text == NULL)
		return -1;
	j = journal_open(state, &why);
	for (line = strtok_r(text, "\n", &save); line && n < 256;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] == '{')
			lines[n++] = line;
	for (i = 0; i < n; i++) {
		struct journal_rec	 r;
		struct buf		 json = BUF_INIT, enc = BUF_INIT;
		const char		*l = lines[reverse ? n - 1 - i : i];
		const char		*at = strstr(l, "\"phash\":\"@");
		char			 hash[65];

		if (at != NULL) {
			char	*pname, *ppath, *ptext;
			size_t	 plen = 0, k;

			at += 10;
			k = strcspn(at, "\"");
			pname = xstrndup(at, k);
			ppath = xasprintf("%s/tests/reporter/policies/%s.txt",
			    srcdir, pname);
			ptext = slurp(ppath, &plen);
			if (ptext == NULL ||
			    policy_archive_put(state, ptext, plen, hash) != 0)
				bad++;
			buf_append(&json, l, (size_t)(at - 1 - l));
			buf_printf(&json, "%s%s", hash, at + k);
			free(pname);
			free(ppath);
			free(ptext);
		} else
			buf_puts(&json, l);
		buf_printf(&enc, "J1 %08lx %s\n",
		    crc32(0L, (const Bytef *)buf_str(&json), (uInt)json.b_len) &
		    0xffffffffUL, buf_str(&json));
		if (journal_decode(buf_str(&enc), enc.b_len, &r, &why) != ST_OK ||
		    journal_append(j, &r) != 0) {
			fprintf(stderr, "record %zu: %s\n", i, buf_str(&why));
			bad++;
		}
		buf_free(&json);
		buf_free(&enc);
	}
	journal_close(j);
	free(text);
	buf_free(&why);
	return bad ? -1 : 0;
}

static struct conf *
golden_conf(const char *state)
{
	struct conf	*c = conf_defaults();
	struct buf	 why = BUF_INIT;
	char		*text;

	text = xasprintf("state_dir = %s\n"
	    "report_org_name = Example Sender Org\n"
	    "report_contact = tlsrpt-noreply@sender.example\n"
	    "report_clock = 2026-11-02T03:00:00Z\n", state);
	if (conf_parse(c, text, strlen(text), "golden", &why) != ST_OK)
		fprintf(stderr, "conf: %s\n", buf_str(&why));
	free(text);
	buf_free(&why);
	return c;
}

struct built {
	size_t	 n;
	char	*domain[64];
	char	*json[64];
};

static int	g_omit_sip;	/* build_all: report_sending_ip = no */
static int	g_max_fails = -1; /* build_all: report_max_failure_details */

static void
build_all(const char *state, struct built *b)
{
	struct conf		 *c = golden_conf(state);
	struct report_agg	 *a = report_agg_new(NULL);
	struct report_domain	**d;
	struct report_make_ctx	 *x;
	struct report_made	  m;
	struct journal_stats	  js;
	struct buf		  why = BUF_INIT;
	size_t			  n, i;

	memset(b, 0, sizeof(*b));
	if (g_omit_sip)
		report_agg_omit_sending_ip(a);
	if (g_max_fails >= 0)
		c->report_max_failure_details = g_max_fails;
	CHECK(journal_read_day(state, DAY, report_agg_cb, a, &js) == 0);
	CHECK_INT(js.bad, 0);
	n = report_agg_domains(a, &d);
	x = report_make_ctx_new(c, &why);
	CHECK(x != NULL);
	if (x == NULL)
		goto out;
	report_make_ctx_attach(x, d, n);
	for (i = 0; i < n && i < 64; i++) {
		CHECK(report_make(x, DAY, d[i], &m, &why) == ST_OK);
		/* the gzip inflates to the JSON (RPT-GZ-1) */
		{
			char	 out[65536];
			uLongf	 olen = sizeof(out);
			z_stream z;

			memset(&z, 0, sizeof(z));
			inflateInit2(&z, 15 + 16);
			z.next_in = (Bytef *)m.gz.b_data;
			z.avail_in = (uInt)m.gz.b_len;
			z.next_out = (Bytef *)out;
			z.avail_out = (uInt)olen;
			CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
			CHECK(z.total_out == strlen(m.json) &&
			    memcmp(out, m.json, z.total_out) == 0);
			CHECK((unsigned char)m.gz.b_data[0] == 0x1f &&
			    (unsigned char)m.gz.b_data[1] == 0x8b);
			inflateEnd(&z);
		}
		b->domain[b->n] = xstrdup(d[i]->d_name);
		b->json[b->n++] = m.json;
		m.json = NULL;
		report_make_clear(&m);
	}
	report_make_ctx_free(x);
out:
	report_agg_free(a);
	conf_free(c);
	buf_free(&why);
}

static void
built_free(struct built *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		free(b->domain[i]);
		free(b->json[i]);
	}
}

static void
golden_case(const char *name, size_t want_domains)
{
	char		 t1[] = "/tmp/rptgoldXXXXXX", t2[] = "/tmp/rptgoldXXXXXX";
	struct built	 a, b;
	size_t		 i, len;
	int		 update = getenv("UPDATE_REFS") != NULL;

	CHECK(mkdtemp(t1) != NULL && mkdtemp(t2) != NULL);
	CHECK(load_in(t1, name, 0) == 0);
	CHECK(load_in(t2, name, 1) == 0);
	build_all(t1, &a);
	build_all(t2, &b);
	CHECK_INT(a.n, want_domains);
	CHECK_INT(b.n, a.n);
	for (i = 0; i < a.n; i++) {
		char *ref = xasprintf("%s/tests/reporter/%s.%s.ref.json",
		    srcdir, name, a.domain[i]), *want;

		/* same bytes whatever the record order */
		CHECKF(i < b.n && strcmp(a.json[i], b.json[i]) == 0,
		    "%s: order-dependent output", a.domain[i]);
		if (update) {
			FILE *f = fopen(ref, "w");

			CHECK(f != NULL);
			if (f) {
				fputs(a.json[i], f);
				fclose(f);
			}
			/* what follows compares the file with itself */
			CHECKF(0, "UPDATE_REFS: %s rewritten, not checked",
			    ref);
		}
		want = slurp(ref, &len);
		CHECKF(want != NULL && strcmp(want, a.json[i]) == 0,
		    "%s differs from the built report:\n%s", ref, a.json[i]);
		free(want);
		free(ref);
	}
	built_free(&a);
	built_free(&b);
	rm_rf(t1);
	rm_rf(t2);
}

static void
test_golden_basic(void)
{
	/* broken, enforce, plain, testing */
	golden_case("basic", 4);
}

static void
test_golden_day_edges(void)
{
	/* RPT-TIME-1: only 00:00:00 .. 23:59:59 of the day count */
	golden_case("days", 1);
}

static void
test_report_id_stable_and_alnum(void)
{
	char	a[REPORT_ID_LEN], b[REPORT_ID_LEN], c[REPORT_ID_LEN];
	size_t	i;

	report_build_id("sender.example", "enforce.example", DAY, a);
	report_build_id("sender.example", "enforce.example", DAY, b);
	report_build_id("sender.example", "enforce.example", "2026-11-02", c);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	CHECK_INT(strlen(a), REPORT_ID_LEN - 1);
	CHECK(strncmp(a, "20261101", 8) == 0);
	for (i = 0; a[i]; i++)	/* RPT-FILE-1: unique-id is ALPHA/DIGIT */
		CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' &&
		    a[i] <= 'f'));
	report_build_id("sender.example", "other.example", DAY, c);
	CHECK(strcmp(a, c) != 0);
}

static void
test_filename_rfc8460(void)
{
	struct report_meta	m;
	char			name[300];

	memset(&m, 0, sizeof(m));
	m.submitter = "sender.example";
	m.report_id = "20261101abc";
	m.start = 1793491200;
	m.end = 1793577600;
	report_build_filename(&m, "enforce.example", name, sizeof(name));
	/* RPT-FILE-1: sender!policy-domain!begin!end!unique-id.json.gz */
	CHECK_STR(name, "sender.example!enforce.example!1793491200!"
	    "1793577600!20261101abc.json.gz");
}

static void
test_contact_domain(void)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "tlsrpt@sender.example", "sender.example" },
		{ "a.b+c@mail.sender.example", "mail.sender.example" },
		{ "postmaster@localhost", NULL },	/* no dot */
		{ "no-at-sign", NULL },
		{ "@sender.example", NULL },
		{ "a b@sender.example", NULL },
		{ "<x@sender.example>", NULL },
		{ "x@sender.example.", NULL },
		{ "x@send_er.example", NULL },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = report_build_contact_domain(t[i].in);

		CHECKF((got == NULL && t[i].want == NULL) ||
		    (got && t[i].want && strcmp(got, t[i].want) == 0),
		    "row %zu: %s", i, t[i].in);
	}
}

/* count_key - occurrences of "key" in s; sum_count - the sum of the
 * failed-session-count values */
static int
count_key(const char *s, const char *key)
{
	int	n = 0;

	while ((s = strstr(s, key)) != NULL) {
		n++;
		s += strlen(key);
	}
	return n;
}

static long
sum_count(const char *s)
{
	long	n = 0;

	while ((s = strstr(s, "\"failed-session-count\": ")) != NULL) {
		s += 24;
		n += strtol(s, NULL, 10);
	}
	return n;
}

/* report_sending_ip = no: no sending-mta-ip anywhere, no failure lost,
 * entries that differed only in it merged */
static void
test_omit_sending_ip(void)
{
	char		 t1[] = "/tmp/rptgoldXXXXXX";
	struct built	 with, without;
	size_t		 i;
	int		 ips = 0;

	CHECK(mkdtemp(t1) != NULL);
	CHECK(load_in(t1, "basic", 0) == 0);
	build_all(t1, &with);
	g_omit_sip = 1;
	build_all(t1, &without);
	g_omit_sip = 0;
	CHECK_INT(without.n, with.n);
	for (i = 0; i < with.n && i < without.n; i++) {
		CHECK_INT(count_key(without.json[i], "sending-mta-ip"), 0);
		CHECK(sum_count(without.json[i]) == sum_count(with.json[i]));
		CHECK(count_key(without.json[i], "\"result-type\"") <=
		    count_key(with.json[i], "\"result-type\""));
		ips += count_key(with.json[i], "sending-mta-ip");
	}
	CHECK(ips > 0);			/* the input has sending IPs */
	built_free(&with);
	built_free(&without);
	rm_rf(t1);
	/* two failures that differ only in the sending IP: one entry */
	snprintf(t1, sizeof(t1), "/tmp/rptgoldXXXXXX");
	CHECK(mkdtemp(t1) != NULL);
	CHECK(load_in(t1, "sip", 0) == 0);
	build_all(t1, &with);
	g_omit_sip = 1;
	build_all(t1, &without);
	g_omit_sip = 0;
	CHECK_INT(with.n, 1);
	CHECK_INT(without.n, 1);
	if (with.n == 1 && without.n == 1) {
		CHECK_INT(count_key(with.json[0], "\"result-type\""), 2);
		CHECK_INT(count_key(without.json[0], "\"result-type\""), 1);
		CHECK(strstr(without.json[0], "\"failed-session-count\": 2") !=
		    NULL);
		CHECK_INT(count_key(without.json[0], "sending-mta-ip"), 0);
	}
	built_free(&with);
	built_free(&without);
	rm_rf(t1);
}

/*
 * report_max_failure_details: a policy with more groups lists only the
 * ones with the most failed sessions (here: one per policy of
 * enforce.example's 4 groups, a count-2 one kept); the summary still
 * counts every session.
 */
static void
test_max_failure_details(void)
{
	char		 t1[] = "/tmp/rptgoldXXXXXX";
	struct built	 all, cut;
	size_t		 i;

	CHECK(mkdtemp(t1) != NULL);
	CHECK(load_in(t1, "basic", 0) == 0);
	build_all(t1, &all);
	g_max_fails = 1;
	build_all(t1, &cut);
	g_max_fails = -1;
	CHECK_INT(cut.n, all.n);
	for (i = 0; i < all.n && i < cut.n; i++) {
		const char *s = strstr(all.json[i], "\"total-failure-session-count\"");
		const char *t = strstr(cut.json[i], "\"total-failure-session-count\"");

		CHECK(s != NULL && t != NULL && strtol(s + 31, NULL, 10) ==
		    strtol(t + 31, NULL, 10));
		if (strcmp(all.domain[i], "enforce.example") == 0) {
			CHECK_INT(count_key(all.json[i], "\"result-type\""), 4);
			/* one entry for each of its two policies */
			CHECK_INT(count_key(cut.json[i], "\"result-type\""), 2);
			CHECK(strstr(cut.json[i], "\"failed-session-count\": 2")
			    != NULL);
		}
	}
	built_free(&all);
	built_free(&cut);
	rm_rf(t1);
	/* distinct counts 3, 1, 2 and a cap of 2: the 3 and the 2 stay */
	snprintf(t1, sizeof(t1), "/tmp/rptgoldXXXXXX");
	CHECK(mkdtemp(t1) != NULL);
	CHECK(load_in(t1, "cap", 0) == 0);
	g_max_fails = 2;
	build_all(t1, &cut);
	g_max_fails = -1;
	CHECK_INT(cut.n, 1);
	if (cut.n == 1) {
		CHECK_INT(count_key(cut.json[0], "\"result-type\""), 2);
		CHECK(strstr(cut.json[0], "\"failed-session-count\": 3") != NULL);
		CHECK(strstr(cut.json[0], "\"failed-session-count\": 2") != NULL);
		CHECK(strstr(cut.json[0], "mx2.enforce.example") == NULL);
		CHECK(strstr(cut.json[0], "\"total-failure-session-count\": 6")
		    != NULL);
	}
	built_free(&cut);
	rm_rf(t1);
}

int
main(void)
{
	if (getenv("SRCDIR") != NULL)
		srcdir = getenv("SRCDIR");
	RUN(test_golden_basic);
	RUN(test_golden_day_edges);
	RUN(test_report_id_stable_and_alnum);
	RUN(test_filename_rfc8460);
	RUN(test_contact_domain);
	RUN(test_omit_sending_ip);
	RUN(test_max_failure_details);
	return harness_done("test_report_golden");
}
