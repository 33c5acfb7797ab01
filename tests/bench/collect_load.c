/*
 * collect_load.c - load for the collectors' benchmark (collect.sh)
 *
 * SYNOPSIS
 *	collect_load dgram SOCKET N	N libtlsrpt datagrams, each from a
 *					fresh socket with MSG_DONTWAIT, as
 *					Postfix sends them (EAGAIN: wait
 *					and resend; counted)
 *	collect_load log FILE N		append N Postfix 3.7 smtp(8) log
 *					lines (N/2 sessions) in 64 KB writes
 *
 * Prints one line: "sent=N seconds=S rate=R eagain=E".
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_time.h"

static const char dgram[] =
    "{\"dpv\": \"1\",\"d\": \"enforce.test\",\"pr\": \"v=TLSRPTv1; "
    "rua=mailto:tlsrpt@reports.test\",\"policies\":[{\"policy-type\":2,"
    "\"policy-domain\": \"enforce.test\",\"policy-string\":[\"version: "
    "STSv1\",\"mode: enforce\",\"mx: mx1.enforce.test\",\"mx: "
    "mx2.enforce.test\",\"max_age: 86400\"],\"mx-host\":"
    "[\"mx1.enforce.test\",\"mx2.enforce.test\"],\"t\":0,\"f\":0}]}";

int
main(int argc, char **argv)
{
	long			n, i, eagain = 0;
	double			t0, t;
	struct sockaddr_un	sun;

	if (argc != 4 || (n = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: collect_load dgram|log PATH N\n");
		return 2;
	}
	t0 = bench_time_s();
	if (strcmp(argv[1], "dgram") == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[2]);
		for (i = 0; i < n; i++) {
			for (;;) {
				int	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
				ssize_t	k = sendto(fd, dgram, sizeof(dgram) - 1,
				    MSG_DONTWAIT, (struct sockaddr *)&sun,
				    sizeof(sun));
				int	e = errno;

				close(fd);
				if (k == (ssize_t)sizeof(dgram) - 1)
					break;
				if (e != EAGAIN) {
					perror("sendto");
					return 1;
				}
				eagain++;
				usleep(100);
			}
		}
	} else if (strcmp(argv[1], "log") == 0) {
		char	*b = malloc(1 << 16), line[512];
		size_t	 used = 0, l;
		int	 fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);

		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		for (i = 0; i < n; i++) {
			long pid = 1000 + (i / 2) % 5000;

			if (i % 2 == 0)
				l = (size_t)snprintf(line, sizeof(line),
				    "Nov 30 14:48:01 bench postfix/smtp[%ld]: "
				    "Verified TLS connection established to "
				    "mx1.enforce.test[127.0.1.1]:25: TLSv1.3 "
				    "with cipher TLS_AES_256_GCM_SHA384 "
				    "(256/256 bits)\n", pid);
			else
				l = (size_t)snprintf(line, sizeof(line),
				    "Nov 30 14:48:01 bench postfix/smtp[%ld]: "
				    "4B%08lXA: to=<u%ld@enforce.test>, relay="
				    "mx1.enforce.test[127.0.1.1]:25, delay=0.1, "
				    "dsn=2.0.0, status=sent (250 2.0.0 Ok)\n",
				    pid, i, i);
			if (used + l > (1 << 16)) {
				if (write(fd, b, used) != (ssize_t)used)
					return 1;
				used = 0;
			}
			memcpy(b + used, line, l);
			used += l;
		}
		if (used > 0 && write(fd, b, used) != (ssize_t)used)
			return 1;
		close(fd);
		free(b);
	} else {
		fprintf(stderr, "collect_load: dgram or log\n");
		return 2;
	}
	t = bench_time_s() - t0;
	printf("sent=%ld seconds=%.2f rate=%.0f eagain=%ld\n", n, t,
	    (double)n / t, eagain);
	return 0;
}
