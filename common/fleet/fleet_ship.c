/*
 * fleet_ship.c - the journal shipper's rules and its Redis script
 */
#include <string.h>

#include "fleet_ship.h"
#include "timefmt.h"

/*
 * Redis 7 (Debian 12): SET ... EXAT, EXPIREAT ... GT (every text
 * has an expiry from its SET; GT only ever moves it later).  cjson is Redis's own Lua
 * library; a record is "J1 <8 hex> <json>", its JSON at byte 13.
 */
const char FLEET_SHIP_SCRIPT[] =
"local cur = redis.call('HGET', KEYS[1], ARGV[1]) or '0'\n"
"if cur ~= ARGV[2] then return {0, cur} end\n"
"local nt = tonumber(ARGV[8])\n"
"for i = 1, nt do\n"
"  if ARGV[8 + i] ~= '' then\n"
"    redis.call('SET', KEYS[6 + i], ARGV[8 + i], 'NX', 'EXAT', ARGV[5])\n"
"  end\n"
"  redis.call('EXPIREAT', KEYS[6 + i], ARGV[5], 'GT')\n"
"end\n"
"local first = 9 + nt\n"
"local n = #ARGV - first + 1\n"
"if n > 0 then\n"
"  redis.call('RPUSH', KEYS[2], unpack(ARGV, first))\n"
"  redis.call('EXPIREAT', KEYS[2], ARGV[5])\n"
"  redis.call('SADD', KEYS[4], ARGV[4])\n"
"  redis.call('EXPIREAT', KEYS[4], ARGV[5])\n"
"  if redis.call('EXISTS', KEYS[6]) == 1 then\n"
"    for i = first, #ARGV do\n"
"      local ok, r = pcall(cjson.decode, string.sub(ARGV[i], 13))\n"
"      local d = ''\n"
"      if ok and type(r) == 'table' and type(r.domain) == 'string' then\n"
"        d = r.domain\n"
"      end\n"
"      redis.call('HINCRBY', KEYS[5], d, 1)\n"
"    end\n"
"    redis.call('EXPIREAT', KEYS[5], ARGV[5])\n"
"  end\n"
"  redis.call('HINCRBY', KEYS[3], 'shipped', n)\n"
"  redis.call('HSET', KEYS[3], 'last_time', ARGV[7])\n"
"end\n"
"redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
"redis.call('HSET', KEYS[3], 'last_day', ARGV[1], 'last_off', ARGV[3],"
" 'seen', ARGV[6])\n"
"return {1, ARGV[3]}\n";

const char FLEET_CLOSE_SCRIPT[] =
"local cur = redis.call('GET', KEYS[1])\n"
"if cur == false or cur < ARGV[1] then\n"
"  redis.call('SET', KEYS[1], ARGV[1])\n"
"  return 1\n"
"end\n"
"return 0\n";

time_t
fleet_ship_expire_at(const char *day, int retention_days)
{
	time_t	t;

	if (timefmt_parse(day, &t) != 0)
		return 0;
	return t + 86400 + (time_t)(retention_days + 2) * 86400;
}

int
fleet_ship_closed(time_t now, int close_delay,
    const struct fleet_ship_day *days, size_t n, char out[11])
{
	char	last[11];
	size_t	i;
	time_t	t;

	/* the latest day whose end is close_delay or more ago */
	timefmt_day(now - close_delay - 86400, last);
	for (i = 0; i < n && strcmp(days[i].day, last) <= 0; i++) {
		if (days[i].off >= days[i].size || days[i].torn)
			continue;
		/* not shipped: the day before it is the last closed one */
		if (timefmt_parse(days[i].day, &t) != 0)
			return 0;
		timefmt_day(t - 86400, last);
		break;
	}
	if (timefmt_parse(last, &t) != 0 || t <= 0)
		return 0;
	memcpy(out, last, 11);
	return 1;
}

int
fleet_ship_day_name(const char *name, char day[11])
{
	time_t	t;

	if (strlen(name) != 14 || strcmp(name + 10, ".jnl") != 0)
		return 0;
	memcpy(day, name, 10);
	day[10] = '\0';
	return timefmt_parse(day, &t) == 0;
}
