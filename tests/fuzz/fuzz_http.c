/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the HTTP client's parsers: the input is taken as a response head, a
 * URL (and a redirect target read against a fixed base), a Content-Range value and a chunk
 * size line. Whatever is accepted must be self-consistent: a range inside its file, a status
 * in 100..599, a URL path starting with '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_parse.h"

static char text[HTTP_HEAD_MAX + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > HTTP_HEAD_MAX)
		size = HTTP_HEAD_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	struct http_response r;
	if (http_response_parse(text, size, &r) == 0) {
		if (r.status < 100 || r.status > 999)
			abort();
		if (r.has_range && !r.range_unsatisfied &&
		    (r.range_first > r.range_last || r.range_last >= r.range_total))
			abort();
		if (r.chunked && r.has_length)
			abort();
	}
	struct http_url u, base, out;
	if (http_url_parse(text, &u) == 0 && u.path[0] != '/')
		abort();
	if (http_url_parse("https://base.example:8443/dir/file?q", &base) == 0 &&
	    http_url_resolve(&base, text, &out) == 0 && out.path[0] != '/')
		abort();
	uint64_t first, last, total, n;
	int unsat;
	if (http_content_range_parse(text, &first, &last, &total, &unsat) == 0 && !unsat &&
	    (first > last || last >= total || total > HTTP_SIZE_MAX))
		abort();
	(void)http_chunk_line_parse(text, size, &n);
	return 0;
}
