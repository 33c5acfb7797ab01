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

int
stsctl_cmd_status(int argc, char **argv)
{
	struct conf		*c = stsctl_conf();
	struct statusfile_info	 in;
	struct buf		 json = BUF_INIT;
	char			*path;
	int			 rc, e;

	if (argc != 1) {
		fprintf(stderr, "usage: stsctl status\n");
		return EX_USAGE;
	}
	path = statedir_status(c->state_dir);
	switch (statusfile_read(c->state_dir, clock_now(), &in, &json)) {
	case ST_OK:
		printf("%s\n", buf_str(&json));
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
