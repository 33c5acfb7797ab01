/*
 * override.c - per-domain overrides (skip, enforce, testing)
 *
 * A sorted array and binary search: the file is small and rarely
 * reloaded; lookups happen for every recipient and policy-map query.
 * An exact entry wins over a ".parent" entry; the longest parent wins.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "override.h"
#include "xmalloc.h"

struct ov_entry {
	char			*name;	/* "example.com" or ".example.com" */
	enum override_action	 action;
};

struct override {
	struct ov_entry	*e;
	size_t		 n;
};

static int
ov_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ov_entry *)a)->name,
	    ((const struct ov_entry *)b)->name);
}

const char *
override_str(enum override_action a)
{
	switch (a) {
	case OVERRIDE_SKIP:
		return "skip";
	case OVERRIDE_ENFORCE:
		return "enforce";
	case OVERRIDE_TESTING:
		return "testing";
	default:
		return "none";
	}
}

enum status
override_parse(const char *text, size_t len, const char *fname,
    struct override **out, struct buf *why)
{
	struct override	*o = xcalloc(1, sizeof(*o));
	const char	*p = text, *end = text + len, *eol;
	char		 line[600], name[300], act[32], extra[2], norm[DOMAIN_MAX + 1];
	struct buf	 dwhy = BUF_INIT;
	int		 lineno = 0, dot;
	size_t		 n, i;

	*out = NULL;
	for (; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		n = (size_t)(eol - p);
		if (n >= sizeof(line) || memchr(p, '\0', n)) {
			buf_printf(why, "%s:%d: line too long or NUL byte", fname,
			    lineno);
			goto bad;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		name[0] = act[0] = '\0';
		i = (size_t)sscanf(line, " %299s %31s %1s", name, act, extra);
		if (name[0] == '\0')
			continue;
		if (i != 2) {
			buf_printf(why, "%s:%d: expected \"domain skip|enforce|"
			    "testing\"", fname, lineno);
			goto bad;
		}
		dot = name[0] == '.';
		if (domain_normalize(name + dot, norm, &dwhy) != ST_OK) {
			buf_printf(why, "%s:%d: %s: %s", fname, lineno, name,
			    buf_str(&dwhy));
			goto bad;
		}
		o->e = xreallocarray(o->e, o->n + 1, sizeof(*o->e));
		o->e[o->n].name = xasprintf("%s%s", dot ? "." : "", norm);
		if (!strcmp(act, "skip"))
			o->e[o->n].action = OVERRIDE_SKIP;
		else if (!strcmp(act, "enforce"))
			o->e[o->n].action = OVERRIDE_ENFORCE;
		else if (!strcmp(act, "testing"))
			o->e[o->n].action = OVERRIDE_TESTING;
		else {
			free(o->e[o->n].name);
			buf_printf(why, "%s:%d: unknown action \"%s\"", fname,
			    lineno, act);
			goto bad;
		}
		o->n++;
	}
	if (o->n > 0)
		qsort(o->e, o->n, sizeof(*o->e), ov_cmp);
	buf_free(&dwhy);
	*out = o;
	return ST_OK;
bad:
	buf_free(&dwhy);
	override_free(o);
	return ST_INVALID;
}

enum status
override_load(const char *path, struct override **out, struct buf *why)
{
	FILE		*f;
	struct buf	 text;
	char		 chunk[4096];
	size_t		 n;
	enum status	 st;

	if (path == NULL || path[0] == '\0')
		return override_parse("", 0, "", out, why);
	if ((f = fopen(path, "r")) == NULL) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		*out = NULL;
		return ST_NOTFOUND;
	}
	buf_init(&text, 16 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	fclose(f);
	st = override_parse(buf_str(&text), text.b_len, path, out, why);
	buf_free(&text);
	return st;
}

static enum override_action
find(const struct override *o, const char *name)
{
	struct ov_entry	key, *e;

	key.name = (char *)name;
	e = bsearch(&key, o->e, o->n, sizeof(*o->e), ov_cmp);
	return e ? e->action : OVERRIDE_NONE;
}

enum override_action
override_lookup(const struct override *o, const char *domain)
{
	enum override_action	a;
	const char		*p;

	if (o == NULL || o->n == 0)
		return OVERRIDE_NONE;
	if ((a = find(o, domain)) != OVERRIDE_NONE)
		return a;
	for (p = domain; (p = strchr(p, '.')) != NULL; p++)
		if ((a = find(o, p)) != OVERRIDE_NONE)
			return a;
	return OVERRIDE_NONE;
}

void
override_free(struct override *o)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++)
		free(o->e[i].name);
	free(o->e);
	free(o);
}
