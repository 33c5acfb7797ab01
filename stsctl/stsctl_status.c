/*
 * stsctl_status.c - "stsctl status": is the daemon running, and what it
 * has counted since it started (<state_dir>/status.json, statusfile.h)
 *
 * Prints the daemon's status object with two fields added: "running"
 * (the pid is alive, the file is not older than three intervals and
 * not written at stop) and "age" (seconds since it was written).
 * Exit 0 running, 69 (EX_UNAVAILABLE) not running or no status yet,
 * 74/77 the file cannot be read, 65 it is not a status object.
 */
#include <json-c/json.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "conf.h"
#include "stsctl.h"
#include "xmalloc.h"

static long long
get_num(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

int
stsctl_cmd_status(int argc, char **argv)
{
	struct conf	*c = stsctl_conf();
	char		*path;
	json_object	*o;
	long long	 pid, written, interval, age;
	int		 running, e;
	FILE		*f;

	if (argc != 1) {
		fprintf(stderr, "usage: stsctl status\n");
		return EX_USAGE;
	}
	path = xasprintf("%s/status.json", c->state_dir);
	if ((f = fopen(path, "r")) == NULL) {
		e = errno;
		fprintf(stderr, "stsctl: %s: %s%s\n", path, strerror(e),
		    e == ENOENT ? " (sts-milter has not run with this "
		    "state_dir)" : "");
		free(path);
		return e == ENOENT ? EX_UNAVAILABLE : e == EACCES ?
		    EX_NOPERM : EX_IOERR;
	}
	fclose(f);
	o = json_object_from_file(path);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    (pid = get_num(o, "pid")) <= 0 ||
	    (written = get_num(o, "written")) < 0 ||
	    (interval = get_num(o, "interval")) <= 0) {
		fprintf(stderr, "stsctl: %s: not a status file\n", path);
		json_object_put(o);
		free(path);
		return EX_DATAERR;
	}
	age = (long long)clock_now() - written;
	running = get_num(o, "stopped") < 0 && age <= 3 * interval &&
	    (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "age", json_object_new_int64(age));
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!running)
		fprintf(stderr, "stsctl: sts-milter is not running (pid %lld; "
		    "status written %lld s ago%s)\n", pid, age,
		    get_num(o, "stopped") >= 0 ? " at its stop" : "");
	json_object_put(o);
	free(path);
	return running ? EX_OK : EX_UNAVAILABLE;
}
