/*
 * test_gate_rule.c - the RCPT decision (gate_rule.c) from tables of
 * observations: every STS-APP / STS-VAL rule it applies (rfc-checklist
 * 1.7, 1.8), which failure is reported, the exact 451 4.7.5 text, the
 * order of lookups and probes (STS-APP-5) and the deadline.
 *
 * Each row is a small world: a policy (or none), an override, an MX
 * answer, address answers and probe answers.  A driver answers what
 * gate_rule_decide() asks for from the row and records the order of
 * its questions; the row says what the decision must be.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gate_rule.h"
#include "harness.h"
#include "sts_policy.h"

#define OK	ST_OK
#define NF	ST_NOTFOUND
#define TF	ST_TEMPFAIL

#define SUCCESS		TLSRPT_SUCCESS
#define NOSTARTTLS	TLSRPT_STARTTLS_NOT_SUPPORTED
#define EXPIRED		TLSRPT_CERTIFICATE_EXPIRED
#define MISMATCH	TLSRPT_CERTIFICATE_HOST_MISMATCH
#define UNTRUSTED	TLSRPT_CERTIFICATE_NOT_TRUSTED
#define VALFAIL		TLSRPT_VALIDATION_FAILURE
#define TLSAINV		TLSRPT_TLSA_INVALID
#define DNSSECINV	TLSRPT_DNSSEC_INVALID

struct addr_row {
	const char	*host;
	enum status	 st;
	const char	*addr[3];
};

struct probe_row {
	const char		*key;		/* "host|ip" */
	enum status		 st;		/* ST_TEMPFAIL: transient */
	enum tlsrpt_result	 result;
	const char		*reason;
};

struct row {
	const char		*name;		/* the rule it shows */
	const char		*mode;		/* policy mode; NULL: no policy */
	enum status		 policy_st;	/* when mode is NULL */
	const char		*mx_pattern;	/* the policy's "mx:" lines */
	enum override_action	 ov;
	enum status		 mx_st;
	const char		*mx[4];
	struct addr_row		 addr[4];
	struct probe_row	 probe[6];
	int			 expire_after;	/* observations; 0: never */
	/* the decision */
	enum gate_action	 action;
	const char		*why;
	enum tlsrpt_result	 result;
	const char		*shown;		/* "mx ip reason" */
	const char		*asked;		/* the questions, in order */
	const char		*text;		/* the 451 text (defer) */
};

/* DANE (STS-DANE-1): gate_dane on, the domain's verdict and the MX hosts
 * with usable TLSA */
struct dane_world {
	int			 on;
	enum dane_state		 state;
	const char		*tlsa_hosts[3];
};

struct dane_row {
	struct row		 r;
	struct dane_world	 w;
};

#define T(s)	"MTA-STS policy of example.com (id p1, mode enforce) " \
		"cannot be met:" s "; will retry"
#define TD(s)	"DANE (RFC 7672) for example.com cannot be met:" s \
		"; will retry"

