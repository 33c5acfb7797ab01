/*
 * stsctl_status.c - "stsctl status": is the daemon running, and what it
 * has counted since it started (<state_dir>/status.json, statusfile.h)
 *
 * Prints the daemon's status object with two fields added: "running"
 * (the pid is alive, the file is not older than three intervals and
 * not written at stop) and "age" (seconds since it was written); with
 * postfix_log followed, "postfix_log"."format": the mail log's header
 * format ("bsd", "rfc3339", "rfc5424": the one of most lines; "other"
 * when none of them; "none" before the first line).
 * Exit 0 running, 69 (EX_UNAVAILABLE) not running or no status yet,
 * 74/77 the file cannot be read, 65 it is not a status object.
 */
#include <json-c/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "conf.h"
#include "statedir.h"
#include "statusfile.h"
#include "stsctl.h"
#include "stsctl_table.h"

static unsigned long long
num(json_object *o, const char *key)
{
	json_object	*v;

	return json_object_object_get_ex(o, key, &v) ?
	    (unsigned long long)json_object_get_int64(v) : 0;
}

/* print_status - the status object, postfix_log.format added */
static void
print_status(struct stsctl_table *t, const char *json)
{
	static const char *const fmts[] = { "bsd", "rfc3339", "rfc5424" };
	json_object	*o = json_tokener_parse(json), *pl;
	const char	*best = "none";
	unsigned long long most = 0, n;
	char		 key[32];
	size_t		 i;

	if (o == NULL || !json_object_object_get_ex(o, "postfix_log", &pl)) {
		stsctl_table_line(t, json);
		json_object_put(o);
		return;
	}
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		snprintf(key, sizeof(key), "lines_%s", fmts[i]);
		if ((n = num(pl, key)) > most) {
			most = n;
			best = fmts[i];
		}
	}
	if (most == 0 && num(pl, "lines_other") > 0)
		best = "other";
	json_object_object_add(pl, "format", json_object_new_string(best));
	stsctl_table_line(t, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
stsctl_cmd_status(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct statusfile_info	 in;
	struct buf		 json = BUF_INIT;
	struct stsctl_table	*t;
	char			*path;
	int			 rc, e;

	if (argc != 1) {
		fprintf(stderr, "usage: stsctl status\n");
		return EX_USAGE;
	}
	path = statedir_status(c->state_dir);
	switch (statusfile_read(c->state_dir, clock_now(), &in, &json)) {
	case ST_OK:
		t = stsctl_table_new(NULL);	/* KEY VALUE for a person */
		print_status(t, buf_str(&json));
		(void)stsctl_table_end(t);
		if (!in.running)
			fprintf(stderr, "stsctl: sts-milter is not running "
			    "(pid %ld; status written %lld s ago%s)\n", in.pid,
			    in.age, in.stopped >= 0 ? " at its stop" : "");
		rc = in.running ? EX_OK : EX_UNAVAILABLE;
		break;
	case ST_NOTFOUND:
		fprintf(stderr, "stsctl: %s: %s (sts-milter has not run with "
		    "this state_dir)\n", path, strerror(ENOENT));
		rc = EX_UNAVAILABLE;
		break;
	case ST_INVALID:
		fprintf(stderr, "stsctl: %s: not a status file\n", path);
		rc = EX_DATAERR;
		break;
	default:
		e = errno;
		fprintf(stderr, "stsctl: %s: %s\n", path, strerror(e));
		rc = e == EACCES ? EX_NOPERM : EX_IOERR;
		break;
	}
	buf_free(&json);
	free(path);
	return rc;
}
