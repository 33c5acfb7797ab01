/*
 * status.c - names of the project-wide status codes
 */
#include "status.h"

/* status_str - a stable, lower-case name for a status */
const char *
status_str(enum status st)
{
	switch (st) {
	case ST_OK:
		return "ok";
	case ST_NOTFOUND:
		return "notfound";
	case ST_TEMPFAIL:
		return "tempfail";
	case ST_INVALID:
		return "invalid";
	case ST_INTERNAL:
		return "internal";
	}
	return "unknown";
}
