/*
 * fleet_conf.c - the fleet keys of the configuration, checked once
 *
 * Pure: parsing and checking only.  The table in conf.c bounds the
 * numbers; here go the rules that span a value's syntax (endpoint,
 * node name, prefix) and the derived values (the node's default name).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_conf.h"

int
fleet_node_valid(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > FLEET_NODE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* port_parse - "1".."65535" exactly; -1 otherwise */
static int
port_parse(const char *s)
{
	long	v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

enum status
fleet_endpoint_parse(struct fleet_conf *fc, const char *spec,
    struct buf *why)
{
	const char	*colon, *host = spec, *port = NULL;
	size_t		 hlen;

	if (strlen(spec) >= sizeof(fc->host)) {
		buf_printf(why, "fleet_redis: too long");
		return ST_INVALID;
	}
	snprintf(fc->endpoint, sizeof(fc->endpoint), "%s", spec);
	fc->is_unix = 0;
	fc->port = FLEET_DEFAULT_PORT;
	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/') {
			buf_printf(why, "fleet_redis: \"%s\": unix: needs an "
			    "absolute path", spec);
			return ST_INVALID;
		}
		fc->is_unix = 1;
		fc->port = 0;
		snprintf(fc->host, sizeof(fc->host), "%s", spec + 5);
		return ST_OK;
	}
	if (spec[0] == '[') {			/* [v6]:port */
		const char *end = strchr(spec, ']');

		if (end == NULL || end == spec + 1 ||
		    (end[1] != '\0' && end[1] != ':')) {
			buf_printf(why, "fleet_redis: \"%s\": bad [address]",
			    spec);
			return ST_INVALID;
		}
		host = spec + 1;
		hlen = (size_t)(end - host);
		port = end[1] == ':' ? end + 2 : NULL;
	} else {
		colon = strrchr(spec, ':');
		if (colon != NULL && strchr(spec, ':') != colon) {
			buf_printf(why, "fleet_redis: \"%s\": an IPv6 address "
			    "goes in brackets ([::1]:6379)", spec);
			return ST_INVALID;
		}
		hlen = colon ? (size_t)(colon - spec) : strlen(spec);
		port = colon ? colon + 1 : NULL;
	}
	if (hlen == 0) {
		buf_printf(why, "fleet_redis: \"%s\": no host (unix:/path or "
		    "host:port)", spec);
		return ST_INVALID;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-_:%",
		    host[i])) {
			buf_printf(why, "fleet_redis: \"%s\": bad host", spec);
			return ST_INVALID;
		}
	memcpy(fc->host, host, hlen);
	fc->host[hlen] = '\0';
	if (port != NULL && (fc->port = port_parse(port)) < 0) {
		buf_printf(why, "fleet_redis: \"%s\": bad port", spec);
		return ST_INVALID;
	}
	return ST_OK;
}

enum status
fleet_conf_from(struct fleet_conf *fc, const struct conf *c, struct buf *why)
{
	char	host[256];
	size_t	i;

	memset(fc, 0, sizeof(*fc));
	fc->db = c->fleet_redis_db;
	fc->timeout_ms = c->fleet_timeout * 1000;
	fc->budget_ms = c->fleet_budget_ms;
	fc->lock_ms = c->fleet_lock_ms;
	fc->report_grace = c->fleet_report_grace;
	fc->close_delay = c->fleet_close_delay;
	fc->retention_days = c->journal_retention;
	if (c->fleet_redis[0] == '\0')
		return ST_OK;			/* single host */
	if (fleet_endpoint_parse(fc, c->fleet_redis, why) != ST_OK)
		return ST_INVALID;
	if (c->fleet_node[0] != '\0')
		snprintf(host, sizeof(host), "%s", c->fleet_node);
	else
		conf_host_name(c, host, sizeof(host));
	if (!fleet_node_valid(host)) {
		buf_printf(why, "fleet_node: \"%s\" is not a node name (1-%d "
		    "letters, digits, '.', '_', '-')%s", host, FLEET_NODE_MAX,
		    c->fleet_node[0] ? "" : "; the host name is the default: "
		    "set fleet_node");
		return ST_INVALID;
	}
	memcpy(fc->node, host, strlen(host) + 1);	/* fits: checked */
	if (strlen(c->fleet_prefix) > FLEET_PREFIX_MAX) {
		buf_printf(why, "fleet_prefix: longer than %d bytes",
		    FLEET_PREFIX_MAX);
		return ST_INVALID;
	}
	for (i = 0; c->fleet_prefix[i]; i++)
		if (!isgraph((unsigned char)c->fleet_prefix[i])) {
			buf_printf(why, "fleet_prefix: \"%s\": only printable "
			    "characters, no spaces", c->fleet_prefix);
			return ST_INVALID;
		}
	memcpy(fc->prefix, c->fleet_prefix, strlen(c->fleet_prefix) + 1);
	if (strlen(c->fleet_redis_password_file) >= sizeof(fc->password_file)) {
		buf_printf(why, "fleet_redis_password_file: too long");
		return ST_INVALID;
	}
	memcpy(fc->password_file, c->fleet_redis_password_file,
	    strlen(c->fleet_redis_password_file) + 1);
	fc->on = 1;
	return ST_OK;
}

char *
fleet_key(const struct fleet_conf *fc, char *dst, size_t size,
    const char *fmt, ...)
{
	va_list	ap;
	size_t	n = strlen(fc->prefix);
	int	m;

	if (n >= size)
		return NULL;
	memcpy(dst, fc->prefix, n);
	va_start(ap, fmt);
	m = vsnprintf(dst + n, size - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - n)
		return NULL;
	return dst;
}
