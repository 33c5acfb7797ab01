/*
 * stsctl_table.c - JSON lines for scripts, aligned tables for a person
 * (see stsctl_table.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "stsctl_table.h"
#include "xmalloc.h"

static int	out_json = -1;	/* -1: not decided yet */

int
stsctl_out_setup(int argc, char **argv)
{
	int	i, n = 1, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	out_json = json || !isatty(STDOUT_FILENO);
	return n;
}

int
stsctl_out_table(void)
{
	if (out_json < 0)
		out_json = !isatty(STDOUT_FILENO);
	return !out_json;
}

struct stsctl_table {
	const struct stsctl_col	 *cols;		/* NULL: KEY VALUE */
	size_t			  ncols;
	char			**cells;	/* nrows * ncols */
	size_t			  nrows, cap;
};

/* add_row - append one row of ncols cells (taken over) */
static void
add_row(struct stsctl_table *t, char **row)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->cells = xreallocarray(t->cells, t->cap * t->ncols,
		    sizeof(char *));
	}
	memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof(char *));
	t->nrows++;
}

struct stsctl_table *
stsctl_table_new(const struct stsctl_col *cols)
{
	struct stsctl_table	*t = xcalloc(1, sizeof(*t));
	char			*row[16];
	size_t			 i;

	t->cols = cols;
	if (cols == NULL) {
		t->ncols = 2;
		row[0] = xstrdup("KEY");
		row[1] = xstrdup("VALUE");
	} else {
		while (cols[t->ncols].title != NULL && t->ncols < 16)
			t->ncols++;
		for (i = 0; i < t->ncols; i++)
			row[i] = xstrdup(cols[i].title);
	}
	add_row(t, row);
	return t;
}

/* printable - s with control characters as '?': a journal's text must
 * not drive the person's terminal */
static void
printable(const char *s, struct buf *out)
{
	for (; *s; s++)
		buf_putc(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' :
		    *s);
}

/* cell_value - append v's text: strings bare, arrays joined */
static void
cell_value(struct json_object *v, struct buf *out)
{
	size_t	i, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		break;
	case json_type_string:
		printable(json_object_get_string(v), out);
		break;
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(out, ',');
			cell_value(json_object_array_get_idx(v, i), out);
		}
		break;
	default:
		buf_puts(out, json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	}
}

/* walk - the value of path in o, arrays mapped (appended to acc) */
static struct json_object *
walk(struct json_object *o, const char *path, struct json_object *acc)
{
	struct json_object	*v;
	const char		*dot = strchr(path, '.');
	char			 key[64];
	size_t			 i, n, len = dot ? (size_t)(dot - path) :
				     strlen(path);

	if (o == NULL || len >= sizeof(key))
		return acc;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			acc = walk(json_object_array_get_idx(o, i), path, acc);
		return acc;
	}
	memcpy(key, path, len);
	key[len] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return acc;
	if (dot != NULL)
		return walk(v, dot + 1, acc);
	if (acc == NULL)
		acc = json_object_new_array();
	json_object_array_add(acc, json_object_get(v));
	return acc;
}

void
stsctl_table_cell(struct json_object *o, const char *path, struct buf *out)
{
	struct json_object	*acc = walk(o, path, NULL);
	size_t			 before = out->b_len;

	if (acc != NULL)
		cell_value(json_object_array_length(acc) == 1 ?
		    json_object_array_get_idx(acc, 0) : acc, out);
	if (out->b_len == before)
		buf_putc(out, '-');
	json_object_put(acc);
}

/* flatten - KEY VALUE rows of o, nested objects as dotted keys */
static void
flatten(struct stsctl_table *t, const char *prefix, struct json_object *o)
{
	struct json_object_iterator	 it, end;
	struct buf			 k = BUF_INIT, v = BUF_INIT;
	char				*row[2];

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		struct json_object *m = json_object_iter_peek_value(&it);

		buf_reset(&k);
		buf_printf(&k, "%s%s%s", prefix, prefix[0] ? "." : "",
		    json_object_iter_peek_name(&it));
		if (json_object_is_type(m, json_type_object)) {
			flatten(t, buf_str(&k), m);
			continue;
		}
		buf_reset(&v);
		cell_value(m, &v);
		row[0] = xstrdup(buf_str(&k));
		row[1] = xstrdup(v.b_len ? buf_str(&v) : "-");
		add_row(t, row);
	}
	buf_free(&k);
	buf_free(&v);
}

void
stsctl_table_line(struct stsctl_table *t, const char *json)
{
	struct json_object	*o;
	struct buf		 c = BUF_INIT;
	char			*row[16];
	size_t			 i;

	if (!stsctl_out_table()) {
		printf("%s\n", json);
		return;
	}
	if ((o = json_tokener_parse(json)) == NULL)
		return;			/* our own JSON: never happens */
	if (t->cols == NULL)
		flatten(t, "", o);
	else {
		for (i = 0; i < t->ncols; i++) {
			buf_reset(&c);
			stsctl_table_cell(o, t->cols[i].path, &c);
			row[i] = xstrdup(buf_str(&c));
		}
		add_row(t, row);
	}
	json_object_put(o);
	buf_free(&c);
}

int
stsctl_table_end(struct stsctl_table *t)
{
	struct buf	out = BUF_INIT;
	size_t		i;
	int		rc = EX_OK;

	if (stsctl_out_table() && t->nrows > 1) {
		buf_init(&out, 0);
		stsctl_table_render(t->cells, t->nrows, t->ncols, &out);
		fputs(buf_str(&out), stdout);
	}
	if (fflush(stdout) != 0)
		rc = EX_IOERR;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	buf_free(&out);
	return rc;
}

/* width - display columns of s: UTF-8 continuation bytes take none */
static size_t
width(const char *s)
{
	size_t	n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
stsctl_table_render(char *const *cells, size_t nrows, size_t ncols,
    struct buf *out)
{
	size_t	*w = xcalloc(ncols, sizeof(*w)), r, c, n;

	for (r = 0; r < nrows; r++)
		for (c = 0; c < ncols; c++)
			if ((n = width(cells[r * ncols + c])) > w[c])
				w[c] = n;
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c];

			buf_puts(out, s);
			if (c + 1 < ncols)
				buf_printf(out, "%*s", (int)(w[c] - width(s) + 2),
				    "");
		}
		buf_putc(out, '\n');
	}
	free(w);
}
