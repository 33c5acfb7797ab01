/*
 * fake_mx.c - an MX for test_tls_probe: a one-connection SMTP server
 * with STARTTLS, and the certificates it serves (see fake_mx.h)
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fake_mx.h"

static char	dir[64];		/* certificates live here */

/* ---- certificates -------------------------------------------------- */

static const char ext_cnf[] =
    "[ca]\n"
    "default_ca = ca_int\n"
    "[ca_int]\n"
    "database = index.txt\n"
    "new_certs_dir = newcerts\n"
    "serial = ca.serial\n"
    "default_md = sha256\n"
    "policy = pol_any\n"
    "unique_subject = no\n"
    "copy_extensions = none\n"
    "[pol_any]\n"
    "commonName = supplied\n"
    "[ca_ext]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid\n"
    "[leaf_good]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:mx.good.test\n"
    "[leaf_other]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:other.test\n"
    "[leaf_cnonly]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "[leaf_wild]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:*.wild.test\n"
    "[leaf_partial]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:mx*.good.test\n";

/* sh - run a shell command in dir, quietly; 0 on success */
static int __attribute__((__format__(__printf__, 1, 2)))
sh(const char *fmt, ...)
{
	char	cmd[2048];
	int	n;
	va_list	ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - n, ") >>log 2>&1");
	if (system(cmd) != 0) {
		fprintf(stderr, "command failed: %s (see %s/log)\n", cmd, dir);
		return -1;
	}
	return 0;
}

/* leaf - sign leaf.csr with ext section ext into name.pem (30 days) */
static int
leaf(const char *name, const char *ca, const char *ext)
{
	return sh("openssl x509 -req -in leaf.csr -CA %s.pem -CAkey %s.key"
	    " -CAcreateserial -days 30 -sha256 -extfile ext.cnf"
	    " -extensions %s -out %s.pem", ca, ca, ext, name);
}

/* leaf_dated - sign leaf.csr by the intermediate with fixed dates */
static int
leaf_dated(const char *name, const char *ext, const char *from,
    const char *to)
{
	return sh("openssl ca -batch -config ext.cnf -cert int.pem"
	    " -keyfile int.key -in leaf.csr -startdate %s -enddate %s"
	    " -extensions %s -notext -out %s.pem", from, to, ext, name);
}

