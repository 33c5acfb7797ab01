/*
 * sockspec.c - one parser for the socket specifications of the config
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockspec.h"

static enum status
bad(struct buf *why, const char *spec, const char *what)
{
	if (why != NULL)
		buf_printf(why, "%s: %s", spec, what);
	return ST_INVALID;
}

static enum status
parse_unix(const char *spec, const char *path, struct sockspec *s,
    struct buf *why)
{
	size_t	len = strlen(path);

	if (path[0] != '/')
		return bad(why, spec, "a unix socket needs an absolute path");
	if (len >= sizeof(s->path))
		return bad(why, spec, "path too long for a unix socket");
	memcpy(s->path, path, len + 1);
	return ST_OK;
}

static enum status
parse_inet(const char *spec, const char *a, int family, struct sockspec *s,
    struct buf *why)
{
	const char	*at, *colon, *port;
	size_t		 hlen, plen;
	unsigned long	 n;
	char		*end;

	if ((at = strchr(a, '@')) != NULL) {		/* port@host */
		port = a;
		plen = (size_t)(at - a);
		a = at + 1;
		hlen = strlen(a);
	} else if ((colon = strrchr(a, ':')) != NULL) {	/* host:port */
		hlen = (size_t)(colon - a);
		port = colon + 1;
		plen = strlen(port);
	} else {					/* port */
		port = a;
		plen = strlen(port);
		hlen = 0;
	}
	if (hlen >= 2 && a[0] == '[' && a[hlen - 1] == ']') {
		a++;
		hlen -= 2;
		family = AF_INET6;
	}
	if (hlen >= sizeof(s->host))
		return bad(why, spec, "host name too long");
	memcpy(s->host, a, hlen);
	s->host[hlen] = '\0';
	if (memchr(s->host, ':', hlen) != NULL)
		family = AF_INET6;
	if (plen == 0 || plen >= sizeof(s->port) ||
	    strspn(port, "0123456789") < plen)
		return bad(why, spec, "bad port");
	memcpy(s->port, port, plen);
	s->port[plen] = '\0';
	n = strtoul(s->port, &end, 10);
	if (n == 0 || n > 65535)
		return bad(why, spec, "port out of range");
	s->family = family;
	return ST_OK;
}

enum status
sockspec_parse(const char *spec, struct sockspec *s, struct buf *why)
{
	memset(s, 0, sizeof(*s));
	if (spec == NULL || spec[0] == '\0')
		return bad(why, "(empty)", "no socket given");
	if (strncmp(spec, "unix:", 5) == 0)
		return parse_unix(spec, spec + 5, s, why);
	if (strncmp(spec, "local:", 6) == 0)
		return parse_unix(spec, spec + 6, s, why);
	if (spec[0] == '/')
		return parse_unix(spec, spec, s, why);
	s->kind = SOCKSPEC_INET;
	if (strncmp(spec, "inet:", 5) == 0)
		return parse_inet(spec, spec + 5, AF_INET, s, why);
	if (strncmp(spec, "inet6:", 6) == 0)
		return parse_inet(spec, spec + 6, AF_INET6, s, why);
	return bad(why, spec, "expected unix:/path or inet:port@host");
}
