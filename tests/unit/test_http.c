/* SPDX-License-Identifier: MIT */
/*
 * The HTTP client's parsers with hostile inputs (URLs, redirects, response heads,
 * Content-Range, chunk sizes, HTTP-dates); test_http_get.c has the client against a server.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "net/http_parse.h"

static int parse_head(const char *text, struct http_response *r)
{
	return http_response_parse(text, strlen(text), r);
}

static void test_url_parse(void)
{
	struct http_url u;
	CHECK(http_url_parse("http://example.com/a/b.sfpkg?x=1", &u) == 0);
	CHECK_STR_EQ(u.host, "example.com");
	CHECK_STR_EQ(u.port, "80");
	CHECK_STR_EQ(u.path, "/a/b.sfpkg?x=1");
	CHECK(http_url_parse("HTTP://[fe80::1]:8443", &u) == 0 && !u.https && u.ipv6);
	CHECK_STR_EQ(u.host, "fe80::1");
	CHECK_STR_EQ(u.port, "8443");
	CHECK_STR_EQ(u.path, "/");
	char text[400];
	http_url_format(&u, text, sizeof(text));
	CHECK_STR_EQ(text, "http://[fe80::1]:8443/");
	/* https needs a DNS name: an address is refused before any connection (RFC 6125) */
	CHECK(http_url_parse("HTTPS://[fe80::1]:8443", &u) == -1);
	CHECK(strstr(err_msg(), "https host fe80::1 is an IP address: refused") != NULL);
	CHECK(http_url_parse("https://10.0.2.2:8443/v2.sfpkg", &u) == -1);
	CHECK(strstr(err_msg(), "https host 10.0.2.2 is an IP address: refused") != NULL);
	CHECK(http_url_parse("https://updates.selfflash.test:8443/v2.sfpkg", &u) == 0 && u.https);
	CHECK(http_url_parse("http://h?q", &u) == 0);
	CHECK_STR_EQ(u.path, "/?q");
}

static void test_url_hostile(void)
{
	struct http_url u;
	const char *bad[] = {
		"ftp://h/p", "http://", "http:///p", "http://user:pw@h/p", "http://h@/p",
		"http://h/p#frag", "http://h#f", "http://h:0/p", "http://h:65536/p", "http://h:-1/p",
		"http://h:99999999999999999999/p", "http://h:/p", "http://h p/x", "http://h/a b",
		"http://h/a\x01", "http://[::1/p", "http://[zz]/p", "http://[::1]x/p", "http://[]/p",
		"http://h%00/p", "http://h/\x7f",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_url_parse(bad[i], &u) == 0)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK(http_url_parse(bad[i], &u) != 0);
		CHECK(err_msg()[0] != '\0');
	}
	char long_url[HTTP_PATH_MAX + 64];
	snprintf(long_url, sizeof(long_url), "http://h/%0*d", HTTP_PATH_MAX, 0);
	CHECK(http_url_parse(long_url, &u) != 0);
	CHECK(strstr(err_msg(), "at most") != NULL);
}

static void test_redirects(void)
{
	struct http_url base, out;
	CHECK(http_url_parse("https://h:444/dir/file.sfpkg?v=1", &base) == 0);
	CHECK(http_url_resolve(&base, "/other/x", &out) == 0);
	CHECK(out.https && strcmp(out.host, "h") == 0 && strcmp(out.port, "444") == 0);
	CHECK_STR_EQ(out.path, "/other/x");
	CHECK(http_url_resolve(&base, "next.sfpkg", &out) == 0);
	CHECK_STR_EQ(out.path, "/dir/next.sfpkg");
	CHECK(http_url_resolve(&base, "?v=2", &out) == 0);
	CHECK_STR_EQ(out.path, "/dir/file.sfpkg?v=2");
	CHECK(http_url_resolve(&base, "//cdn.example/p", &out) == 0);
	CHECK(out.https && strcmp(out.host, "cdn.example") == 0 && strcmp(out.port, "443") == 0);
	CHECK(http_url_resolve(&base, "http://other/p", &out) == 0 && !out.https);
	CHECK(http_url_resolve(&base, "/p#frag", &out) != 0);
	CHECK(http_url_resolve(&base, "//user@h/p", &out) != 0);
	CHECK(http_url_resolve(&base, "/a b", &out) != 0);
}