static int
make_certs(void)
{
	FILE	*f;
	char	 path[128];

	snprintf(path, sizeof(path), "%s/ext.cnf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(ext_cnf, f);
	fclose(f);
	if (sh("mkdir newcerts && : >index.txt && echo 01 >ca.serial") ||
	    sh("for k in root root2 int leaf; do openssl genpkey"
	    " -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key"
	    " || exit 1; done") ||
	    sh("openssl req -x509 -new -key root.key -sha256 -days 30"
	    " -subj '/CN=Test Root' -addext"
	    " 'basicConstraints=critical,CA:TRUE' -addext"
	    " 'keyUsage=critical,keyCertSign,cRLSign' -out root.pem") ||
	    sh("openssl req -x509 -new -key root2.key -sha256 -days 30"
	    " -subj '/CN=Other Root' -addext"
	    " 'basicConstraints=critical,CA:TRUE' -addext"
	    " 'keyUsage=critical,keyCertSign,cRLSign' -out root2.pem") ||
	    sh("openssl req -new -key int.key -subj '/CN=Test Intermediate'"
	    " -out int.csr") ||
	    sh("openssl x509 -req -in int.csr -CA root.pem -CAkey root.key"
	    " -CAcreateserial -days 30 -sha256 -extfile ext.cnf"
	    " -extensions ca_ext -out int.pem") ||
	    sh("openssl req -new -key leaf.key -subj '/CN=mx.good.test'"
	    " -out leaf.csr") ||
	    leaf("good", "int", "leaf_good") ||
	    leaf("other", "int", "leaf_other") ||
	    leaf("cnonly", "int", "leaf_cnonly") ||
	    leaf("wild", "int", "leaf_wild") ||
	    leaf("partial", "int", "leaf_partial") ||
	    leaf("untrusted", "root2", "leaf_good") ||
	    leaf("untrusted_other", "root2", "leaf_other") ||
	    leaf_dated("expired", "leaf_good", "20200101000000Z",
	    "20200201000000Z") ||
	    leaf_dated("future", "leaf_good", "20900101000000Z",
	    "20910101000000Z") ||
	    leaf_dated("expired_other", "leaf_other", "20200101000000Z",
	    "20200201000000Z") ||
	    sh("openssl req -x509 -new -key leaf.key -sha256 -days 30"
	    " -subj '/CN=mx.good.test' -addext"
	    " 'subjectAltName=DNS:mx.good.test' -out self.pem") ||
	    sh("for c in good other cnonly wild partial expired future"
	    " expired_other; do cat $c.pem int.pem >$c.chain; done") ||
	    sh("for c in untrusted untrusted_other; do"
	    " cat $c.pem root2.pem >$c.chain; done"))
		return -1;
	return 0;
}

/* ---- the SMTP server ----------------------------------------------- */

int64_t
fake_mx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
say(int fd, const char *s)
{
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* plain_line - read a line a byte at a time (never past it) */
static int
plain_line(int fd, char *line, size_t size)
{
	size_t	n = 0;
	char	ch;

	while (recv(fd, &ch, 1, 0) == 1) {
		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = ch;
	}
	return -1;
}

static int
tls_line(SSL *ssl, char *line, size_t size)
{
	size_t	n = 0;
	char	ch;

	while (SSL_read(ssl, &ch, 1) == 1) {
		if (ch == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 0;
		}
		if (n + 1 < size)
			line[n++] = ch;
	}
	return -1;
}

static void
serve_tls(struct fake_mx *s, int fd)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	const char	*sni;
	char		 path[128], line[1024];

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, s->chain);
	SSL_CTX_use_certificate_chain_file(ctx, path);
	snprintf(path, sizeof(path), "%s/leaf.key", dir);
	SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM);
	if (s->mode == SRV_TLS11) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	}
	if ((ssl = SSL_new(ctx)) != NULL) {
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			if ((sni = SSL_get_servername(ssl,
			    TLSEXT_NAMETYPE_host_name)) != NULL)
				snprintf(s->sni, sizeof(s->sni), "%s", sni);
			while (tls_line(ssl, line, sizeof(line)) == 0)
				if (strcasecmp(line, "QUIT") == 0) {
					s->got_quit = 1;
					SSL_write(ssl, "221 bye\r\n", 9);
					break;
				} else
					SSL_write(ssl, "502 no\r\n", 8);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

static void
serve(struct fake_mx *s, int fd)
{
	static char	chunk[65536];
	char		line[1024];
	size_t		sent, i;

	switch (s->mode) {
	case SRV_SILENT:
		(void)plain_line(fd, line, sizeof(line));	/* until EOF */
		return;
	case SRV_GARBAGE:
		say(fd, "hello, I am not an SMTP server\r\n");
		(void)plain_line(fd, line, sizeof(line));
		return;
	case SRV_421:
		say(fd, "421 4.3.2 busy, go away\r\n");
		return;
	case SRV_FLOOD_LINE:
	case SRV_FLOOD_LINES:
		if (s->mode == SRV_FLOOD_LINE)
			memset(chunk, 'A', sizeof(chunk));
		else
			for (i = 0; i + 8 <= sizeof(chunk); i += 8)
				memcpy(chunk + i, "220-xx\r\n", 8);
		say(fd, "220-");
		for (sent = 0; sent < 10 * 1024 * 1024; sent += sizeof(chunk))
			if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) !=
			    (ssize_t)sizeof(chunk))
				break;
		return;
	case SRV_DRIP:
		for (i = 0; i < 50; i++) {
			if (send(fd, "2", 1, MSG_NOSIGNAL) != 1)
				break;
			usleep(100 * 1000);
		}
		return;
	default:
		break;
	}

	say(fd, "220-mx.server.test ESMTP\r\n220 ready\r\n");
	if (plain_line(fd, line, sizeof(line)) == -1)
		return;
	snprintf(s->ehlo, sizeof(s->ehlo), "%s", line);
	if (s->mode == SRV_EHLO_502)
		say(fd, "502 5.5.2 command not recognized\r\n");
	else
		say(fd, s->starttls == 0 ?
		    "250-mx.server.test greets you\r\n250-PIPELINING\r\n"
		    "250 8BITMIME\r\n" : s->starttls == 1 ?
		    "250-mx.server.test greets you\r\n250-PIPELINING\r\n"
		    "250-STARTTLS\r\n250 8BITMIME\r\n" :
		    "250-mx.server.test greets you\r\n250-starttls\r\n"
		    "250 8BITMIME\r\n");
	while (plain_line(fd, line, sizeof(line)) == 0) {
		if (strcasecmp(line, "QUIT") == 0) {
			s->got_quit = 1;
			say(fd, "221 bye\r\n");
			return;
		}
		if (strcasecmp(line, "STARTTLS") != 0) {
			say(fd, "502 no\r\n");
			continue;
		}
		switch (s->mode) {
		case SRV_STARTTLS_454:
			say(fd, "454 4.7.0 TLS not available\r\n");
			continue;
		case SRV_NOT_TLS:
			say(fd, "220 go ahead\r\n");
			(void)recv(fd, line, sizeof(line), 0);	/* hello */
			say(fd, "this is not TLS at all, just text\r\n");
			(void)plain_line(fd, line, sizeof(line));
			return;
		case SRV_JUNK_AFTER_220:
			/* One send: the probe reads it all, must drop it. */
			say(fd, "220 go ahead\r\n250 injected\r\n");
			serve_tls(s, fd);
			return;
		case SRV_CLOSE_AT_TLS:
			say(fd, "220 go ahead\r\n");
			return;
		default:
			say(fd, "220 go ahead\r\n");
			serve_tls(s, fd);
			return;
		}
	}
}

static void *
mx_main(void *arg)
{
	struct fake_mx	*s = arg;
	struct pollfd	 pfd = { s->lfd, POLLIN, 0 };
	struct timeval	 tv = { 5, 0 };
	int		 fd;

	if (poll(&pfd, 1, 5000) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	serve(s, fd);
	close(fd);
	return NULL;
}

/* fake_mx_listen - a loopback socket on an ephemeral port */
int
fake_mx_listen(int family, int backlog, int *port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (backlog >= 0 && listen(fd, backlog) == -1) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6 ? sin6->sin6_port : sin->sin_port);
	return fd;
}

int
fake_mx_start(struct fake_mx *s, int family)
{
	if ((s->lfd = fake_mx_listen(family, 4, &s->port)) == -1)
		return -1;
	if (pthread_create(&s->th, NULL, mx_main, s) != 0) {
		close(s->lfd);
		return -1;
	}
	return 0;
}

void
fake_mx_stop(struct fake_mx *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}


const char *
fake_mx_dir(void)
{
	return dir;
}

int
fake_mx_certs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_tls_probe.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	if (system("openssl version >/dev/null 2>&1") != 0)
		return 0;
	return make_certs() == 0 ? 1 : -1;
}

void
fake_mx_cleanup(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (strncmp(dir, "/tmp/", 5) == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}