static const struct row rows[] = {
	/* --- mode and overrides ------------------------------------------ */
	{ "STS-APP-3: mode none is as though no policy", "none", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.other.net" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "mode-none", 0, NULL, "policy", NULL },
	{ "STS-HTTP-8: no policy", NULL, NF, NULL,
	  OVERRIDE_NONE, OK, { 0 }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "no-policy", 0, NULL, "policy", NULL },
	{ "discovery trouble is no policy", NULL, TF, NULL,
	  OVERRIDE_NONE, OK, { 0 }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "discovery-tempfail", 0, NULL, "policy", NULL },
	{ "STS-APP-2: testing accepts at once, probes in the background",
	  "testing", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.other.net" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "mode-testing", 0, NULL, "policy", NULL },
	{ "override skip: no policy lookup at all", "enforce", OK, "x.example.com",
	  OVERRIDE_SKIP, OK, { "mx.other.net" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "override-skip", 0, NULL, "", NULL },
	{ "override testing: an enforce policy is not enforced", "enforce", OK,
	  "x.example.com", OVERRIDE_TESTING, OK, { "mx.other.net" }, {{0}},
	  {{0}}, 0,
	  GATE_ACCEPT, "mode-testing", 0, NULL, "policy", NULL },
	{ "override enforce: a testing policy is enforced", "testing", OK,
	  "x.example.com", OVERRIDE_ENFORCE, OK, { "mx.other.net" }, {{0}},
	  {{0}}, 0,
	  GATE_DEFER, "", VALFAIL, "mx.other.net - mx-host-not-in-policy",
	  "policy mx", T(" no MX matches the policy (MX: mx.other.net)") },
	{ "override enforce leaves mode none alone", "none", OK, "x.example.com",
	  OVERRIDE_ENFORCE, OK, { "mx.other.net" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "mode-none", 0, NULL, "policy", NULL },

	/* --- STS-VAL-2: MX matching -------------------------------------- */
	{ "STS-APP-1, STS-VAL-2: no MX matches", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx1.other.net", "mx2.other.net" }, {{0}},
	  {{0}}, 0,
	  GATE_DEFER, "", VALFAIL, "mx1.other.net - mx-host-not-in-policy",
	  "policy mx",
	  T(" no MX matches the policy (MX: mx1.other.net, mx2.other.net)") },
	{ "STS-VAL-2: a wildcard is one whole left-most label", "enforce", OK,
	  "*.example.com", OVERRIDE_NONE, OK,
	  { "a.b.example.com", "example.com" }, {{0}}, {{0}}, 0,
	  GATE_DEFER, "", VALFAIL, "a.b.example.com - mx-host-not-in-policy",
	  "policy mx",
	  T(" no MX matches the policy (MX: a.b.example.com, example.com)") },
	{ "STS-VAL-2: an MX outside the policy is never probed", "enforce", OK,
	  "*.example.com", OVERRIDE_NONE, OK,
	  { "mx.other.net", "mx1.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } } },
	  { { "mx1.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx1.example.com 192.0.2.1 ",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1",
	  NULL },

	/* --- STS-VAL-3/4/5 outcomes, STS-APP-1 ----------------------------- */
	{ "STS-VAL-3: accept after a good probe", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx.example.com 192.0.2.1 ",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1", NULL },
	{ "STS-VAL-3: expired certificate defers", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, EXPIRED,
	      "X509_V_ERR_CERT_HAS_EXPIRED" } }, 0,
	  GATE_DEFER, "", EXPIRED,
	  "mx.example.com 192.0.2.1 X509_V_ERR_CERT_HAS_EXPIRED",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  T(" mx.example.com [192.0.2.1]: certificate-expired "
	    "(X509_V_ERR_CERT_HAS_EXPIRED)") },
	{ "STS-VAL-3: SAN host mismatch defers", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, MISMATCH,
	      "X509_V_ERR_HOSTNAME_MISMATCH" } }, 0,
	  GATE_DEFER, "", MISMATCH,
	  "mx.example.com 192.0.2.1 X509_V_ERR_HOSTNAME_MISMATCH",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  T(" mx.example.com [192.0.2.1]: certificate-host-mismatch "
	    "(X509_V_ERR_HOSTNAME_MISMATCH)") },
	{ "STS-VAL-3: untrusted chain defers", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, UNTRUSTED,
	      "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT" } }, 0,
	  GATE_DEFER, "", UNTRUSTED,
	  "mx.example.com 192.0.2.1 X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  T(" mx.example.com [192.0.2.1]: certificate-not-trusted "
	    "(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)") },
	{ "STS-APP-1: no STARTTLS defers", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, NOSTARTTLS,
	      "STARTTLS not offered" } }, 0,
	  GATE_DEFER, "", NOSTARTTLS,
	  "mx.example.com 192.0.2.1 STARTTLS not offered",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  T(" mx.example.com [192.0.2.1]: starttls-not-supported "
	    "(STARTTLS not offered)") },
	{ "STS-VAL-5: a TLS 1.1-only server fails the handshake", "enforce", OK,
	  "mx.example.com", OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, VALFAIL,
	      "unsupported protocol" } }, 0,
	  GATE_DEFER, "", VALFAIL, "mx.example.com 192.0.2.1 unsupported protocol",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  T(" mx.example.com [192.0.2.1]: validation-failure "
	    "(unsupported protocol)") },

	/* --- STS-APP-5: traversal in preference order ---------------------- */
	{ "STS-APP-5, STS-APP-6: the first pass ends the walk", "enforce", OK,
	  "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1", "192.0.2.2" } },
	    { "mx2.example.com", OK, { "192.0.2.3" } } },
	  { { "mx1.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx1.example.com 192.0.2.1 ",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1",
	  NULL },
	{ "STS-APP-5: an invalid MX is skipped like an unreachable one",
	  "enforce", OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.3" } } },
	  { { "mx1.example.com|192.0.2.1", OK, EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED" },
	    { "mx2.example.com|192.0.2.3", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx2.example.com 192.0.2.3 ",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1 "
	  "addr:mx2.example.com probe:mx2.example.com|192.0.2.3", NULL },
	{ "STS-APP-5: every address of a host before the next host", "enforce",
	  OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "2001:db8::1", "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.3" } } },
	  { { "mx1.example.com|2001:db8::1", TF, VALFAIL, "connection-refused" },
	    { "mx1.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx1.example.com 192.0.2.1 ",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|2001:db8::1 "
	  "probe:mx1.example.com|192.0.2.1", NULL },

	/* --- which failure is reported -------------------------------------- */
	{ "the first policy failure is reported, not a transient one",
	  "enforce", OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.2" } } },
	  { { "mx1.example.com|192.0.2.1", TF, VALFAIL, "connection-refused" },
	    { "mx2.example.com|192.0.2.2", OK, MISMATCH,
	      "X509_V_ERR_HOSTNAME_MISMATCH" } }, 0,
	  GATE_DEFER, "", MISMATCH,
	  "mx2.example.com 192.0.2.2 X509_V_ERR_HOSTNAME_MISMATCH",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1 "
	  "addr:mx2.example.com probe:mx2.example.com|192.0.2.2",
	  T(" mx1.example.com [192.0.2.1]: validation-failure "
	    "(connection-refused); mx2.example.com [192.0.2.2]: "
	    "certificate-host-mismatch (X509_V_ERR_HOSTNAME_MISMATCH)") },
	{ "all transient: the first attempt is reported", "enforce", OK,
	  "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.2" } } },
	  { { "mx1.example.com|192.0.2.1", TF, VALFAIL, "connect-timeout" },
	    { "mx2.example.com|192.0.2.2", TF, VALFAIL, "greeting 421" } }, 0,
	  GATE_DEFER, "", VALFAIL, "mx1.example.com 192.0.2.1 connect-timeout",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1 "
	  "addr:mx2.example.com probe:mx2.example.com|192.0.2.2",
	  T(" mx1.example.com [192.0.2.1]: validation-failure "
	    "(connect-timeout); mx2.example.com [192.0.2.2]: "
	    "validation-failure (greeting 421)") },
	{ "an MX outside the policy is left out of the text and the report",
	  "enforce", OK, "mx2.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx2.example.com", OK, { "192.0.2.2" } } },
	  { { "mx2.example.com|192.0.2.2", TF, VALFAIL, "connection-refused" } }, 0,
	  GATE_DEFER, "", VALFAIL, "mx1.example.com - mx-host-not-in-policy",
	  "policy mx addr:mx2.example.com probe:mx2.example.com|192.0.2.2",
	  T(" mx2.example.com [192.0.2.2]: validation-failure "
	    "(connection-refused)") },
	{ "no address, then a lookup failure: as though unreachable",
	  "enforce", OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", NF, { 0 } },
	    { "mx2.example.com", TF, { 0 } } }, {{0}}, 0,
	  GATE_DEFER, "", VALFAIL, "mx1.example.com - no-address",
	  "policy mx addr:mx1.example.com addr:mx2.example.com",
	  T(" mx1.example.com: validation-failure (no-address);"
	    " mx2.example.com: validation-failure (address-lookup-failed)") },

	/* --- the MX set ------------------------------------------------------ */
	{ "RFC 5321 5.1: no MX record, the domain is its own MX", "enforce", OK,
	  "example.com", OVERRIDE_NONE, NF, { 0 },
	  { { "example.com", OK, { "192.0.2.9" } } },
	  { { "example.com|192.0.2.9", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "example.com 192.0.2.9 ",
	  "policy mx addr:example.com probe:example.com|192.0.2.9", NULL },
	{ "RFC 7505: a null MX is accepted (the MTA bounces)", "enforce", OK,
	  "mx.example.com", OVERRIDE_NONE, OK, { "" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "mx-lookup-failed", 0, NULL, "policy mx", NULL },
	{ "MX lookup trouble fails open", "enforce", OK, "mx.example.com",
	  OVERRIDE_NONE, TF, { 0 }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "mx-lookup-failed", 0, NULL, "policy mx", NULL },

	/* --- the deadline ---------------------------------------------------- */
	{ "past the deadline, the next address is recorded and the walk ends",
	  "enforce", OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1", "192.0.2.2" } },
	    { "mx2.example.com", OK, { "192.0.2.3" } } },
	  { { "mx1.example.com|192.0.2.1", TF, VALFAIL, "connect-timeout" } }, 4,
	  GATE_DEFER, "", VALFAIL, "mx1.example.com 192.0.2.1 connect-timeout",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1",
	  T(" mx1.example.com [192.0.2.1]: validation-failure "
	    "(connect-timeout); mx1.example.com [192.0.2.2]: "
	    "validation-failure (deadline)") },
	{ "past the deadline after a probed host, the walk ends", "enforce", OK,
	  "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.3" } } },
	  { { "mx1.example.com|192.0.2.1", OK, EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED" } },
	  4,
	  GATE_DEFER, "", EXPIRED,
	  "mx1.example.com 192.0.2.1 X509_V_ERR_CERT_HAS_EXPIRED",
	  "policy mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1",
	  T(" mx1.example.com [192.0.2.1]: certificate-expired "
	    "(X509_V_ERR_CERT_HAS_EXPIRED)") },

};


