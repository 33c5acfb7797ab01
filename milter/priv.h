/*
 * priv.h - least privilege: who owns the sockets, and the drop to user
 *
 * The daemon starts as root (it opens its sockets, pid file and state
 * directories, then drops to the configured user) or already as that
 * user (a service manager's User=, which also sets up /run/sts-milter
 * and state_dir): either way it serves with no root privilege and no
 * capability (setresuid() from root to another user clears the
 * permitted and effective sets; nothing asks to keep them).
 *
 * unix: sockets (milter, policy map, datagrams) get socket_owner,
 * socket_group and socket_mode (default: user, user's primary group,
 * 0660), so only the MTA's user (a member of that group) and ours can
 * connect.  They are bound with umask 0177 and widened afterwards, so
 * there is no moment when anyone else could connect.
 */
#ifndef PRIV_H
#define PRIV_H

#include <sys/types.h>

#include <pwd.h>

#include "buf.h"
#include "conf.h"
#include "status.h"

#define PRIV_SOCKET_UMASK	0177	/* bind: owner only, then widen */

struct priv_sock {
	uid_t	uid;		/* (uid_t)-1: leave the owner */
	gid_t	gid;		/* (gid_t)-1: leave the group */
	mode_t	mode;
	int	named;		/* socket_owner or socket_group was set */
};

/* priv_sock_conf - the ownership of sockets from c and the user pw (NULL:
 * none); ST_INVALID with why for an unknown socket_owner or socket_group */
enum status	priv_sock_conf(const struct conf *c, const struct passwd *pw,
		    struct priv_sock *ps, struct buf *why);
/* priv_sock_apply - owner, group and mode of each unix:/path socket in
 * spec (one, or several separated by blanks or commas as pmap_listen
 * takes them; others: nothing to do); -1 with why when one failed */
int		priv_sock_apply(const struct priv_sock *ps, const char *spec,
		    struct buf *why);
/* priv_can_become - 0 when we are root, or pw already (or pw is NULL);
 * -1 with why otherwise (checked before any socket is made) */
int		priv_can_become(const struct passwd *pw, struct buf *why);
/* priv_drop - become pw (state_dir's directories made its own first, and
 * state_dir closed to others); nothing when pw is NULL, or when we run as
 * pw already; -1 with why when we are neither root nor pw, or a step
 * failed */
int		priv_drop(const struct passwd *pw, const char *state_dir,
		    struct buf *why);

#endif
