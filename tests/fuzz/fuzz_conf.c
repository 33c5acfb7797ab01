/*
 * fuzz_conf.c - conf_parse on arbitrary text: no crash, and every error
 * names the file and a line
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c = conf_defaults();
	struct buf	 why = BUF_INIT;

	if (conf_parse(c, (const char *)data, size, "f", &why) != ST_OK &&
	    strncmp(buf_str(&why), "f:", 2) != 0)
		abort();
	conf_free(c);
	buf_free(&why);
	return 0;
}
