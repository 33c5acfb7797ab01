/*
 * hash.h - FNV-1a, the hash of the in-memory tables
 *
 * Fowler/Noll/Vo FNV-1a (draft-eastlake-fnv; http://www.isthe.com/chongo/
 * tech/comp/fnv/): per octet, xor it in, then multiply by the prime.
 * Fast and good enough to spread keys over buckets; not for keys an
 * attacker picks to collide where that matters (none of ours: the
 * tables bound their chains or are direct-mapped).
 *
 * Inline, so that the tables' hot paths compile as when each had its
 * own copy.  Pure, thread-safe.
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV32_INIT		2166136261u		/* offset basis */
#define HASH_FNV32_PRIME	16777619u
#define HASH_FNV64_INIT		14695981039346656037ull
#define HASH_FNV64_PRIME	1099511628211ull

/* hash_fnv32 - FNV-1a, 32 bit, of the string s */
static inline uint32_t
hash_fnv32(const char *s)
{
	uint32_t	h = HASH_FNV32_INIT;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * HASH_FNV32_PRIME;
	return h;
}

/* hash_fnv32_lower - hash_fnv32 of s with ASCII A-Z lower-cased (domain
 * names: equal names, whatever their case, hash alike) */
static inline uint32_t
hash_fnv32_lower(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 h = HASH_FNV32_INIT;

	for (; *p != '\0'; p++)
		h = (h ^ (uint32_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) *
		    HASH_FNV32_PRIME;
	return h;
}

/* hash_fnv64 - fold the n octets at p into h, FNV-1a 64 bit; start
 * with h = HASH_FNV64_INIT (hash_fnv64(HASH_FNV64_INIT, p, n) is the
 * hash of those octets) */
static inline uint64_t
hash_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*c = p;

	while (n-- > 0)
		h = (h ^ *c++) * HASH_FNV64_PRIME;
	return h;
}

/* hash_fnv64_str - fold the string s into h (hash_fnv64 of its octets) */
static inline uint64_t
hash_fnv64_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * HASH_FNV64_PRIME;
	return h;
}

#endif