static const struct dane_row dane_rows[] = {
	{ { "STS-DANE-1: usable TLSA, no MTA-STS: gated by DANE", NULL, NF, NULL,
	  OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1|dane", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "dane-validated", SUCCESS, "mx.example.com 192.0.2.1 ",
	  "policy dane mx addr:mx.example.com probe:mx.example.com|192.0.2.1|dane",
	  NULL },
	  { 1, DANE_ALL, { "mx.example.com" } } },
	{ { "STS-DANE-1: MTA-STS enforce cannot turn a DANE failure into a pass",
	  "enforce", OK, "mx.example.com", OVERRIDE_NONE, OK,
	  { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1|dane", OK, TLSAINV,
	      "X509_V_ERR_DANE_NO_MATCH" },
	    { "mx.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_DEFER, "", TLSAINV,
	  "mx.example.com 192.0.2.1 X509_V_ERR_DANE_NO_MATCH",
	  "policy dane mx addr:mx.example.com probe:mx.example.com|192.0.2.1|dane",
	  TD(" mx.example.com [192.0.2.1]: tlsa-invalid "
	     "(X509_V_ERR_DANE_NO_MATCH)") },
	  { 1, DANE_ALL, { "mx.example.com" } } },
	{ { "bogus DNSSEC defers even without MTA-STS, nothing probed", NULL, NF,
	  NULL, OVERRIDE_NONE, OK, { "mx.example.com" }, {{0}}, {{0}}, 0,
	  GATE_DEFER, "", DNSSECINV, "example.com - bogus", "policy dane",
	  TD(" example.com: dnssec-invalid (bogus)") },
	  { 1, DANE_BOGUS, { 0 } } },
	{ { "bogus DNSSEC defers a domain with an MTA-STS policy", "enforce", OK,
	  "mx.example.com", OVERRIDE_NONE, OK, { "mx.example.com" }, {{0}},
	  {{0}}, 0,
	  GATE_DEFER, "", DNSSECINV, "example.com - bogus", "policy dane",
	  TD(" example.com: dnssec-invalid (bogus)") },
	  { 1, DANE_BOGUS, { 0 } } },
	{ { "no DANE (insecure, indeterminate, no TLSA): MTA-STS applies",
	  "enforce", OK, "mx.example.com", OVERRIDE_NONE, OK,
	  { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx.example.com 192.0.2.1 ",
	  "policy dane mx addr:mx.example.com probe:mx.example.com|192.0.2.1",
	  NULL },
	  { 1, DANE_NONE, { 0 } } },
	{ { "a failed DANE lookup falls back to MTA-STS (the MTA's map defers)",
	  NULL, NF, NULL, OVERRIDE_NONE, OK, { "mx.example.com" }, {{0}}, {{0}},
	  0, GATE_ACCEPT, "no-policy", 0, NULL, "policy dane", NULL },
	  { 1, DANE_TEMPFAIL, { 0 } } },
	{ { "TLSA on some MX, no enforce policy: an MX without TLSA is reached",
	  NULL, NF, NULL, OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } } },
	  { { "mx1.example.com|192.0.2.1|dane", OK, TLSAINV,
	      "X509_V_ERR_DANE_NO_MATCH" } }, 0,
	  GATE_ACCEPT, "dane-partial", 0, NULL,
	  "policy dane mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1|dane",
	  NULL },
	  { 1, DANE_SOME, { "mx1.example.com" } } },
	{ { "TLSA on some MX with an enforce policy: only TLSA hosts count",
	  "enforce", OK, "*.example.com", OVERRIDE_NONE, OK,
	  { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.2" } } },
	  { { "mx1.example.com|192.0.2.1|dane", OK, TLSAINV,
	      "X509_V_ERR_DANE_NO_MATCH" },
	    { "mx2.example.com|192.0.2.2", OK, SUCCESS, "" } }, 0,
	  GATE_DEFER, "", TLSAINV,
	  "mx1.example.com 192.0.2.1 X509_V_ERR_DANE_NO_MATCH",
	  "policy dane mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1|dane",
	  TD(" mx1.example.com [192.0.2.1]: tlsa-invalid "
	     "(X509_V_ERR_DANE_NO_MATCH); mx2.example.com: dane-required "
	     "(no-tlsa)") },
	  { 1, DANE_SOME, { "mx1.example.com" } } },
	{ { "DANE: the second TLSA host passes (STS-APP-5 order)", NULL, NF, NULL,
	  OVERRIDE_NONE, OK, { "mx1.example.com", "mx2.example.com" },
	  { { "mx1.example.com", OK, { "192.0.2.1" } },
	    { "mx2.example.com", OK, { "192.0.2.2" } } },
	  { { "mx1.example.com|192.0.2.1|dane", TF, VALFAIL,
	      "connection-refused" },
	    { "mx2.example.com|192.0.2.2|dane", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "dane-validated", SUCCESS, "mx2.example.com 192.0.2.2 ",
	  "policy dane mx addr:mx1.example.com probe:mx1.example.com|192.0.2.1|dane "
	  "addr:mx2.example.com probe:mx2.example.com|192.0.2.2|dane", NULL },
	  { 1, DANE_ALL, { "mx1.example.com", "mx2.example.com" } } },
	{ { "override skip also skips DANE", "enforce", OK, "mx.example.com",
	  OVERRIDE_SKIP, OK, { "mx.example.com" }, {{0}}, {{0}}, 0,
	  GATE_ACCEPT, "override-skip", 0, NULL, "", NULL },
	  { 1, DANE_BOGUS, { 0 } } },
	{ { "gate_dane off: TLSA is not looked at, MTA-STS applies", "enforce",
	  OK, "mx.example.com", OVERRIDE_NONE, OK, { "mx.example.com" },
	  { { "mx.example.com", OK, { "192.0.2.1" } } },
	  { { "mx.example.com|192.0.2.1", OK, SUCCESS, "" } }, 0,
	  GATE_ACCEPT, "validated", SUCCESS, "mx.example.com 192.0.2.1 ",
	  "policy mx addr:mx.example.com probe:mx.example.com|192.0.2.1", NULL },
	  { 0, DANE_ALL, { "mx.example.com" } } },
};

/* --- the driver ---------------------------------------------------------- */

struct run {
	const struct row	*row;
	const struct dane_world	*w;		/* NULL: no DANE */
	struct sts_policy	*policy;
	struct dane_result	 dane;
	struct gate_obs		 o;
	struct gate_decision	 d;
	struct buf		 asked;
	int			 nobs;
};

static struct sts_policy *
make_policy(const char *mode, const char *patterns)
{
	struct sts_policy	*p = NULL;
	struct buf		 body = BUF_INIT, why = BUF_INIT;
	const char		*s = patterns, *sp;

	buf_printf(&body, "version: STSv1\nmode: %s\n", mode);
	while (s != NULL && *s != '\0') {
		sp = strchr(s, ' ');
		buf_printf(&body, "mx: %.*s\n", (int)(sp ? sp - s : (long)strlen(s)), s);
		s = sp ? sp + 1 : NULL;
	}
	buf_puts(&body, "max_age: 86400\n");
	if (sts_policy_parse(buf_str(&body), body.b_len, &p, &why) != ST_OK)
		abort();
	buf_free(&body);
	buf_free(&why);
	return p;
}

static void
ask(struct run *r, const char *what, const char *name)
{
	buf_printf(&r->asked, "%s%s%s%s", r->asked.b_len ? " " : "", what,
	    name ? ":" : "", name ? name : "");
	r->nobs++;
}

static void
answer_addr(struct run *r, int i)
{
	const struct addr_row	*a;
	const char		*name = r->o.host[i].name;
	int			 n;

	ask(r, "addr", name);
	for (a = r->row->addr; a < r->row->addr + 4 && a->host; a++)
		if (strcmp(a->host, name) == 0) {
			for (n = 0; n < 3 && a->addr[n]; n++)
				;
			gate_obs_addr(&r->o, i, a->st, a->addr, n);
			return;
		}
	gate_obs_addr(&r->o, i, ST_NOTFOUND, NULL, 0);
}

static void
answer_probe(struct run *r, int i, int k)
{
	const struct probe_row	*p;
	struct gate_probe_obs	 obs;
	char			 key[300];

	snprintf(key, sizeof(key), "%s|%s%s", r->o.host[i].name,
	    r->o.host[i].addr[k], r->o.host[i].ntlsa ? "|dane" : "");
	ask(r, "probe", key);
	obs.st = ST_TEMPFAIL;			/* unlisted: nothing listens */
	obs.result = TLSRPT_VALIDATION_FAILURE;
	obs.transient = 1;
	obs.reason = "connection-refused";
	for (p = r->row->probe; p < r->row->probe + 6 && p->key; p++)
		if (strcmp(p->key, key) == 0) {
			obs.st = p->st;
			obs.result = p->result;
			obs.transient = p->st == ST_TEMPFAIL;
			obs.reason = p->reason;
		}
	gate_obs_probe(&r->o, i, &obs);
}

/* answer_dane - the row's DANE verdict: its TLSA hosts have one record */
static void
answer_dane(struct run *r)
{
	static char		*rec[1] = { "3 1 1 00" };
	struct dane_host	*h;
	int			 n;

	r->dane.state = r->w->state;
	r->dane.mx_sec = DNS_SEC_SECURE;
	for (n = 0; n < 3 && r->w->tlsa_hosts[n]; n++) {
		h = &r->dane.host[r->dane.nhost++];
		h->name = (char *)(uintptr_t)r->w->tlsa_hosts[n];
		h->state = DANE_H_USABLE;
		h->ntlsa = 1;
		h->tlsa = rec;
	}
	gate_obs_dane(&r->o, &r->dane);
}

/* decide - run the row's world until the decision */
static void
decide(struct run *r, int walk_only)
{
	const struct row	*row = r->row;
	int			 n, guard = 0;

	while (guard++ < 100) {
		r->o.expired = row->expire_after && r->nobs >= row->expire_after;
		switch (walk_only ? gate_rule_walk(&r->o, &r->d) :
		    gate_rule_decide(&r->o, &r->d)) {
		case GATE_NEED_NONE:
			return;
		case GATE_NEED_POLICY:
			ask(r, "policy", NULL);
			gate_obs_policy(&r->o, row->mode ? ST_OK : row->policy_st,
			    r->policy, "p1");
			break;
		case GATE_NEED_MX:
			ask(r, "mx", NULL);
			for (n = 0; n < 4 && row->mx[n]; n++)
				;
			gate_obs_mx(&r->o, row->mx_st, row->mx, n);
			break;
		case GATE_NEED_ADDR:
			answer_addr(r, r->d.need_host);
			break;
		case GATE_NEED_PROBE:
			answer_probe(r, r->d.need_host, r->d.need_addr);
			break;
		case GATE_NEED_DANE:
			ask(r, "dane", NULL);
			answer_dane(r);
			break;
		}
	}
	CHECKF(0, "%s: no decision after 100 questions", row->name);
}

static void
run_init(struct run *r, const struct row *row, const struct dane_world *w)
{
	memset(r, 0, sizeof(*r));
	r->row = row;
	r->w = w;
	r->policy = row->mode ? make_policy(row->mode, row->mx_pattern) : NULL;
	gate_obs_init(&r->o, "example.com", row->ov);
	r->o.dane_on = w != NULL && w->on;
}

static void
run_free(struct run *r)
{
	sts_policy_free(r->policy);
	buf_free(&r->asked);
}

/* check_row - run one row (w: its DANE world, or NULL) and compare */
static void
check_row(const struct row *row, const struct dane_world *w)
{
	struct run		 r;
	char			 shown[400], text[GATE_TEXT_MAX];
	const struct gate_attempt *a;

	run_init(&r, row, w);
	decide(&r, 0);
	CHECKF(r.d.action == row->action, "%s: action %d", row->name,
	    r.d.action);
	CHECKF(strcmp(gate_why_str(r.d.why), row->why) == 0,
	    "%s: why \"%s\"", row->name, gate_why_str(r.d.why));
	CHECKF(strcmp(buf_str(&r.asked), row->asked) == 0,
	    "%s: asked \"%s\"", row->name, buf_str(&r.asked));
	CHECKF(r.d.background == (strcmp(row->why, "mode-testing") == 0),
	    "%s: background %d", row->name, r.d.background);
	if ((a = r.d.shown) != NULL)
		snprintf(shown, sizeof(shown), "%s %s %s", a->mx,
		    a->ip[0] ? a->ip : "-", a->reason);
	CHECKF(row->shown == NULL ? a == NULL || row->action ==
	    GATE_ACCEPT : a != NULL && strcmp(shown, row->shown) == 0,
	    "%s: shown \"%s\"", row->name, a ? shown : "(none)");
	if (row->action == GATE_DEFER) {
		/* STS-APP-4: a temporary failure with a reason */
		CHECKF(r.d.result == row->result, "%s: result %s",
		    row->name, tlsrpt_result_str(r.d.result));
		gate_rule_text(&r.o, &r.d, text, sizeof(text));
		CHECKF(strcmp(text, row->text) == 0, "%s: text\n  %s",
		    row->name, text);
	} else if (row->shown != NULL)
		CHECKF(r.d.pass && r.d.result == TLSRPT_SUCCESS,
		    "%s: pass %d", row->name, r.d.pass);
	run_free(&r);
}

static void
test_gate_rule_rows(void)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i], NULL);
}

