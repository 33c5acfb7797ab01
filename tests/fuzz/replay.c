/*
 * replay.c - feed files to a libFuzzer target without libFuzzer
 *
 * "make check" builds each fuzz target with this main() and a plain
 * compiler, and replays tests/fuzz/corpus/<target>/ so every input ever
 * found stays a regression test.  Prints "name: N passed, 0 failed";
 * a crash ends the process, which the runner counts as a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	int	 i, n = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		FILE	*f = fopen(argv[i], "rb");
		uint8_t	*data;
		long	 len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			bad++;
			if (f)
				fclose(f);
			continue;
		}
		data = malloc((size_t)len + 1);
		if (data == NULL || fread(data, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			bad++;
		} else {
			(void)LLVMFuzzerTestOneInput(data, (size_t)len);
			n++;
		}
		free(data);
		fclose(f);
	}
	printf("%s: %d passed, %d failed\n", argv[0], n, bad);
	return bad != 0;
}
