/*
 * fuzz_metrics_http.c - libFuzzer target for metrics_http_request and
 * metrics_http_response (the metrics_listen peer's bytes)
 *
 * Invariants (abort() on violation):
 *   - the code is 0, 200, 400, 404, 405 or 431;
 *   - 0 (read more) only below METRICS_HTTP_MAX bytes, 431 only at it;
 *   - head is set only for a request starting "HEAD " (any code: a
 *     HEAD answer never has a body);
 *   - 200 only for a request line "GET|HEAD /metrics[?...] HTTP/1.x";
 *   - the response starts with the status line of the code, and for
 *     HEAD ends with the blank line (no body).
 * The input is copied to an exact-size heap block so that an overread
 * is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 body = BUF_INIT, out = BUF_INIT;
	char		*req, want[16];
	int		 code, head = -1;

	if (size > METRICS_HTTP_MAX)
		size = METRICS_HTTP_MAX;
	req = malloc(size ? size : 1);
	memcpy(req, data, size);
	code = metrics_http_request(req, size, &head);
	if (code != 0 && code != 200 && code != 400 && code != 404 &&
	    code != 405 && code != 431)
		abort();
	if ((code == 0 && size >= METRICS_HTTP_MAX) ||
	    (code == 431 && size < METRICS_HTTP_MAX))
		abort();
	if (head != 0 && head != 1)
		abort();
	if (head && (size < 5 || memcmp(req, "HEAD ", 5)))
		abort();
	if (code == 200 && !(size > 13 && (memcmp(req, "GET /metrics", 12)
	    == 0 || memcmp(req, "HEAD /metrics", 13) == 0)))
		abort();
	if (code != 0) {
		buf_puts(&body, "x 1\n");
		metrics_http_response(code, head, &body, &out);
		snprintf(want, sizeof(want), "HTTP/1.1 %d ", code);
		if (strncmp(buf_str(&out), want, strlen(want)) != 0)
			abort();
		if (head && strcmp(buf_str(&out) + out.b_len - 4, "\r\n\r\n"))
			abort();
	}
	free(req);
	buf_free(&body);
	buf_free(&out);
	return 0;
}