/* STS-DANE-1: DANE decides where it applies (gate_dane) */
static void
test_gate_rule_dane_rows(void)
{
	size_t	i;

	for (i = 0; i < sizeof(dane_rows) / sizeof(dane_rows[0]); i++)
		check_row(&dane_rows[i].r, &dane_rows[i].w);
}

/* STS-APP-2: the background walk of a testing policy finds the same
 * failures, and the testing decision still accepts */
static void
test_gate_rule_testing_never_defers(void)
{
	static const struct row	row = { "testing", "testing", OK,
	    "mx.example.com", OVERRIDE_NONE, OK, { "mx.example.com" },
	    { { "mx.example.com", OK, { "192.0.2.1" } } },
	    { { "mx.example.com|192.0.2.1", OK, EXPIRED, "expired" } }, 0,
	    GATE_ACCEPT, "mode-testing", 0, NULL, "policy", NULL };
	struct run		 r;

	run_init(&r, &row, NULL);
	decide(&r, 0);
	CHECK_INT(r.d.action, GATE_ACCEPT);
	CHECK_INT(r.d.background, 1);
	CHECK_INT(r.d.mode, STS_MODE_TESTING);
	run_free(&r);

	run_init(&r, &row, NULL);
	gate_obs_policy(&r.o, ST_OK, r.policy, "p1");
	decide(&r, 1);				/* the background walk */
	CHECK_INT(r.d.pass, 0);
	CHECK_INT(r.d.result, TLSRPT_CERTIFICATE_EXPIRED);
	CHECK_STR(buf_str(&r.asked),
	    "mx addr:mx.example.com probe:mx.example.com|192.0.2.1");
	run_free(&r);
}

