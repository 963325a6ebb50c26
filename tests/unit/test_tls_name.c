/* SPDX-License-Identifier: MIT */
/*
 * The TLS client's name rules (tls_name.c) by known answers: which URL hosts are IP addresses
 * (refused for https), and which certificate dNSNames match a host under RFC 6125 (exact,
 * case-insensitive; a wildcard only as the whole left-most label, for one label, never over
 * a top-level domain).
 */
#include <string.h>

#include "../../common/error.h"
#include "net/tls_internal.h"
#include "check.h"

static void test_ip_hosts_refused(void)
{
	static const char *const ips[] = {
		"127.0.0.1", "10.0.2.2", "10.1", "2130706433", "0x7f.1", "0X7F000001", "1.2.3.4.",
		"fe80::1", "::1", "::ffff:10.0.0.1", "example.0x1f", "host.123",
	};
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		err_clear();
		if (tls_host_check(ips[i]) != -1)
			fprintf(stderr, "  %s accepted\n", ips[i]);
		CHECK(tls_host_check(ips[i]) == -1);
		CHECK(strstr(err_msg(), "is an IP address: refused") != NULL);
		CHECK(strstr(err_msg(), ips[i]) != NULL);
	}
}

static void test_dns_hosts_accepted(void)
{
	static const char *const names[] = {
		"localhost", "updates.selfflash.test", "a.b.c.d.example", "123.example.com",
		"0x7f.example", "example.com.", "xn--bcher-kva.example", "a-1.b_2.example",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (tls_host_check(names[i]) != 0)
			fprintf(stderr, "  %s: %s\n", names[i], err_msg());
		CHECK(tls_host_check(names[i]) == 0);
	}
}

static void test_bad_hosts_refused(void)
{
	char longest[300];
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	CHECK(tls_host_check("") == -1);
	CHECK(tls_host_check("a..example") == -1);
	CHECK(strstr(err_msg(), "empty label") != NULL);
	CHECK(tls_host_check(".example") == -1);
	CHECK(tls_host_check(longest) == -1);
	CHECK(strstr(err_msg(), "at most 253") != NULL);
}

static const struct {
	const char *presented, *host;
	int match;
} cases[] = {
	{ "localhost", "localhost", 1 },
	{ "Updates.Selfflash.TEST", "updates.selfflash.test", 1 },
	{ "updates.selfflash.test", "updates.selfflash.test.", 1 },
	{ "updates.selfflash.test", "update.selfflash.test", 0 },
	{ "selfflash.test", "updates.selfflash.test", 0 },
	{ "updates.selfflash.test.", "updates.selfflash.test", 0 }, /* trailing dot in a SAN */
	{ "", "localhost", 0 },
	/* a wildcard is the whole left-most label and stands for exactly one label */
	{ "*.selfflash.test", "updates.selfflash.test", 1 },
	{ "*.SELFFLASH.test", "a.selfflash.test", 1 },
	{ "*.selfflash.test", "selfflash.test", 0 },
	{ "*.selfflash.test", "a.b.selfflash.test", 0 },
	{ "*.selfflash.test", ".selfflash.test", 0 },
	{ "up*.selfflash.test", "updates.selfflash.test", 0 }, /* partial wildcards */
	{ "*dates.selfflash.test", "updates.selfflash.test", 0 },
	{ "u*s.selfflash.test", "updates.selfflash.test", 0 },
	{ "*", "localhost", 0 },
	{ "*.test", "selfflash.test", 0 }, /* over a top-level domain */
	{ "*.*.test", "a.b.test", 0 },
	{ "updates.*.test", "updates.selfflash.test", 0 },
	{ "*.selfflash.test", "*.selfflash.test", 1 }, /* the text itself, as any label */
	{ "**.selfflash.test", "a.selfflash.test", 0 },
	/* what BearSSL's own check took: a name spelling an IP address is text, never an IP */
	{ "127.0.0.1", "localhost", 0 },
	{ "local host", "local host", 0 },
	{ "b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example", 0 },
	{ "a..example", "a..example", 0 },
};

static void test_name_match_known_answers(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = tls_name_match(cases[i].presented, cases[i].host);
		if (got != cases[i].match)
			fprintf(stderr, "  '%s' vs host '%s': %d, expected %d\n", cases[i].presented,
				cases[i].host, got, cases[i].match);
		CHECK(got == cases[i].match);
	}
}

int main(void)
{
	RUN(test_ip_hosts_refused);
	RUN(test_dns_hosts_accepted);
	RUN(test_bad_hosts_refused);
	RUN(test_name_match_known_answers);
	return CHECK_EXIT();
}
