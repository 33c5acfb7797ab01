/*
 * test_log.c - the one place that logs (common/util/log.c): one record is
 * one line, whatever bytes a peer put into it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

/* logged - what log_warnx(fmt, arg) writes to stderr */
static void
logged(const char *arg, char *out, size_t size)
{
	int	p[2], saved = dup(STDERR_FILENO);
	ssize_t	n;

	if (pipe(p) != 0 || saved < 0)
		abort();
	dup2(p[1], STDERR_FILENO);
	log_warnx("rcpt=<%s>", arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

static void
test_log_one_line(void)
{
	static const struct {
		const char	*arg, *want;
	} t[] = {
		{ "a@b.example", "rcpt=<a@b.example>\n" },
		/* a forged second record */
		{ "x>\nDec  6 05:05:33 mx postfix/smtp[1]: to=<y",
		  "rcpt=<x>?Dec  6 05:05:33 mx postfix/smtp[1]: to=<y>\n" },
		{ "a\rb\x1b[31mc\x7f", "rcpt=<a?b?[31mc?>\n" },
		{ "tab\there", "rcpt=<tab\there>\n" },
		{ "utf-8 b\xc3\xbc" "cher", "rcpt=<utf-8 b\xc3\xbc" "cher>\n" },
	};
	char	out[256];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		logged(t[i].arg, out, sizeof(out));
		CHECK_STR(out, t[i].want);
	}
}

int
main(void)
{
	log_init("test_log", 0, 1);
	RUN(test_log_one_line);
	return harness_done("test_log");
}
