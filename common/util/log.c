/*
 * log.c - syslog or stderr, one line per event
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int	log_foreground = 1;
static int	log_verbose;
static int	log_opened;

int
log_facility(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t	i;

	for (i = 0; name != NULL && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(name, tab[i].n) == 0)
			return tab[i].f;
	return -1;
}

void
log_init(const char *ident, int facility, int foreground)
{
	log_foreground = foreground;
	if (!foreground) {
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
		log_opened = 1;
	}
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

int
log_enabled(enum log_level level)
{
	return (int)level <= log_verbose;
}

/* vlog - format once, send to syslog or stderr */
static void __attribute__((__format__(__printf__, 3, 0)))
vlog(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char		 msg[2048];
	unsigned char	*p;
	int		 saved_errno = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One record, one line: a CR, LF or other control byte that came
	 * from a peer (an address, a key, a policy's text) could otherwise
	 * forge log lines, which the mail-log collectors read back. */
	for (p = (unsigned char *)msg; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			*p = '?';
	if (log_foreground || !log_opened) {
		char	line[2304];
		int	n;

		/* One write(2), no stdio lock: lines never interleave. */
		n = snprintf(line, sizeof(line), "%s%s%s\n", msg,
		    errstr ? ": " : "", errstr ? errstr : "");
		if (n >= (int)sizeof(line)) {
			n = (int)sizeof(line);
			line[n - 1] = '\n';
		}
		if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
			errno = saved_errno;
	} else
		syslog(pri, "%s%s%s", msg, errstr ? ": " : "",
		    errstr ? errstr : "");
	errno = saved_errno;
}

#define LOGFN(name, pri, witherr)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	ap;							\
	const char *e = witherr ? strerror(errno) : NULL;		\
									\
	va_start(ap, fmt);						\
	vlog(pri, e, fmt, ap);						\
	va_end(ap);							\
}

LOGFN(log_err, LOG_ERR, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_notice, LOG_NOTICE, 0)
LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)

void
log_debug(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_CRIT, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_printable(char *dst, size_t n, const char *s)
{
	size_t	i;

	if (n == 0)
		return dst;
	for (i = 0; i + 1 < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c >= 0x7f || c == '"') ? '?' : (char)c;
	}
	dst[i] = '\0';
	return dst;
}
