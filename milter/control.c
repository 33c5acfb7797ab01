/*
 * control.c - answer stsctl's requests (see control.h)
 */
#include <string.h>

#include "control.h"
#include "domain.h"
#include "log.h"
#include "sts_cache.h"

#define FLUSH		"cache-flush"

void
control_answer(void *arg, const char *req, struct buf *reply)
{
	struct sts_cache	*cache = arg;
	struct buf		 why = BUF_INIT;
	char			 domain[DOMAIN_MAX + 1];
	int			 n;

	if (strcmp(req, FLUSH) == 0) {
		n = sts_cache_flush(cache, NULL);
		log_info("cache flush: every policy (%d), asked by stsctl", n);
		buf_printf(reply, "flushed %d", n);
	} else if (strncmp(req, FLUSH " ", sizeof(FLUSH)) != 0)
		buf_puts(reply, "error unknown request");
	else if (domain_normalize(req + sizeof(FLUSH), domain, &why) != ST_OK)
		buf_printf(reply, "error %s", buf_str(&why));
	else {
		n = sts_cache_flush(cache, domain);
		log_info("cache flush: domain=%s (%d), asked by stsctl", domain,
		    n);
		buf_printf(reply, "flushed %d", n);
	}
	buf_free(&why);
}
