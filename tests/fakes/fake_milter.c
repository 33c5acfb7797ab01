/*
 * fake_milter.c - the libmilter calls of a filter session, for unit tests
 *
 * See fake_milter.h.  One context is one milter connection; the test
 * owns it and calls the callbacks with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_milter.h"
#include "xmalloc.h"

#define MACROS_MAX	16

struct smfi_str {
	void	*priv;
	char	*macro[MACROS_MAX];	/* "name=value", name without {} */
	int	 nmacro;
	char	*reply;
	int	 nreplies;
	char	*symlist[SMFIM_LAST + 1];
};

/* bare - name without its braces into out */
static void
bare(const char *name, char *out, size_t size)
{
	size_t	n = strlen(name);

	if (n >= 2 && name[0] == '{' && name[n - 1] == '}')
		snprintf(out, size, "%.*s", (int)(n - 2), name + 1);
	else
		snprintf(out, size, "%s", name);
}

/* find - the index of macro name, or -1 */
static int
find(SMFICTX *ctx, const char *name)
{
	char	key[64];
	size_t	n;
	int	i;

	bare(name, key, sizeof(key));
	n = strlen(key);
	for (i = 0; i < ctx->nmacro; i++)
		if (strncmp(ctx->macro[i], key, n) == 0 &&
		    ctx->macro[i][n] == '=')
			return i;
	return -1;
}

SMFICTX *
fake_milter_new(void)
{
	return xcalloc(1, sizeof(struct smfi_str));
}

void
fake_milter_free(SMFICTX *ctx)
{
	int	i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->nmacro; i++)
		free(ctx->macro[i]);
	for (i = 0; i <= SMFIM_LAST; i++)
		free(ctx->symlist[i]);
	free(ctx->reply);
	free(ctx);
}

void
fake_milter_macro(SMFICTX *ctx, const char *name, const char *value)
{
	char	key[64];
	int	i = find(ctx, name);

	if (i >= 0) {
		free(ctx->macro[i]);
		ctx->macro[i] = ctx->macro[--ctx->nmacro];
	}
	if (value == NULL || ctx->nmacro == MACROS_MAX)
		return;
	bare(name, key, sizeof(key));
	ctx->macro[ctx->nmacro++] = xasprintf("%s=%s", key, value);
}

const char *
fake_milter_reply(SMFICTX *ctx)
{
	return ctx->reply;
}

int
fake_milter_nreplies(SMFICTX *ctx)
{
	return ctx->nreplies;
}

void
fake_milter_clear(SMFICTX *ctx)
{
	free(ctx->reply);
	ctx->reply = NULL;
	ctx->nreplies = 0;
}

const char *
fake_milter_symlist(SMFICTX *ctx, int stage)
{
	return stage >= 0 && stage <= SMFIM_LAST ? ctx->symlist[stage] : NULL;
}

/* --- what mlfi.c calls -------------------------------------------------- */

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
	ctx->priv = priv;
	return MI_SUCCESS;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	int	i = find(ctx, name);

	return i < 0 ? NULL : strchr(ctx->macro[i], '=') + 1;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
	/* libmilter: a 4xx or 5xx code, text without CR or LF */
	if (rcode == NULL || (rcode[0] != '4' && rcode[0] != '5') ||
	    (text != NULL && strpbrk(text, "\r\n") != NULL))
		return MI_FAILURE;
	free(ctx->reply);
	ctx->reply = xasprintf("%s %s %s", rcode, xcode ? xcode : "",
	    text ? text : "");
	ctx->nreplies++;
	return MI_SUCCESS;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
	if (stage < 0 || stage > SMFIM_LAST)
		return MI_FAILURE;
	free(ctx->symlist[stage]);
	ctx->symlist[stage] = xstrdup(macros);
	return MI_SUCCESS;
}