static void test_response_head(void)
{
	struct http_response r;
	CHECK(parse_head("HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n"
			 "Content-Range: bytes 5-14/100\r\nETag: \"abc\"\r\n\r\n", &r) == 0);
	CHECK(r.status == 206 && r.has_length && r.length == 10 && r.keep_alive);
	CHECK(r.has_range && r.range_first == 5 && r.range_last == 14 && r.range_total == 100);
	CHECK_STR_EQ(r.etag, "\"abc\"");
	CHECK_STR_EQ(r.reason, "Partial Content");
	CHECK(parse_head("HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
			 &r) == 0);
	CHECK(r.chunked && !r.keep_alive);
	CHECK(parse_head("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", &r) == 0);
	CHECK(!r.keep_alive);
	CHECK_STR_EQ(r.location, "/x");
	CHECK(parse_head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", &r) == 0 &&
	      r.keep_alive);
}

static void test_response_hostile(void)
{
	struct http_response r;
	const char *bad[] = {
		"HTTP/1.1 206 OK\r\n",                                   /* no empty line */
		"HTTP/1.1 206 OK\n\n",                                    /* LF only */
		"HTTP/1.1 206 OK\r\nA: b\n\r\n",                         /* one line without CR */
		"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
		"HTTP/1.12000 OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes 5-4/100\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes 0-100/100\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes -1-4/100\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes 0-4/*\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: items 0-4/10\r\n\r\n",
		"HTTP/1.1 206 OK\r\nContent-Range: bytes 0-4/10\r\nContent-Range: bytes 0-4/10\r\n\r\n",
		"HTTP/1.1 206 OK\r\nETag: \"a b\"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_head(bad[i], &r) == 0)
			fprintf(stderr, "  accepted #%zu: %s\n", i, bad[i]);
		CHECK(parse_head(bad[i], &r) != 0);
	}
	CHECK(http_response_parse("HTTP/1.1 200 OK\r\n\0\r\n\r\n", 23, &r) != 0);
	/* an overlong head and too many headers */
	static char big[HTTP_HEAD_MAX + 200];
	size_t n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', HTTP_HEAD_MAX);
	memcpy(big + n + HTTP_HEAD_MAX, "\r\n\r\n", 4);
	CHECK(http_response_parse(big, n + HTTP_HEAD_MAX + 4, &r) != 0);
	CHECK(strstr(err_msg(), "at most") != NULL);
}

/* Headers nobody reads are skipped however long or many: only the whole head is bounded. */
static void test_response_long_headers(void)
{
	static char big[HTTP_HEAD_MAX + 64];
	struct http_response r;
	/* a CDN's Content-Security-Policy of 8 KiB, and 300 more headers of its own */
	size_t n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 206 Partial Content\r\n"
				    "Content-Security-Policy: default-src 'self'");
	while (n < 8200)
		n += (size_t)snprintf(big + n, sizeof(big) - n, " https://cdn%zu.example", n);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Cdn-%d: y\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n,
			      "Content-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n");
	if (http_response_parse(big, n, &r) != 0)
		fprintf(stderr, "  refused: %s\n", err_msg());
	CHECK(http_response_parse(big, n, &r) == 0);
	CHECK(r.status == 206 && r.has_range && r.length == 10);
	/* a header we read is still bounded by its own size */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 302 Found\r\nLocation: /");
	memset(big + n, 'a', HTTP_LOCATION_MAX);
	n += HTTP_LOCATION_MAX;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n\r\n");
	CHECK(http_response_parse(big, n, &r) != 0);
	CHECK(strstr(err_msg(), "Location") != NULL);
}

