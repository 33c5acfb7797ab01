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
/*
 * Debug levels: log_level in the configuration; each includes those
 * below it.  Level 0 logs decisions, warnings and errors only.
 */
enum log_level {
	LOG_LEVEL_DECISIONS = 0,
	LOG_LEVEL_EVENTS = 1,	/* each probe, journaled session, fetch trouble */
	LOG_LEVEL_LOOKUPS = 2,	/* each policy-map answer */
	LOG_LEVEL_TRACE = 3	/* more detail where a module has it */
};

void	log_setverbose(int);
int	log_getverbose(void);
/* log_enabled - 1 if log_debug(level, ...) writes; one load, no call
 * cost worth guarding a hot path against */
int	log_enabled(enum log_level);
void	log_err(const char *, ...) PRINTFLIKE(1, 2);	/* LOG_ERR, no errno */
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_notice(const char *, ...) PRINTFLIKE(1, 2);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(enum log_level, const char *, ...) PRINTFLIKE(2, 3);
void	fatal(const char *, ...) PRINTFLIKE(1, 2) __attribute__((__noreturn__));
void	fatalx(const char *, ...) PRINTFLIKE(1, 2) __attribute__((__noreturn__));

/* log_printable - copy s into dst (size n), quoting-safe: non-printables
 * become '?', at most n-1 bytes; returns dst */
char	*log_printable(char *dst, size_t n, const char *s);

#endif
