/*
 * test_hash.c - hash.h (FNV-1a) against the published test vectors
 *
 * The vectors are those of the FNV reference code (test_fnv.c, "FNV-1a
 * hash of ..."; also draft-eastlake-fnv): the 32- and 64-bit FNV-1a
 * hashes of the given strings, without their terminating NUL.
 */
#include <string.h>

#include "hash.h"

#include "../harness.h"

static const struct {
	const char	*in;
	uint32_t	 h32;
	uint64_t	 h64;
} vectors[] = {
	{ "",		0x811c9dc5u,	0xcbf29ce484222325ull },
	{ "a",		0xe40c292cu,	0xaf63dc4c8601ec8cull },
	{ "b",		0xe70c2de5u,	0xaf63df4c8601f1a5ull },
	{ "c",		0xe60c2c52u,	0xaf63de4c8601eff2ull },
	{ "fo",		0x6222e842u,	0x08985907b541d342ull },
	{ "foo",	0xa9f37ed7u,	0xdcb27518fed9d577ull },
	{ "foob",	0x3f5076efu,	0xdd120e790c2512afull },
	{ "fooba",	0x39aaa18au,	0xcac165afa2fef40aull },
	{ "foobar",	0xbf9cf968u,	0x85944171f73967e8ull },
};

static void
test_vectors(void)
{
	size_t	i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char	*s = vectors[i].in;

		CHECKF(hash_fnv32(s) == vectors[i].h32, "row %zu \"%s\"", i,
		    s);
		CHECKF(hash_fnv32_lower(s) == vectors[i].h32, "row %zu", i);
		CHECKF(hash_fnv64(HASH_FNV64_INIT, s, strlen(s)) ==
		    vectors[i].h64, "row %zu \"%s\"", i, s);
		CHECKF(hash_fnv64_str(HASH_FNV64_INIT, s) == vectors[i].h64,
		    "row %zu", i);
	}
}

/* hash_fnv32_lower folds A-Z only: "FooBar" hashes as "foobar" */
static void
test_lower(void)
{
	CHECK(hash_fnv32_lower("FOOBAR") == 0xbf9cf968u);
	CHECK(hash_fnv32_lower("FooBar") == hash_fnv32("foobar"));
	CHECK(hash_fnv32("FooBar") != hash_fnv32("foobar"));
	CHECK(hash_fnv32_lower("MX.Example.COM.") ==
	    hash_fnv32("mx.example.com."));
	/* not a letter: '@' (0x40) and '[' (0x5b) stay as they are */
	CHECK(hash_fnv32_lower("@[") == hash_fnv32("@["));
	CHECK(hash_fnv32_lower("\xc4") == hash_fnv32("\xc4"));
}

/* folding: "foo" then "bar" is "foobar"; octets after a NUL count */
static void
test_fold(void)
{
	uint64_t	h;

	h = hash_fnv64_str(HASH_FNV64_INIT, "foo");
	CHECK(hash_fnv64_str(h, "bar") == 0x85944171f73967e8ull);
	CHECK(hash_fnv64(h, "bar", 3) == 0x85944171f73967e8ull);
	CHECK(hash_fnv64(HASH_FNV64_INIT, "a\0b", 3) !=
	    hash_fnv64(HASH_FNV64_INIT, "a", 1));
	CHECK(hash_fnv64(HASH_FNV64_INIT, "foobar", 0) == HASH_FNV64_INIT);
}

int
main(void)
{
	RUN(test_vectors);
	RUN(test_lower);
	RUN(test_fold);
	return harness_done("test_hash");
}
