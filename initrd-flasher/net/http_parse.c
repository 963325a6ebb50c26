/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 text parsed without trusting it: response heads, Content-Range, chunk sizes. */
#include "http_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"

/* Decimal digits only, at most HTTP_SIZE_MAX; 0 or -1 (no message: the caller names it). */
static int parse_decimal(const char *s, size_t len, uint64_t *v)
{
	if (len == 0 || len > 19)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in 64 bits */
	}
	if (x > HTTP_SIZE_MAX)
		return -1;
	*v = x;
	return 0;
}

int http_content_range_parse(const char *value, uint64_t *first, uint64_t *last,
			     uint64_t *total, int *unsatisfied)
{
	*first = *last = *total = 0;
	*unsatisfied = 0;
	if (strncasecmp(value, "bytes ", 6) != 0)
		return err_set("Content-Range '%.60s': expected 'bytes FIRST-LAST/TOTAL'", value);
	const char *p = value + 6;
	const char *slash = strchr(p, '/');
	if (!slash || parse_decimal(slash + 1, strlen(slash + 1), total) != 0)
		return err_set("Content-Range '%.60s': the total is not a number up to 2^62", value);
	if (slash - p == 1 && *p == '*') {
		*unsatisfied = 1;
		return 0;
	}
	const char *dash = memchr(p, '-', (size_t)(slash - p));
	if (!dash || parse_decimal(p, (size_t)(dash - p), first) != 0 ||
	    parse_decimal(dash + 1, (size_t)(slash - dash - 1), last) != 0)
		return err_set("Content-Range '%.60s': expected decimal FIRST-LAST", value);
	if (*first > *last || *last >= *total)
		return err_set("Content-Range '%.60s': the range is not inside the file", value);
	return 0;
}

int http_chunk_line_parse(const char *line, size_t len, uint64_t *size)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len; i++) {
		char ch = line[i];
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
						 : -1;
		if (d < 0)
			break;
		if (i == 15)
			return err_set("chunked body: a chunk size of more than 15 hex digits");
		v = v << 4 | (uint64_t)d;
	}
	if (i == 0)
		return err_set("chunked body: a chunk size line without a hex number");
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
		return err_set("chunked body: unexpected text after the chunk size");
	for (; i < len; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			return err_set("chunked body: a control character in a chunk extension");
	*size = v;
	return 0;
}

/* The status line: HTTP/1.x SP 3DIGIT [SP reason]. */
static int parse_status_line(const char *s, size_t len, struct http_response *r)
{
	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') ||
	    s[8] != ' ')
		return err_set("the server's answer is not HTTP/1.x: '%.40s'", s);
	r->http11 = s[7] == '1';
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return err_set("HTTP status '%.3s' is not a number", s + 9);
		status = status * 10 + (s[i] - '0');
	}
	if (status < 100 || (len > 12 && s[12] != ' '))
		return err_set("HTTP status line '%.60s' is malformed", s);
	r->status = status;
	size_t n = len > 13 ? len - 13 : 0;
	if (n >= sizeof(r->reason))
		n = sizeof(r->reason) - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[13 + i];
		r->reason[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	r->reason[n] = '\0';
	return 0;
}

