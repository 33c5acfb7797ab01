/*
 * stsctl_table.h - output for a person or for a script
 *
 * SYNOPSIS
 *	argc = stsctl_out_setup(argc, argv);	(strips --json)
 *	t = stsctl_table_new(cols);
 *	stsctl_table_line(t, json);		(per JSON line)
 *	rc = stsctl_table_end(t);
 *
 * DESCRIPTION
 *	The log-review commands (deferrals, reports, status, cache list)
 *	make JSON lines, the contract scripts rely on (DESIGN.md).  As ip,
 *	systemctl and docker do, they print those lines unchanged when
 *	standard output is not a terminal or --json is given, and an
 *	aligned table for a person at a terminal.  A table is made from
 *	the same JSON lines, so both forms always say the same thing.
 *
 *	Columns name a member by a dotted path ("sessions.success"); an
 *	array along the path gives every element's value, joined with ","
 *	("destinations.state").  A missing or null value shows as "-".
 *	With cols NULL, each line is one object shown as KEY VALUE rows,
 *	nested members flattened to dotted keys (stsctl status).
 *
 *	stsctl_table_cell() and stsctl_table_render() are the pure parts
 *	(tests/unit/test_stsctl_table.c).
 */
#ifndef STSCTL_TABLE_H
#define STSCTL_TABLE_H

#include <json-c/json.h>

#include "buf.h"

struct stsctl_col {
	const char	*title;
	const char	*path;
};

struct stsctl_table;

/* stsctl_out_setup - drop every "--json" from argv[1..]; the new argc */
int		 stsctl_out_setup(int argc, char **argv);
/* stsctl_out_table - 1 when output is for a person (a table) */
int		 stsctl_out_table(void);

struct stsctl_table *stsctl_table_new(const struct stsctl_col *cols);
/* stsctl_table_line - print json (scripts) or keep it as rows (a person) */
void		 stsctl_table_line(struct stsctl_table *, const char *json);
/* stsctl_table_end - print the table, free it; EX_OK or EX_IOERR */
int		 stsctl_table_end(struct stsctl_table *);

/* stsctl_table_cell - the text of path in o ("-" for none) */
void		 stsctl_table_cell(struct json_object *o, const char *path,
		    struct buf *out);
/* stsctl_table_render - rows of ncols cells each (row 0: the titles),
 * padded to aligned columns, two spaces apart, the last not padded */
void		 stsctl_table_render(char *const *cells, size_t nrows,
		    size_t ncols, struct buf *out);

#endif
