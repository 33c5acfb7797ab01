/*
 * fake_mx.h - an MX for test_tls_probe: a one-connection SMTP server
 * with STARTTLS on a loopback port, run in a thread, and the
 * certificates it serves, made at run time with the openssl command
 *
 * fake_mx_certs() makes a root (the only trust anchor the probe gets),
 * a second root, an intermediate the server sends, and good and bad
 * leaves in a mkdtemp() directory (fake_mx_dir()); each chain file
 * (good.chain, expired.chain, ...) is the leaf and what the server
 * sends with it.  A server serves one connection the way its mode
 * says, records what the client sent, and stops.
 */
#ifndef FAKE_MX_H
#define FAKE_MX_H

#include <pthread.h>
#include <stdint.h>

enum fake_mx_mode {
	SRV_NORMAL,		/* 220, EHLO, STARTTLS, TLS, QUIT */
	SRV_SILENT,		/* accept, never speak */
	SRV_GARBAGE,		/* a greeting that is not SMTP */
	SRV_421,		/* 421 greeting */
	SRV_FLOOD_LINE,		/* 10 MB greeting without a newline */
	SRV_FLOOD_LINES,	/* 10 MB of "220-" lines */
	SRV_DRIP,		/* greeting one byte per 100 ms */
	SRV_EHLO_502,		/* EHLO not implemented */
	SRV_STARTTLS_454,	/* STARTTLS refused */
	SRV_NOT_TLS,		/* 220 to STARTTLS, then plain text */
	SRV_JUNK_AFTER_220,	/* 220 to STARTTLS and more, then TLS */
	SRV_CLOSE_AT_TLS,	/* 220 to STARTTLS, then close */
	SRV_TLS11		/* TLS 1.1 at most */
};

struct fake_mx {
	enum fake_mx_mode	 mode;
	const char	*chain;		/* certificate chain file */
	int		 starttls;	/* 0: not offered; 2: lower case */
	int		 lfd;
	int		 port;
	pthread_t	 th;
	char		 ehlo[1024];	/* the client's EHLO line */
	char		 sni[256];	/* the client's SNI */
	int		 got_quit;
};

/* fake_mx_certs - make the directory and the certificates: 1 when made,
 * 0 without an openssl command, -1 on failure (fake_mx_dir()/log says
 * why); fake_mx_cleanup() removes the directory */
int		 fake_mx_certs(void);
const char	*fake_mx_dir(void);
void		 fake_mx_cleanup(void);
/* fake_mx_listen - a loopback socket on an ephemeral port; backlog < 0:
 * bound, not listening */
int		 fake_mx_listen(int family, int backlog, int *port);
/* fake_mx_start, fake_mx_stop - serve one connection in a thread */
int		 fake_mx_start(struct fake_mx *, int family);
void		 fake_mx_stop(struct fake_mx *);
int64_t		 fake_mx_now_ms(void);

#endif