/* GATE_MAX_ADDR addresses per host are probed, no more */
static void
test_gate_rule_address_limit(void)
{
	static const char *const names[] = { "mx.example.com" };
	static const char *const addrs[] = { "192.0.2.1", "192.0.2.2",
	    "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7",
	    "192.0.2.8", "192.0.2.9", "192.0.2.10" };
	struct sts_policy	*p = make_policy("enforce", "mx.example.com");
	struct gate_obs		 o;
	struct gate_decision	 d;
	struct gate_probe_obs	 refused = { ST_TEMPFAIL,
	    TLSRPT_VALIDATION_FAILURE, 1, "connection-refused" };
	int			 probes = 0;

	gate_obs_init(&o, "example.com", OVERRIDE_NONE);
	gate_obs_policy(&o, ST_OK, p, "p1");
	gate_obs_mx(&o, ST_OK, names, 1);
	gate_obs_addr(&o, 0, ST_OK, addrs, 10);
	while (gate_rule_decide(&o, &d) == GATE_NEED_PROBE && probes < 20) {
		gate_obs_probe(&o, d.need_host, &refused);
		probes++;
	}
	CHECK_INT(probes, GATE_MAX_ADDR);
	CHECK_INT(d.action, GATE_DEFER);
	CHECK_INT(d.ntries, GATE_MAX_ADDR);
	sts_policy_free(p);
}

