/*
 * status.h - one status type for the whole project
 *
 * ST_NOTFOUND is an authoritative absence (NXDOMAIN, NODATA, no record);
 * ST_TEMPFAIL means try later (timeout, SERVFAIL, connect error);
 * ST_INVALID means the remote data exists but is malformed;
 * ST_INTERNAL is our own fault or a limit we chose.
 */
#ifndef STATUS_H
#define STATUS_H

enum status {
	ST_OK = 0,
	ST_NOTFOUND,
	ST_TEMPFAIL,
	ST_INVALID,
	ST_INTERNAL
};

const char	*status_str(enum status);

#endif