static void test_response_encoding_retry_after(void)
{
	struct http_response r;
	CHECK(parse_head("HTTP/1.1 206 P\r\nContent-Encoding: gzip\r\n\r\n", &r) == 0);
	CHECK_STR_EQ(r.encoding, "gzip");
	CHECK(parse_head("HTTP/1.1 206 P\r\nContent-Encoding: identity\r\n\r\n", &r) == 0);
	CHECK_STR_EQ(r.encoding, "");
	CHECK(parse_head("HTTP/1.1 503 S\r\nRetry-After: 7\r\n\r\n", &r) == 0);
	CHECK(http_retry_after_ms(&r, 0) == 7000);
	/* a date: counted from the answer's own Date (a board's clock may be unset) */
	CHECK(parse_head("HTTP/1.1 503 S\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			 "Retry-After: Sun, 06 Nov 1994 08:50:07 GMT\r\n\r\n", &r) == 0);
	CHECK(r.date == 784111777);
	CHECK(http_retry_after_ms(&r, 0) == 30000);
	/* without a Date: against the clock given; days are capped, the past is no wait */
	CHECK(parse_head("HTTP/1.1 429 T\r\nRetry-After: Sun, 06 Nov 1994 08:49:47 GMT\r\n\r\n",
			 &r) == 0);
	CHECK(http_retry_after_ms(&r, 784111777) == 10000);
	CHECK(http_retry_after_ms(&r, 784111777 + 60) == 0);
	CHECK(http_retry_after_ms(&r, 0) == 86400000);
	CHECK(parse_head("HTTP/1.1 503 S\r\nRetry-After: soon\r\n\r\n", &r) == 0);
	CHECK(http_retry_after_ms(&r, 0) == 0);
	int64_t t;
	CHECK(http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t) == 0 && t == 0);
	CHECK(http_date_parse("Tue, 29 Feb 2028 23:59:59 GMT", &t) == 0 && t == 1835481599);
	CHECK(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t) != 0);
	CHECK(http_date_parse("Sun, 06 Nox 1994 08:49:37 GMT", &t) != 0);
	CHECK(http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t) != 0);
	CHECK(http_status_is_transient(503) && http_status_is_transient(408) &&
	      http_status_is_transient(429) && !http_status_is_transient(404) &&
	      !http_status_is_transient(416));
}

static void test_content_range(void)
{
	uint64_t a, b, t;
	int unsat;
	CHECK(http_content_range_parse("bytes 0-0/1", &a, &b, &t, &unsat) == 0 && t == 1);
	CHECK(http_content_range_parse("bytes */4611686018427387904", &a, &b, &t, &unsat) == 0 &&
	      unsat && t == (UINT64_C(1) << 62));
	CHECK(http_content_range_parse("bytes */4611686018427387905", &a, &b, &t, &unsat) != 0);
	CHECK(http_content_range_parse("bytes 0-18446744073709551615/18446744073709551616", &a, &b,
				       &t, &unsat) != 0);
	CHECK(http_content_range_parse("bytes 1-2/", &a, &b, &t, &unsat) != 0);
	CHECK(http_content_range_parse("bytes 1-/5", &a, &b, &t, &unsat) != 0);
	CHECK(http_content_range_parse("bytes +1-2/5", &a, &b, &t, &unsat) != 0);
	CHECK(http_content_range_parse("bytes 1-2/5x", &a, &b, &t, &unsat) != 0);
}

static void test_chunk_lines(void)
{
	uint64_t n;
	CHECK(http_chunk_line_parse("1A", 2, &n) == 0 && n == 26);
	CHECK(http_chunk_line_parse("0;name=value", 12, &n) == 0 && n == 0);
	CHECK(http_chunk_line_parse("fffffffffffffff", 15, &n) == 0);
	CHECK(http_chunk_line_parse("1000000000000000", 16, &n) != 0); /* 16 digits: overflow risk */
	CHECK(http_chunk_line_parse("", 0, &n) != 0);
	CHECK(http_chunk_line_parse("-1", 2, &n) != 0);
	CHECK(http_chunk_line_parse("1 2", 3, &n) != 0);
	CHECK(http_chunk_line_parse("g", 1, &n) != 0);
	CHECK(http_chunk_line_parse("5;\x01", 3, &n) != 0);
}

int main(void)
{
	RUN(test_url_parse);
	RUN(test_url_hostile);
	RUN(test_redirects);
	RUN(test_response_head);
	RUN(test_response_hostile);
	RUN(test_response_long_headers);
	RUN(test_response_encoding_retry_after);
	RUN(test_content_range);
	RUN(test_chunk_lines);
	return CHECK_EXIT();
}
