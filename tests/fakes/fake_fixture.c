/*
 * fake_fixture.c - the fixtures the unit tests share: a domain with an
 * MTA-STS policy behind the DNS and HTTP fakes, a domain under DANE
 * behind the DNS fake, and the cache options every test starts from
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"

void
fake_sts_domain(const char *domain, const char *id, const char *body)
{
	char	name[300], txt[64], url[320];

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	snprintf(txt, sizeof(txt), "v=STSv1; id=%s", id);
	fake_dns_set("TXT", name, ST_OK, txt, NULL);
	snprintf(name, sizeof(name), "mta-sts.%s", domain);
	fake_dns_set("A", name, ST_OK, "192.0.2.1", NULL);
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
	    domain);
	fake_http_set(url, 200, "text/plain", body, HTTP_FAIL_NONE);
}

void
fake_sts_policy(const char *domain, const char *mode, const char *pattern)
{
	char	body[512];

	snprintf(body, sizeof(body), "version: STSv1\nmode: %s\nmx: %s\n"
	    "max_age: 86400\n", mode, pattern);
	fake_sts_domain(domain, "p1", body);
}

void
fake_sts_mx(const char *domain, const char *mode, const char *pattern,
    const char *mx, const char *ip, enum tlsrpt_result result,
    const char *reason)
{
	char	rr[300];

	fake_sts_policy(domain, mode, pattern);
	snprintf(rr, sizeof(rr), "10 %s", mx);
	fake_dns_set("MX", domain, ST_OK, rr, NULL);
	fake_dns_set("A", mx, ST_OK, ip, NULL);
	fake_tls_probe_set(mx, ip, ST_OK, result, reason);
}

void
fake_sts_one_mx(const char *domain, const char *mode, const char *mx,
    const char *ip, enum tlsrpt_result result, const char *reason)
{
	fake_sts_mx(domain, mode, mx, mx, ip, result, reason);
}

void
fake_dane_addr(const char *host, enum status st, enum dns_sec sec)
{
	fake_dns_set("A", host, st, "192.0.2.1", NULL);
	fake_dns_set_sec("A", host, sec);
}

void
fake_dane_tlsa(const char *host, enum status st, enum dns_sec sec,
    const char *rr1, const char *rr2)
{
	char	name[300];

	snprintf(name, sizeof(name), "_25._tcp.%s", host);
	fake_dns_set("TLSA", name, st, rr1, rr2, NULL);
	fake_dns_set_sec("TLSA", name, sec);
}

void
fake_dane_domain(const char *domain, const char *mx, enum dns_sec tlsa_sec)
{
	char	rr[300];

	snprintf(rr, sizeof(rr), "10 %s", mx);
	fake_dns_set("MX", domain, ST_OK, rr, NULL);
	fake_dns_set_sec("MX", domain, DNS_SEC_SECURE);
	fake_dane_addr(mx, ST_OK, DNS_SEC_SECURE);
	fake_dane_tlsa(mx, ST_OK, tlsa_sec, FAKE_DANE_EE, NULL);
}

int
fake_dir_entries(const char *dir)
{
	DIR		*dp = opendir(dir);
	struct dirent	*e;
	int		 n = 0;

	if (dp == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

void
fake_rm_rf(const char *dir)
{
	char	cmd[512];

	if (dir == NULL || strncmp(dir, "/tmp/", 5) != 0 ||
	    strchr(dir, '\'') != NULL)
		return;				/* only our own temp dirs */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

void
fake_cache_opts(struct sts_cache_opts *o, const char *state_dir)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = state_dir;
	o->fetch.max_body = 65536;
	o->txt_check_interval = 300;
	o->refresh_interval = 86400;
	o->fetch_backoff = 300;
	o->negative_ttl = 3600;
	o->tempfail_ttl = 60;
	o->max_entries = 1000;
	o->wait_ms = 5000;
}
