/*
 * fuzz_smtp_io.c - libFuzzer target for the probe's SMTP reply reader
 *
 * The input is what an MX sends.  It goes into one end of a socket pair
 * whose other end smtp_io_reply() reads, reply after reply, until an
 * error; the sending end is closed, so the reader always ends.
 * Invariants (abort() on violation):
 *   - a reply's code is 200..599 and its first line printable and
 *     shorter than its buffer;
 *   - the read-ahead stays within its buffer;
 *   - the reader ends with end of input or a limit (line length, line
 *     count, malformed), never a timeout: it never waits for input that
 *     cannot come;
 *   - every reply consumes input, so there are at most as many replies
 *     as input lines.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "smtp_io.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_io		io;
	struct smtp_reply	r;
	enum smtp_io_status	e;
	size_t			i, nl = 0, nreplies = 0;
	int			sv[2];

	if (size > 150000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&io, 0, sizeof(io));
	io.fd = sv[0];
	io.step_ms = 5000;
	io.total = clock_mono_ms() + 5000;
	for (i = 0; i < size; i++)
		nl += data[i] == '\n';
	while ((e = smtp_io_reply(&io, &r, smtp_io_step(&io))) == SMTP_IO_OK) {
		if (r.code < 200 || r.code > 599 ||
		    strlen(r.first) >= sizeof(r.first) || ++nreplies > nl)
			abort();
		for (i = 0; r.first[i] != '\0'; i++)
			if (r.first[i] < 0x20 || r.first[i] > 0x7e)
				abort();
		if (io.rlen > sizeof(io.rbuf))
			abort();
	}
	if (e == SMTP_IO_TIMEOUT || io.rlen > sizeof(io.rbuf))
		abort();
	close(sv[0]);
	return 0;
}
