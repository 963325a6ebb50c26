/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 text as data, no I/O (http.c does the talking): URLs and redirect targets, a
 * response head (status line and the headers a range fetch needs), Content-Range, HTTP-dates
 * (Retry-After, Date), and the size line of a chunked body. Everything here comes from a server and is treated as hostile:
 * every number is bounded, every line must end in CRLF, every length is capped, and anything
 * odd is refused with a message naming it.
 */
#ifndef SELFFLASH_HTTP_PARSE_H
#define SELFFLASH_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HOST_MAX 256
#define HTTP_PORT_MAX 8
#define HTTP_PATH_MAX 2048
/*
 * A response head (status line and headers) longer than this is refused: the only bound on
 * headers nobody reads (a CDN's Content-Security-Policy runs to several KiB; each is skipped).
 */
#define HTTP_HEAD_MAX 65536
/* Trailer lines after a chunked body, at most (each at most a line's length). */
#define HTTP_TRAILERS_MAX 100
#define HTTP_ETAG_MAX 128
#define HTTP_LOCATION_MAX (HTTP_HOST_MAX + HTTP_PATH_MAX + 32)
/* Sizes and offsets a server may name: 2^62 bytes is far beyond any package. */
#define HTTP_SIZE_MAX (UINT64_C(1) << 62)

struct http_url {
	int https;
	char host[HTTP_HOST_MAX]; /* an IPv6 literal without its brackets */
	char port[HTTP_PORT_MAX]; /* always set: 80 or 443 unless the URL names one */
	char path[HTTP_PATH_MAX]; /* starts with '/', the query included */
	int ipv6;                 /* host is an IPv6 literal (bracketed in Host: and messages) */
};

/* 1 when text starts with http:// or https:// (any case): a URL, not a file or a link. */
int http_url_is(const char *text);

/*
 * Parses an absolute http:// or https:// URL: host name, IPv4 or bracketed IPv6 literal,
 * optional port (1..65535), path and query. Refused with a message: other schemes, user names
 * and passwords (userinfo), fragments, spaces and control characters, overlong parts. 0 or -1.
 */
int http_url_parse(const char *text, struct http_url *u);

/*
 * The URL a redirect's Location names, read against the URL that answered: absolute,
 * scheme-relative (//host/path), absolute path (/path), query (?q) or a path relative to the
 * base's directory. Same checks as http_url_parse. 0 or -1.
 */
int http_url_resolve(const struct http_url *base, const char *location, struct http_url *out);

/* "http://host:port/path" for messages (the port only when it is not the scheme's). */
void http_url_format(const struct http_url *u, char *out, size_t size);

/* The Host header's value: the host (bracketed for IPv6), ":port" unless the default. */
void http_url_host_header(const struct http_url *u, char *out, size_t size);

struct http_response {
	int status;        /* 100..599 */
	char reason[64];   /* the status line's words, printable, maybe cut */
	int http11;        /* HTTP/1.1 (else 1.0) */
	int conn_close, conn_keep_alive; /* Connection: close / keep-alive was given */
	int keep_alive;    /* the connection may carry another request */
	int has_length;    /* Content-Length was given */
	uint64_t length;
	int chunked;       /* Transfer-Encoding: chunked */
	int has_range;     /* Content-Range: bytes FIRST-LAST/TOTAL (or bytes * /TOTAL: no range) */
	int range_unsatisfied; /* bytes * /TOTAL */
	uint64_t range_first, range_last, range_total;
	char etag[HTTP_ETAG_MAX];         /* "" when none */
	char location[HTTP_LOCATION_MAX]; /* "" when none */
	/* Content-Encoding other than identity, printable, maybe cut ("gzip"); "" when none */
	char encoding[32];
	/* Retry-After: delay-seconds (retry_after_s), or an HTTP-date (retry_after_at, Unix
	 * seconds); both 0 when absent or unreadable (it is advice: never refused) */
	uint64_t retry_after_s;
	int64_t retry_after_at;
	int64_t date; /* the Date header in Unix seconds; 0 when absent or unreadable */
};

/*
 * Parses a response head of len bytes (at most HTTP_HEAD_MAX): the status line and headers,
 * each ending in CRLF, then the empty line (the head must end in "\r\n\r\n"). Unknown headers
 * are skipped whatever their length; duplicate or contradictory lengths, transfer codings
 * other than chunked, a length and chunked together, folded lines and NUL bytes are refused.
 * 0 or -1.
 */
int http_response_parse(const char *head, size_t len, struct http_response *r);

/*
 * A Content-Range value: "bytes FIRST-LAST/TOTAL" with FIRST <= LAST < TOTAL, or
 * "bytes * /TOTAL" (*unsatisfied = 1; first and last 0). Numbers are decimal digits only,
 * at most HTTP_SIZE_MAX. 0 or -1.
 */
int http_content_range_parse(const char *value, uint64_t *first, uint64_t *last,
			     uint64_t *total, int *unsatisfied);

/*
 * The size line of a chunked body, without its CRLF: hex digits (at most 15), optionally
 * followed by ';' and chunk extensions (ignored). 0 or -1.
 */
int http_chunk_line_parse(const char *line, size_t len, uint64_t *size);

/*
 * An HTTP-date in its preferred form (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") as Unix
 * seconds. The obsolete RFC 850 and asctime forms are not read (-1): a Retry-After in them
 * falls back to the client's own backoff. 0 or -1 (no message: the caller decides).
 */
int http_date_parse(const char *text, int64_t *unix_s);

/*
 * How long r's Retry-After asks to wait, in milliseconds: its seconds, or its date less the
 * answer's Date (the server's own clock), or less now_unix_s when the answer has no Date (a
 * board's clock may be unset: the caller caps the result). 0 when none or in the past.
 */
uint64_t http_retry_after_ms(const struct http_response *r, int64_t now_unix_s);

/* 1 for the answers a client should ask again later: 408, 429 and every 5xx. */
int http_status_is_transient(int status);

/* The standard words of a status code ("Not Found"), or "" when not one we name. */
const char *http_status_words(int status);

#endif
