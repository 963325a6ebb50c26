/* SPDX-License-Identifier: MIT */
/* The run's result as JSON, POSTed to a fleet's URL (run_report.h). */
#include "run_report.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "net/http.h"

/* s as a JSON string body: quotes, backslashes and control characters escaped. */
static void put_string(char *out, size_t size, size_t *n, const char *s)
{
	for (; *s && *n + 8 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			*n += (size_t)snprintf(out + *n, size - *n, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			*n += (size_t)snprintf(out + *n, size - *n, "\\u%04x", ch);
		else
			out[(*n)++] = (char)ch;
	}
	out[*n] = '\0';
}

/* Appends formatted text, never past size. */
#define PUT(...)                                                                   \
	do {                                                                       \
		int k_ = snprintf(out + n, size - n, __VA_ARGS__);                 \
		n += k_ < 0 ? 0 : (size_t)k_ < size - n ? (size_t)k_ : size - n - 1; \
	} while (0)

size_t run_report_json(const struct run_result *res, char *out, size_t size)
{
	size_t n = 0;
	if (size < 64)
		return 0;
	out[0] = '\0';
	const char *keys[] = { "kind", "serial", "package", "slot", "outcome", "message" };
	const char *values[] = { res->kind, res->serial, res->package, res->slot,
				 res->ok ? "success" : "failure", res->message };
	PUT("{");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		PUT("%s\"%s\":\"", i ? "," : "", keys[i]);
		put_string(out, size - 200, &n, values[i] ? values[i] : "");
		PUT("\"");
	}
	PUT(",\"system_version\":%" PRIu64 ",\"bytes_fetched\":%" PRIu64 ",\"bytes_copied\":%" PRIu64
	    ",\"bytes_in_place\":%" PRIu64 ",\"seconds\":%.2f}\n", res->system_version,
	    res->bytes_fetched, res->bytes_copied, res->bytes_in_place, res->seconds);
	return n;
}

void run_report_send(const char *url, const char *ca, const struct run_result *res, FILE *log)
{
	static char body[4096];
	size_t len = run_report_json(res, body, sizeof(body));
	struct http_url u;
	struct tls_anchors *anchors = NULL;
	int rc = http_url_parse(url, &u);
	if (rc == 0 && u.https)
		rc = ca ? tls_anchors_load(ca, &anchors)
			: err_set("an https:// report URL needs trust anchors: set 'ca FILE'");
	if (rc == 0) {
		struct http_opts o = { .io_timeout_ms = 10000, .anchors = anchors };
		rc = http_post(&u, &o, "application/json", body, len);
	}
	if (anchors)
		tls_anchors_free(anchors);
	if (rc == 0)
		fprintf(log, "flasher: result reported to %s\n", url);
	else
		fprintf(log, "flasher: the result could not be reported (the outcome stands): %s\n",
			err_msg());
}
