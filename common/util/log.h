/*
 * log.h - the one place that decides where a message goes
 *
 * Syslog (facility LOG_MAIL by default, ident = program name) or, in
 * foreground mode, stderr.  Thread-safe.  log_warn/fatal append
 * ": strerror(errno)"; the x variants do not.
 */
#ifndef LOG_H
#define LOG_H

#define PRINTFLIKE(a, b) __attribute__((__format__(__printf__, a, b)))

void	log_init(const char *ident, int facility, int foreground);
/* log_facility - the syslog facility a name ("mail", "local0") names; -1 */
int	log_facility(const char *name);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_err(const char *, ...) PRINTFLIKE(1, 2);	/* LOG_ERR, no errno */
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_notice(const char *, ...) PRINTFLIKE(1, 2);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(int, const char *, ...) PRINTFLIKE(2, 3);
void	fatal(const char *, ...) PRINTFLIKE(1, 2) __attribute__((__noreturn__));
void	fatalx(const char *, ...) PRINTFLIKE(1, 2) __attribute__((__noreturn__));

/* log_printable - copy s into dst (size n), quoting-safe: non-printables
 * become '?', at most n-1 bytes; returns dst */
char	*log_printable(char *dst, size_t n, const char *s);

#endif
