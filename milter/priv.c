/*
 * priv.c - least privilege: socket ownership and the drop (see priv.h)
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lex.h"
#include "log.h"
#include "priv.h"
#include "sockspec.h"
#include "statedir.h"
#include "xmalloc.h"

/* id_of - a numeric id, or -1 */
static long
id_of(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && v >= 0 ? v : -1;
}

enum status
priv_sock_conf(const struct conf *c, const struct passwd *pw,
    struct priv_sock *ps, struct buf *why)
{
	const struct passwd	*o;
	const struct group	*gr;

	ps->uid = pw != NULL ? pw->pw_uid : (uid_t)-1;
	ps->gid = pw != NULL ? pw->pw_gid : (gid_t)-1;
	ps->mode = (mode_t)c->socket_mode;
	ps->named = c->socket_owner[0] != '\0' || c->socket_group[0] != '\0';
	if (c->socket_owner[0] != '\0') {
		if ((o = getpwnam(c->socket_owner)) != NULL)
			ps->uid = o->pw_uid;
		else if (id_of(c->socket_owner) >= 0)
			ps->uid = (uid_t)id_of(c->socket_owner);
		else {
			whyf(why, "socket_owner %s: no such user",
			    c->socket_owner);
			return ST_INVALID;
		}
	}
	if (c->socket_group[0] != '\0') {
		if ((gr = getgrnam(c->socket_group)) != NULL)
			ps->gid = gr->gr_gid;
		else if (id_of(c->socket_group) >= 0)
			ps->gid = (gid_t)id_of(c->socket_group);
		else {
			whyf(why, "socket_group %s: no such group",
			    c->socket_group);
			return ST_INVALID;
		}
	}
	return ST_OK;
}

/* apply_one - priv_sock_apply() for one socket specification */
static int
apply_one(const struct priv_sock *ps, const char *spec, struct buf *why)
{
	struct sockspec	ss;
	struct stat	st;

	if (sockspec_parse(spec, &ss, NULL) != ST_OK ||
	    ss.kind != SOCKSPEC_UNIX)
		return 0;
	/* a socket we have just bound: not a link someone planted */
	if (lstat(ss.path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		whyf(why, "%s: not a socket", ss.path);
		return -1;
	}
	/* the owner and group first: chmod() after chown() (a chown by
	 * root keeps the mode, by others it may clear bits) */
	if ((ps->uid != (uid_t)-1 && ps->uid != st.st_uid) ||
	    (ps->gid != (gid_t)-1 && ps->gid != st.st_gid)) {
		if (fchownat(AT_FDCWD, ss.path, ps->uid, ps->gid,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			whyf(why, "%s: cannot give it to uid %ld gid %ld "
			    "(socket_owner, socket_group; a daemon that does "
			    "not start as root can only choose among its own "
			    "groups): %s", ss.path, (long)(int)ps->uid,
			    (long)(int)ps->gid, strerror(errno));
			return -1;
		}
	}
	if (chmod(ss.path, ps->mode) != 0) {
		whyf(why, "%s: socket_mode %04o: %s", ss.path,
		    (unsigned)ps->mode, strerror(errno));
		return -1;
	}
	return 0;
}

int
priv_sock_apply(const struct priv_sock *ps, const char *spec,
    struct buf *why)
{
	char	*copy = xstrdup(spec), *tok, *save = NULL;
	int	 rc = 0;

	/* a listener may name several sockets (pmap_listen.h) */
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " \t,", &save))
		rc = apply_one(ps, tok, why);
	free(copy);
	return rc;
}

/* own_state_dirs - every directory the daemon and the reporter write in
 * belongs to pw (an earlier root run may have made them root's) */
static void
own_state_dirs(const struct passwd *pw, const char *state_dir)
{
	const char *const	*sub = statedir_dirs;
	int			 i;

	for (i = 0; sub[i] != NULL; i++) {
		char	*dir = xasprintf("%s%s", state_dir, sub[i]);

		/* state_dir is root's choice (it may be a link); inside it
		 * the user could plant a symlink: not followed */
		(void)fchownat(AT_FDCWD, dir, pw->pw_uid, pw->pw_gid,
		    i == 0 ? 0 : AT_SYMLINK_NOFOLLOW);
		free(dir);
	}
}

/* close_state_dir - journal, policies and reports are no one else's:
 * state_dir loses its bits for others (the group keeps what it has) */
static void
close_state_dir(const char *state_dir)
{
	struct stat	st;

	if (stat(state_dir, &st) != 0 || (st.st_mode & 07) == 0)
		return;
	if (chmod(state_dir, st.st_mode & 07770) == 0)
		log_info("state_dir %s: access for others removed (mode "
		    "%04o)", state_dir, (unsigned)(st.st_mode & 07770));
	else
		log_warn("state_dir %s: mode %04o lets others in, and "
		    "chmod failed", state_dir, (unsigned)(st.st_mode & 07777));
}

int
priv_can_become(const struct passwd *pw, struct buf *why)
{
	if (pw == NULL || geteuid() == 0 ||
	    (getuid() == pw->pw_uid && geteuid() == pw->pw_uid))
		return 0;
	whyf(why, "started as uid %ld, neither root nor user %s (uid %ld)",
	    (long)geteuid(), pw->pw_name, (long)pw->pw_uid);
	return -1;
}

int
priv_drop(const struct passwd *pw, const char *state_dir, struct buf *why)
{
	if (pw == NULL) {
		if (geteuid() == 0)
			log_warnx("running as root: set user = (the package "
			    "makes sts-milter) to drop privileges");
		close_state_dir(state_dir);
		return 0;
	}
	if (geteuid() != 0) {
		/* started as the user (systemd's User=): nothing to drop */
		if (priv_can_become(pw, why) != 0)
			return -1;
		close_state_dir(state_dir);
		return 0;
	}
	own_state_dirs(pw, state_dir);
	close_state_dir(state_dir);
	/* initgroups: the user's groups too (e.g. adm, to read the mail
	 * log for postfix_log) */
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		whyf(why, "dropping privileges to %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	/* no way back: setuid-root and file capabilities mean nothing to
	 * us or anything we might run */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