/* the reply text is cut to fit GATE_TEXT_MAX */
static void
test_gate_rule_text_bounded(void)
{
	const char		*names[GATE_MAX_MX];
	char			 host[GATE_MAX_MX][80], text[GATE_TEXT_MAX];
	struct sts_policy	*p = make_policy("enforce", "*.example.com");
	struct gate_obs		 o;
	struct gate_decision	 d;
	int			 i;

	for (i = 0; i < GATE_MAX_MX; i++) {
		snprintf(host[i], sizeof(host[i]), "mx%02d-with-a-rather-long-"
		    "name-for-the-text.example.com", i);
		names[i] = host[i];
	}
	gate_obs_init(&o, "example.com", OVERRIDE_NONE);
	gate_obs_policy(&o, ST_OK, p, "p1");
	gate_obs_mx(&o, ST_OK, names, GATE_MAX_MX);
	while (gate_rule_decide(&o, &d) == GATE_NEED_ADDR)
		gate_obs_addr(&o, d.need_host, ST_NOTFOUND, NULL, 0);
	CHECK_INT(d.action, GATE_DEFER);
	CHECK_INT(d.ntries, GATE_MAX_TRIES);
	gate_rule_text(&o, &d, text, sizeof(text));
	CHECK(strlen(text) < GATE_TEXT_MAX);
	CHECK(strncmp(text, "MTA-STS policy of example.com (id p1", 36) == 0);
	sts_policy_free(p);
}

int
main(void)
{
	RUN(test_gate_rule_rows);
	RUN(test_gate_rule_dane_rows);
	RUN(test_gate_rule_testing_never_defers);
	RUN(test_gate_rule_address_limit);
	RUN(test_gate_rule_text_bounded);
	return harness_done("test_gate_rule");
}
