/*
 * fake_milter.h - the libmilter calls of a filter session, for unit tests
 *
 * tests/fakes/fake_milter.c defines the five libmilter functions the
 * callbacks in milter/mlfi.c use (smfi_getpriv, smfi_setpriv,
 * smfi_getsymval, smfi_setreply, smfi_setsymlist) over a context the
 * test makes.  Unit tests do not link libmilter, so these replace it
 * at link time, like the DNS, HTTP, clock and probe fakes; a test
 * drives the callbacks through mlfi_desc as libmilter would.
 */
#ifndef FAKE_MILTER_H
#define FAKE_MILTER_H

#include <libmilter/mfapi.h>

SMFICTX		*fake_milter_new(void);
void		 fake_milter_free(SMFICTX *);
/* fake_milter_macro - what smfi_getsymval() answers for name ("i" and
 * "{i}" are one name); value NULL removes it */
void		 fake_milter_macro(SMFICTX *, const char *name,
		    const char *value);
/* fake_milter_reply - "rcode xcode text" of the last smfi_setreply(),
 * or NULL; fake_milter_clear() forgets it */
const char	*fake_milter_reply(SMFICTX *);
int		 fake_milter_nreplies(SMFICTX *);
void		 fake_milter_clear(SMFICTX *);
/* fake_milter_symlist - what smfi_setsymlist() asked for at stage */
const char	*fake_milter_symlist(SMFICTX *, int stage);

#endif