/* The value of a header, trimmed, copied into out (NUL-terminated); -1 when too long. */
static int copy_value(const char *v, size_t len, char *out, size_t size)
{
	if (len >= size)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

static int header_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Printable ASCII of v (at most size - 1 bytes, '?' for anything else) into out. */
static void copy_printable(const char *v, size_t len, char *out, size_t size)
{
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
	out[n] = '\0';
}

/* The headers a range fetch reads; every other one is skipped unread. */
enum header_kind {
	H_OTHER, H_LENGTH, H_TRANSFER, H_RANGE, H_ETAG, H_LOCATION, H_CONNECTION, H_ENCODING,
	H_RETRY_AFTER, H_DATE,
};

static enum header_kind header_kind(const char *name, size_t len)
{
	static const struct {
		const char *name;
		enum header_kind kind;
	} known[] = {
		{ "Content-Length", H_LENGTH },	    { "Transfer-Encoding", H_TRANSFER },
		{ "Content-Range", H_RANGE },	    { "ETag", H_ETAG },
		{ "Location", H_LOCATION },	    { "Connection", H_CONNECTION },
		{ "Content-Encoding", H_ENCODING }, { "Retry-After", H_RETRY_AFTER },
		{ "Date", H_DATE },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (header_is(name, len, known[i].name))
			return known[i].kind;
	return H_OTHER;
}

static int parse_header(const char *name, size_t nlen, const char *v, size_t vlen,
			struct http_response *r)
{
	enum header_kind kind = header_kind(name, nlen);
	if (kind == H_OTHER)
		return 0; /* unread, so never too long: only the whole head is bounded */
	char value[HTTP_LOCATION_MAX];
	if (copy_value(v, vlen, value, sizeof(value)) != 0)
		return err_set("HTTP header %.*s is %zu bytes long: refused", (int)nlen, name, vlen);
	switch (kind) {
	case H_LENGTH: {
		uint64_t n;
		if (parse_decimal(value, vlen, &n) != 0)
			return err_set("Content-Length '%.40s' is not a number up to 2^62", value);
		if (r->has_length && n != r->length)
			return err_set("two different Content-Length headers");
		r->has_length = 1;
		r->length = n;
		break;
	}
	case H_TRANSFER:
		if (strcasecmp(value, "chunked") != 0)
			return err_set("Transfer-Encoding '%.40s': only chunked is accepted", value);
		r->chunked = 1;
		break;
	case H_RANGE:
		if (r->has_range)
			return err_set("two Content-Range headers");
		if (http_content_range_parse(value, &r->range_first, &r->range_last,
					     &r->range_total, &r->range_unsatisfied) != 0)
			return -1;
		r->has_range = 1;
		break;
	case H_ETAG:
		if (copy_value(value, vlen, r->etag, sizeof(r->etag)) != 0)
			return err_set("ETag is %zu bytes long, at most %d are accepted", vlen,
				       HTTP_ETAG_MAX - 1);
		for (size_t i = 0; i < vlen; i++)
			if ((unsigned char)value[i] < 0x21 || (unsigned char)value[i] > 0x7e)
				return err_set("ETag has a space or control character");
		break;
	case H_LOCATION:
		strcpy(r->location, value);
		break;
	case H_CONNECTION:
		/* a list of tokens: "close" ends the connection, "keep-alive" keeps a 1.0 one */
		for (char *tok = value; *tok;) {
			size_t n = strcspn(tok, ", \t");
			if (n == 5 && strncasecmp(tok, "close", 5) == 0)
				r->conn_close = 1;
			else if (n == 10 && strncasecmp(tok, "keep-alive", 10) == 0)
				r->conn_keep_alive = 1;
			tok += n;
			tok += strspn(tok, ", \t");
		}
		break;
	case H_ENCODING:
		/* "identity" (or nothing) is the bytes as stored; anything else is named later */
		if (vlen && strcasecmp(value, "identity") != 0)
			copy_printable(value, vlen, r->encoding, sizeof(r->encoding));
		break;
	case H_RETRY_AFTER:
		if (parse_decimal(value, vlen, &r->retry_after_s) != 0 &&
		    http_date_parse(value, &r->retry_after_at) != 0)
			r->retry_after_s = 0; /* unreadable advice: the client's own backoff */
		break;
	case H_DATE:
		if (http_date_parse(value, &r->date) != 0)
			r->date = 0;
		break;
	case H_OTHER:
		break;
	}
	return 0;
}

int http_response_parse(const char *head, size_t len, struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	if (len > HTTP_HEAD_MAX)
		return err_set("the response head is %zu bytes, at most %d are accepted", len,
			       HTTP_HEAD_MAX);
	if (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0)
		return err_set("the response head does not end in an empty line (CRLF CRLF)");
	if (memchr(head, '\0', len))
		return err_set("the response head has a NUL byte");
	size_t pos = 0, lines = 0;
	while (pos < len) {
		const char *line = head + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (!nl || nl == line || nl[-1] != '\r')
			return err_set("line %zu of the response head does not end in CRLF", lines + 1);
		size_t llen = (size_t)(nl - line) - 1;
		pos = (size_t)(nl - head) + 1;
		if (memchr(line, '\r', llen))
			return err_set("line %zu of the response head has a bare CR", lines + 1);
		if (lines == 0) {
			if (parse_status_line(line, llen, r) != 0)
				return -1;
		} else if (llen == 0) {
			break; /* the empty line ends the head */
		} else {
			if (line[0] == ' ' || line[0] == '\t')
				return err_set("a folded header line (obsolete, refused)");
			const char *colon = memchr(line, ':', llen);
			if (!colon || colon == line)
				return err_set("response header line %zu has no 'Name:'", lines);
			size_t nlen = (size_t)(colon - line);
			for (size_t i = 0; i < nlen; i++)
				if (line[i] <= 0x20 || line[i] >= 0x7f)
					return err_set("response header name with a space or control "
						       "character");
			const char *v = colon + 1;
			size_t vlen = llen - nlen - 1;
			while (vlen && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (parse_header(line, nlen, v, vlen, r) != 0)
				return -1;
		}
		lines++;
	}
	r->keep_alive = !r->conn_close && (r->http11 || r->conn_keep_alive);
	if (r->chunked && r->has_length)
		return err_set("both Content-Length and chunked: refused (a response must have one "
			       "length)");
	return 0;
}

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s (exactly), or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int http_date_parse(const char *text, int64_t *unix_s)
{
	/* "Sun, 06 Nov 1994 08:49:37 GMT": fixed columns (RFC 9110 section 5.6.7) */
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	if (strlen(text) != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' ||
	    text[11] != ' ' || text[16] != ' ' || text[19] != ':' || text[22] != ':' ||
	    strcmp(text + 25, " GMT") != 0)
		return -1;
	int day = digits(text + 5, 2), year = digits(text + 12, 4), hour = digits(text + 17, 2),
	    min = digits(text + 20, 2), sec = digits(text + 23, 2);
	int month = 0;
	for (int i = 0; i < 12 && !month; i++)
		if (memcmp(text + 8, months + 3 * i, 3) == 0)
			month = i + 1;
	if (day < 1 || day > 31 || year < 1970 || !month || hour < 0 || hour > 23 || min < 0 ||
	    min > 59 || sec < 0 || sec > 60)
		return -1;
	*unix_s = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 +
		  min * 60 + sec;
	return 0;
}

uint64_t http_retry_after_ms(const struct http_response *r, int64_t now_unix_s)
{
	/* a server may name days: capped long before the multiplication could overflow */
	const uint64_t day_s = 86400;
	if (r->retry_after_s)
		return (r->retry_after_s < day_s ? r->retry_after_s : day_s) * 1000;
	if (!r->retry_after_at)
		return 0;
	int64_t now = r->date ? r->date : now_unix_s;
	if (r->retry_after_at <= now)
		return 0;
	uint64_t s = (uint64_t)(r->retry_after_at - now);
	return (s < day_s ? s : day_s) * 1000;
}

int http_status_is_transient(int status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

const char *http_status_words(int status)
{
	static const struct {
		int status;
		const char *words;
	} table[] = {
		{ 200, "OK" }, { 206, "Partial Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 410, "Gone" },
		{ 412, "Precondition Failed" }, { 416, "Range Not Satisfiable" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].status == status)
			return table[i].words;
	return "";
}
