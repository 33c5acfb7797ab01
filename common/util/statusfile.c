/*
 * statusfile.c - write and read <state_dir>/status.json (see statusfile.h)
 */
#include <json-c/json.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>

#include "fsutil.h"
#include "statedir.h"
#include "statusfile.h"

#define STATUSFILE_MAX	(64 * 1024)

#define JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void
add_num(json_object *o, const char *key, long long v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void
add_counters(json_object *o, const struct statusfile_group *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		add_num(o, g->c[i].key, (long long)g->c[i].value);
}

int
statusfile_write(const char *state_dir, const struct statusfile_head *h,
    const struct statusfile_group *g, size_t ng)
{
	json_object	*o = json_object_new_object(), *sub;
	struct buf	 b = BUF_INIT;
	char		*path;
	size_t		 i;
	int		 rc, e;

	add_num(o, "pid", h->pid);
	add_num(o, "started", (long long)h->started);
	add_num(o, "written", (long long)h->written);
	add_num(o, "interval", h->interval);
	if (h->stopped)
		add_num(o, "stopped", (long long)h->written);
	for (i = 0; i < ng; i++) {
		if (g[i].name == NULL) {
			add_counters(o, &g[i]);
			continue;
		}
		sub = json_object_new_object();
		add_counters(sub, &g[i]);
		json_object_object_add(o, g[i].name, sub);
	}
	buf_puts(&b, json_object_to_json_string_ext(o, JSON_FLAGS));
	buf_putc(&b, '\n');
	json_object_put(o);
	path = statedir_status(state_dir);
	rc = fs_write_atomic(path, b.b_data, b.b_len, 0644, FS_SYNC_NONE);
	e = errno;
	free(path);
	buf_free(&b);
	errno = e;
	return rc;
}

/* get_num - key's integer, or -1 */
static long long
get_num(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

void
statusfile_judge(struct statusfile_info *in, time_t now, int pid_alive)
{
	in->age = (long long)now - (long long)in->written;
	in->running = in->stopped < 0 && in->age <= 3LL * in->interval &&
	    pid_alive;
}

enum status
statusfile_read(const char *state_dir, time_t now, struct statusfile_info *in,
    struct buf *json)
{
	json_object	*o;
	char		*path, *text;
	size_t		 len;
	long long	 pid, written, interval;
	int		 e;

	path = statedir_status(state_dir);
	text = fs_read_regular(path, STATUSFILE_MAX, &len, NULL);
	e = errno;
	free(path);
	if (text == NULL) {
		errno = e;
		return e == ENOENT ? ST_NOTFOUND : e == EFBIG ? ST_INVALID :
		    ST_INTERNAL;
	}
	o = json_tokener_parse(text);
	free(text);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    (pid = get_num(o, "pid")) <= 0 ||
	    (written = get_num(o, "written")) < 0 ||
	    (interval = get_num(o, "interval")) <= 0 ||
	    interval > 86400 * 365) {
		json_object_put(o);
		return ST_INVALID;
	}
	in->pid = (long)pid;
	in->written = (time_t)written;
	in->interval = (int)interval;
	in->stopped = (time_t)get_num(o, "stopped");
	statusfile_judge(in, now, in->stopped < 0 &&
	    (kill((pid_t)pid, 0) == 0 || errno == EPERM));
	json_object_object_add(o, "running",
	    json_object_new_boolean(in->running));
	json_object_object_add(o, "age", json_object_new_int64(in->age));
	buf_puts(json, json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
	return ST_OK;
}
