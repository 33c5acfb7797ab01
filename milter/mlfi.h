/*
 * mlfi.h - the libmilter callbacks of sts-milter
 *
 * mlfi_init() gives the callbacks their gate and settings; mlfi_desc is
 * what main.c registers.  mlfi_set_conf() swaps the settings snapshot
 * (SIGHUP); the old one stays valid until the swap returns.
 */
#ifndef MLFI_H
#define MLFI_H

#include <libmilter/mfapi.h>

#include "conf.h"
#include "gate.h"

extern struct smfiDesc	mlfi_desc;

void	mlfi_init(struct gate *, const struct conf *);
void	mlfi_set_conf(const struct conf *);
/* mlfi_rcpt_addr - the address of a MAIL or RCPT argument ("<a@b> ..." or
 * "a@b"), without brackets, cut to size */
void	mlfi_rcpt_addr(const char *arg, char *out, size_t size);
/* mlfi_rcpt_domain - the policy domain of a recipient address, as an
 * A-label (STS-PD-1, STS-PD-5); -1 for address literals, local parts
 * only and invalid domains */
int	mlfi_rcpt_domain(const char *rcpt, char *domain, size_t size);

#endif
