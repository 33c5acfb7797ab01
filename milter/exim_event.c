/*
 * exim_event.c - Exim event_action TLS outcomes (see exim_event.h)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "exim_event.h"
#include "lex.h"

/* set - copy value v[0..n) into dst (size); -1 if it does not fit */
static int
set(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* name_covers - RFC 6125 6.4: a DNS-ID equal to host, or "*." plus the
 * host's parent (the wildcard is the whole first label) */
static int
name_covers(const char *id, size_t n, const char *host)
{
	const char	*dot;
	size_t		 hl = strlen(host);

	if (n == hl && strncasecmp(id, host, n) == 0)
		return 1;
	if (n < 3 || id[0] != '*' || id[1] != '.' ||
	    (dot = strchr(host, '.')) == NULL || dot == host)
		return 0;
	return strlen(dot) == n - 1 && strncasecmp(id + 1, dot, n - 1) == 0;
}

/* san_covers - 1 if a DNS= entry of the comma list covers host; *any
 * is set when the list holds a DNS= entry at all */
static int
san_covers(const char *san, const char *host, int *any)
{
	const char	*p = san, *e;

	*any = 0;
	while (*p != '\0') {
		e = p + strcspn(p, ",");
		if (e - p > 4 && strncasecmp(p, "DNS=", 4) == 0) {
			*any = 1;
			if (host[0] != '\0' && name_covers(p + 4,
			    (size_t)(e - p - 4), host))
				return 1;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

enum status
exim_event_read(const char *line, struct exim_event *ev, struct buf *why)
{
	char		 notafter[24] = "";
	unsigned	 seen = 0, bit;
	char		 dom[256] = "", *end;
	const char	*p = line, *w, *eq, *v;
	size_t		 n, len = strlen(line);
	int		 k;

	memset(ev, 0, sizeof(*ev));
	if (len > EXIM_EVENT_MAX) {
		whyf(why, "event line longer than %d bytes", EXIM_EVENT_MAX);
		return ST_INVALID;
	}
	for (n = 0; n < len; n++)
		if (((unsigned char)line[n] < 0x20 && line[n] != '\t') ||
		    (unsigned char)line[n] == 0x7f) {
			whyf(why, "control character in the line");
			return ST_INVALID;
		}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if ((eq = memchr(w, '=', (size_t)(p - w))) == NULL ||
		    eq == w) {
			whyf(why, "\"%.*s\" is not KEY=VALUE", (int)(p - w > 40 ?
			    40 : p - w), w);
			return ST_INVALID;
		}
		v = eq + 1;
		n = (size_t)(p - v);
#define KEY(s, b)	((size_t)(eq - w) == sizeof(s) - 1 && \
		    memcmp(w, s, sizeof(s) - 1) == 0 && (bit = 1u << (b)))
		k = 0;
		bit = 0;
		if (KEY("domain", 0))
			k = set(dom, sizeof(dom), v, n);
		else if (KEY("mx", 1))
			k = set(ev->mx, sizeof(ev->mx), v, n);
		else if (KEY("ip", 2))
			k = set(ev->ip, sizeof(ev->ip), v, n);
		else if (KEY("sip", 3))
			k = set(ev->sip, sizeof(ev->sip), v, n);
		else if (KEY("tls", 4))
			k = set(ev->tls, sizeof(ev->tls), v, n);
		else if (KEY("verified", 5))
			k = set(ev->verified, sizeof(ev->verified), v, n);
		else if (KEY("notafter", 6))
			k = set(notafter, sizeof(notafter), v, n);
		else if (KEY("san", 7))
			k = set(ev->san, sizeof(ev->san), v, n);
		else if (KEY("starttls", 8))
			k = set(ev->starttls, sizeof(ev->starttls), v, n);
		else if (KEY("veto", 9))
			k = set(ev->veto, sizeof(ev->veto), v, n);
		else if (KEY("dns", 10))
			k = set(ev->dns, sizeof(ev->dns), v, n);
		else if (KEY("dane", 11))
			k = set(ev->dane, sizeof(ev->dane), v, n);
		else if (KEY("conn", 12))
			k = set(ev->conn, sizeof(ev->conn), v, n);
#undef KEY
		if (bit != 0 && (seen & bit)) {
			whyf(why, "\"%.*s\" given twice", (int)(eq - w), w);
			return ST_INVALID;
		}
		seen |= bit;
		if (k < 0) {
			whyf(why, "value of \"%.*s\" too long", (int)(eq - w),
			    w);
			return ST_INVALID;
		}
	}
	if (dom[0] == '\0' || domain_normalize(dom, ev->domain, NULL) !=
	    ST_OK) {
		whyf(why, "no valid domain=");
		return ST_INVALID;
	}
	if (ev->mx[0] != '\0' && domain_syntax(ev->mx, strlen(ev->mx),
	    NULL) != ST_OK) {
		whyf(why, "mx= is not a host name");
		return ST_INVALID;
	}
	if (notafter[0] != '\0') {
		ev->notafter = strtoll(notafter, &end, 10);
		if (*end != '\0' || ev->notafter < 0) {
			whyf(why, "notafter= is not seconds since the epoch");
			return ST_INVALID;
		}
		ev->have_notafter = 1;
	}
	return ST_OK;
}

enum status
exim_event_veto(struct exim_event *ev, const char *domain, const char *mx,
    const char *ip, struct buf *why)
{
	memset(ev, 0, sizeof(*ev));
	if (domain_normalize(domain, ev->domain, NULL) != ST_OK) {
		whyf(why, "no valid domain=");
		return ST_INVALID;
	}
	if (set(ev->mx, sizeof(ev->mx), mx, strlen(mx)) < 0 ||
	    domain_syntax(ev->mx, strlen(ev->mx), NULL) != ST_OK) {
		whyf(why, "mx= is not a host name");
		return ST_INVALID;
	}
	if (ip != NULL && set(ev->ip, sizeof(ev->ip), ip, strlen(ip)) < 0) {
		whyf(why, "value of \"ip\" too long");
		return ST_INVALID;
	}
	ev->veto[0] = '1';
	return ST_OK;
}

enum status
exim_event_classify_dane(struct exim_event *ev)
{
	ev->result = TLSRPT_SUCCESS;
	ev->reason[0] = '\0';
	if (strcmp(ev->veto, "1") == 0)
		return ST_NOTFOUND;	/* no veto under DANE: not ours */
	if (strcmp(ev->dane, "yes") == 0)
		return ST_OK;
	if (strcmp(ev->starttls, "no") == 0 && ev->tls[0] == '\0') {
		ev->result = TLSRPT_STARTTLS_NOT_SUPPORTED;
		return ST_OK;
	}
	if (ev->tls[0] == '\0' && !ev->have_notafter && ev->san[0] == '\0' &&
	    strcmp(ev->dns, "yes") != 0)
		return ST_NOTFOUND;	/* no certificate, no TLS */
	ev->result = TLSRPT_TLSA_INVALID;
	set(ev->reason, sizeof(ev->reason), "not-dane-verified", 17);
	return ST_OK;
}

enum status
exim_event_classify(struct exim_event *ev, time_t now, int no_policy)
{
	int	cert, any_dns, covers;

	ev->result = TLSRPT_SUCCESS;
	ev->reason[0] = '\0';
	if (strcmp(ev->veto, "1") == 0) {
		if (no_policy)
			return ST_NOTFOUND;
		ev->result = TLSRPT_VALIDATION_FAILURE;
		set(ev->reason, sizeof(ev->reason), "mx-host-not-in-policy",
		    21);
		return ST_OK;
	}
	if (strcmp(ev->dane, "yes") == 0)
		return ST_NOTFOUND;	/* DANE, not MTA-STS, applied */
	if (strcmp(ev->starttls, "no") == 0 && ev->tls[0] == '\0') {
		ev->result = TLSRPT_STARTTLS_NOT_SUPPORTED;
		return ST_OK;
	}
	if (no_policy) {		/* only whether TLS was negotiated */
		if (ev->tls[0] == '\0')
			return ST_NOTFOUND;
		ev->result = TLSRPT_SUCCESS;
		return ST_OK;
	}
	/* a certificate was seen: it has a notAfter (dns=no is sent for
	 * a connection without any certificate too) */
	cert = ev->have_notafter || ev->san[0] != '\0' ||
	    strcmp(ev->dns, "yes") == 0;
	covers = san_covers(ev->san, ev->mx, &any_dns);
	if (strcmp(ev->dns, "yes") == 0)
		any_dns = 1;
	if (cert && (strcmp(ev->verified, "1") != 0 || !covers)) {
		if (ev->have_notafter && ev->notafter < (long long)now) {
			ev->result = TLSRPT_CERTIFICATE_EXPIRED;
			set(ev->reason, sizeof(ev->reason), "expired", 7);
		} else if (!covers) {
			ev->result = TLSRPT_CERTIFICATE_HOST_MISMATCH;
			if (any_dns)
				set(ev->reason, sizeof(ev->reason),
				    "no-matching-dns-name", 20);
			else
				set(ev->reason, sizeof(ev->reason),
				    "no-dns-subjectaltname", 21);
		} else {
			/* in date, the names cover mx: what Exim could not
			 * verify is the chain (RFC 8460 4.3.1: a reason) */
			ev->result = TLSRPT_CERTIFICATE_NOT_TRUSTED;
			set(ev->reason, sizeof(ev->reason), "chain-not-verified",
			    18);
		}
		return ST_OK;
	}
	if (ev->tls[0] != '\0' && strcmp(ev->verified, "1") == 0) {
		ev->result = TLSRPT_SUCCESS;
		return ST_OK;
	}
	return ST_NOTFOUND;
}

enum status
exim_event_parse(const char *line, time_t now, int no_policy,
    struct exim_event *ev, struct buf *why)
{
	if (exim_event_read(line, ev, why) != ST_OK)
		return ST_INVALID;
	return exim_event_classify(ev, now, no_policy);
}
