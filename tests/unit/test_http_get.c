/* SPDX-License-Identifier: MIT */
/*
 * http_get_range against canned answers from a socket served by a thread: chunked bodies,
 * ranges other than the one asked, 200 answers, 408/429/5xx asked again (Retry-After
 * honoured), a trickling head or body dropped at its deadline with the rate named, a
 * compressed answer refused by name, the run's end cutting a steady body and a server's waits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "net/http.h"
#include "timing.h"

/* What the server thread answers, one connection after another: all at once, or with
 * byte_ms the first `fast` bytes at once and the rest `step` bytes (default 1) every byte_ms. */
struct canned {
	const char *text;
	size_t fast;
	unsigned byte_ms, step;
};
static const struct canned *script;
static size_t script_len;
static int listen_fd;
/* the run's end for fetch_script's call, this long after it starts (0: none) */
static unsigned run_end_after_ms;

static void *serve_script(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < script_len; i++) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		char req[4096];
		size_t n = 0;
		while (n < sizeof(req) - 1) { /* the request head */
			ssize_t k = read(fd, req + n, sizeof(req) - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		const struct canned *a = &script[i];
		size_t len = strlen(a->text);
		size_t fast = !a->byte_ms ? len : a->fast < len ? a->fast : len;
		int ok = send(fd, a->text, fast, MSG_NOSIGNAL) == (ssize_t)fast;
		size_t step = a->step ? a->step : 1;
		for (size_t k = fast; ok && k < len; k += step) {
			size_t piece = len - k < step ? len - k : step;
			usleep(a->byte_ms * 1000);
			ok = send(fd, a->text + k, piece, MSG_NOSIGNAL) == (ssize_t)piece; /* ends once dropped */
		}
		close(fd);
	}
	return NULL;
}

/* A range request answered by the connections of `answers` in turn, retried for retry_ms;
 * http_get_range's result. */
static int fetch_script(const struct canned *answers, size_t count, unsigned retry_ms,
			uint64_t off, uint64_t len, const char *if_range, char *buf,
			struct http_range *q)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(listen_fd, 4) != 0 || getsockname(listen_fd, (struct sockaddr *)&a, &alen) != 0)
		return -2;
	script = answers;
	script_len = count;
	pthread_t t;
	pthread_create(&t, NULL, serve_script, NULL);
	char text[64];
	snprintf(text, sizeof(text), "http://127.0.0.1:%u/p", ntohs(a.sin_port));
	struct http_url u;
	http_url_parse(text, &u);
	static struct http_conn c;
	http_conn_init(&c);
	struct http_opts o = { .io_timeout_ms = 1000, .retry_ms = retry_ms, .log = stderr };
	if (run_end_after_ms) {
		o.run_end_ms = timing_now_ms() + run_end_after_ms;
		o.run_timeout_s = (run_end_after_ms + 999) / 1000;
	}
	*q = (struct http_range){ .off = off, .len = len, .if_range = if_range };
	int rc = http_get_range(&c, &u, &o, q, buf);
	http_conn_close(&c);
	shutdown(listen_fd, SHUT_RDWR); /* a script not used up ends its thread */
	pthread_join(t, NULL);
	close(listen_fd);
	return rc;
}

/* One range request answered with `answer`, no retries. */
static int fetch_canned(const char *answer, uint64_t off, uint64_t len, const char *if_range,
			char *buf, struct http_range *q)
{
	struct canned one = { .text = answer };
	return fetch_script(&one, 1, 0, off, len, if_range, buf, q);
}

static void test_get_range_bodies(void)
{
	char buf[16] = { 0 };
	struct http_range q;
	CHECK(fetch_canned("HTTP/1.1 206 Partial\r\nContent-Range: bytes 2-6/10\r\nContent-Length: 5\r\n"
			   "ETag: \"e1\"\r\n\r\nhello", 2, 5, NULL, buf, &q) == 0);
	CHECK(memcmp(buf, "hello", 5) == 0 && q.total == 10);
	CHECK_STR_EQ(q.etag, "\"e1\"");
	memset(buf, 0, sizeof(buf));
	CHECK(fetch_canned("HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-7/8\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n5\r\ndefgh\r\n0\r\n"
			   "T: 1\r\n\r\n", 0, 8, NULL, buf, &q) == 0);
	CHECK(memcmp(buf, "abcdefgh", 8) == 0);
}

static void test_get_range_hostile(void)
{
	char buf[16];
	struct http_range q;
	/* a range other than the one asked (beyond it) */
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 2-9/10\r\nContent-Length: 8\r\n\r\n"
			   "12345678", 2, 5, NULL, buf, &q) != 0);
	CHECK(strstr(err_msg(), "asked for") != NULL);
	/* a length other than the range's */
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 2-6/10\r\nContent-Length: 9\r\n\r\n"
			   "123456789", 2, 5, NULL, buf, &q) != 0);
	/* chunks adding up to more than asked */
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 0-3/8\r\nTransfer-Encoding: "
			   "chunked\r\n\r\n8\r\nabcdefgh\r\n0\r\n\r\n", 0, 4, NULL, buf, &q) != 0);
	/* a chunk not ended by CRLF */
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 0-3/8\r\nTransfer-Encoding: "
			   "chunked\r\n\r\n4\r\nabcdXY0\r\n\r\n", 0, 4, NULL, buf, &q) != 0);
	/* a body cut short by the server */
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 0-3/8\r\nContent-Length: 4\r\n\r\n"
			   "ab", 0, 4, NULL, buf, &q) != 0);
	CHECK(strstr(err_msg(), "closed the connection") != NULL);
	/* 200 for a range: no range support; with If-Range: the file changed */
	CHECK(fetch_canned("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcdefgh", 0, 4, NULL, buf,
			   &q) != 0);
	CHECK(strstr(err_msg(), "ignores Range requests") != NULL && !q.changed);
	CHECK(fetch_canned("HTTP/1.1 200 OK\r\nETag: \"new\"\r\nContent-Length: 8\r\n\r\nabcdefgh", 0,
			   4, "\"old\"", buf, &q) != 0);
	CHECK(q.changed);
	CHECK(fetch_canned("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, 4, NULL, buf,
			   &q) != 0);
	CHECK(strstr(err_msg(), "HTTP 404 Not Found") != NULL);
	CHECK(fetch_canned("HTTP/1.1 503 Whatever\r\n\r\n", 0, 4, NULL, buf, &q) != 0);
	CHECK(strstr(err_msg(), "503 Service Unavailable") != NULL);
	CHECK(fetch_canned("HTTP/1.1 301 Moved\r\nLocation: https://h/x\r\n\r\n", 0, 4, NULL, buf,
			   &q) != 0); /* no anchors: https is refused, with the setting named */
	CHECK(strstr(err_msg(), "ca FILE") != NULL);
}

#define PARTIAL_HELLO                                                                      \
	"HTTP/1.1 206 Partial\r\nContent-Range: bytes 2-6/10\r\nContent-Length: 5\r\n\r\nhello"

/* 408, 429 and 5xx are asked again (Retry-After honoured); 404 is not. */
static void test_get_range_transient(void)
{
	char buf[16] = { 0 };
	struct http_range q;
	const struct canned busy[] = {
		{ .text = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n" },
		{ .text = "HTTP/1.1 429 Too Many\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n" },
		{ .text = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n" },
		{ .text = PARTIAL_HELLO },
	};
	uint64_t t0 = timing_now_ms();
	CHECK(fetch_script(busy, 4, 10000, 2, 5, NULL, buf, &q) == 0);
	uint64_t ms = timing_now_ms() - t0;
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK(q.retries == 3 && q.transient == 3);
	CHECK(ms >= 1000 + 250 && ms < 5000); /* its Retry-After: 1, then the backoff */
	/* a Retry-After beyond what is left: given up at once, the status named */
	const struct canned later[] = {
		{ .text = "HTTP/1.1 503 S\r\nRetry-After: 30\r\n\r\n" },
		{ .text = PARTIAL_HELLO },
	};
	t0 = timing_now_ms();
	CHECK(fetch_script(later, 2, 3000, 2, 5, NULL, buf, &q) != 0);
	CHECK(timing_now_ms() - t0 < 1000);
	CHECK(strstr(err_msg(), "503 Service Unavailable") != NULL);
	CHECK(strstr(err_msg(), "gave up") != NULL);
	const struct canned missing[] = {
		{ .text = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
		{ .text = PARTIAL_HELLO },
	};
	CHECK(fetch_script(missing, 2, 10000, 2, 5, NULL, buf, &q) != 0 && q.retries == 0);
	CHECK(strstr(err_msg(), "404 Not Found") != NULL);
}

/* A head or a body that trickles is dropped at its deadline and asked again. */
static void test_get_range_trickle(void)
{
	char buf[4096];
	struct http_range q;
	/* the head a byte every 50 ms: not in within the 1 s I/O timeout */
	const struct canned slow_head[] = { { .text = PARTIAL_HELLO, .byte_ms = 50 }, { .text = PARTIAL_HELLO } };
	uint64_t t0 = timing_now_ms();
	CHECK(fetch_script(slow_head, 2, 10000, 2, 5, NULL, buf, &q) == 0);
	CHECK(q.slow == 1 && memcmp(buf, "hello", 5) == 0);
	CHECK(timing_now_ms() - t0 < 3000);
	/* a body of 4000 bytes at 10 bytes a second: below the minimum, named, then given up */
	static char body[4200];
	int n = snprintf(body, sizeof(body), "HTTP/1.1 206 P\r\nContent-Range: bytes 0-3999/4000"
			 "\r\nContent-Length: 4000\r\n\r\n");
	memset(body + n, 'x', 4000);
	const struct canned trickle[] = { { .text = body, .fast = (size_t)n + 100, .byte_ms = 100 } };
	t0 = timing_now_ms();
	CHECK(fetch_script(trickle, 1, 0, 0, 4000, NULL, buf, &q) != 0);
	uint64_t ms = timing_now_ms() - t0;
	CHECK(strstr(err_msg(), "below the minimum of 1024 bytes/s") != NULL);
	CHECK(ms >= HTTP_STALL_MS && ms < HTTP_STALL_MS + 2000);
	fprintf(stderr, "  a trickling body dropped after %.1f s: %s\n", (double)ms / 1000, err_msg());
	/* a chunked body whose wire bytes come fast enough (3.2 KB/s) but are nearly all chunk
	 * extensions: one data byte per 1 KiB chunk line, about 3 data bytes a second. The
	 * minimum rate is the data's, or such framing would stretch a request without end. */
	static char framed[64 * 1100];
	n = snprintf(framed, sizeof(framed), "HTTP/1.1 206 P\r\nContent-Range: bytes 0-39/40\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n");
	for (int k = 0; k < 40; k++) {
		n += snprintf(framed + n, sizeof(framed) - (size_t)n, "1;x=");
		memset(framed + n, 'e', 1000);
		n += 1000;
		n += snprintf(framed + n, sizeof(framed) - (size_t)n, "\r\ny\r\n");
	}
	snprintf(framed + n, sizeof(framed) - (size_t)n, "0\r\n\r\n");
	const struct canned padded[] = { { .text = framed, .fast = 200, .byte_ms = 20, .step = 64 } };
	t0 = timing_now_ms();
	CHECK(fetch_script(padded, 1, 0, 0, 40, NULL, buf, &q) != 0);
	ms = timing_now_ms() - t0;
	CHECK(strstr(err_msg(), "below the minimum of 1024 bytes/s") != NULL);
	CHECK(ms >= HTTP_STALL_MS && ms < HTTP_STALL_MS + 2000);
	fprintf(stderr, "  a body padded with chunk extensions dropped after %.1f s: %s\n",
		(double)ms / 1000, err_msg());
}

/* A compressed answer is refused by name, not for its length. */
static void test_get_range_encoding(void)
{
	char buf[16];
	struct http_range q;
	CHECK(fetch_canned("HTTP/1.1 206 P\r\nContent-Range: bytes 0-9/10\r\nContent-Encoding: gzip"
			   "\r\nContent-Length: 3\r\n\r\nabc", 0, 10, NULL, buf, &q) != 0);
	CHECK(strstr(err_msg(), "the server sent gzip-encoded data") != NULL);
}

/* The run's end stops a call whatever the server does: a body that comes steadily above the
 * minimum rate, and 503s whose Retry-After would go past it, both end there, saying so. */
static void test_get_range_run_end(void)
{
	static char body[20200];
	static char buf[20000];
	struct http_range q;
	int n = snprintf(body, sizeof(body), "HTTP/1.1 206 P\r\nContent-Range: bytes 0-19999/20000"
			 "\r\nContent-Length: 20000\r\n\r\n");
	memset(body + n, 'x', 20000);
	body[n + 20000] = '\0';
	/* 30 bytes every 10 ms: about 3 KB/s, well above the minimum, 7 s for the body */
	const struct canned steady[] = { { .text = body, .fast = (size_t)n, .byte_ms = 10, .step = 30 } };
	run_end_after_ms = 1500;
	uint64_t t0 = timing_now_ms();
	CHECK(fetch_script(steady, 1, 60000, 0, 20000, NULL, buf, &q) != 0);
	uint64_t ms = timing_now_ms() - t0;
	CHECK(strstr(err_msg(), "stopped at the run's deadline") != NULL && strstr(err_msg(), "of 20000 bytes"));
	CHECK(ms >= 1500 && ms < 2500);
	fprintf(stderr, "  a steady body ended at the run's end after %.1f s: %s\n",
		(double)ms / 1000, err_msg());
	/* 503 with Retry-After: 1 again and again: tries at 0, 1 and 2 s, none after the end */
	const char *busy = "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
	const struct canned busy5[] = { { .text = busy }, { .text = busy }, { .text = busy },
					{ .text = busy }, { .text = busy } };
	run_end_after_ms = 2500;
	t0 = timing_now_ms();
	CHECK(fetch_script(busy5, 5, 60000, 0, 10, NULL, buf, &q) != 0);
	ms = timing_now_ms() - t0;
	CHECK(q.retries == 2 && q.transient == 2);
	CHECK(strstr(err_msg(), "no time left for another try before the run's deadline "
				"(run-timeout 3 s)") != NULL);
	CHECK(ms >= 2000 && ms < 2500);
	fprintf(stderr, "  503s ended before the run's end after %.1f s: %s\n", (double)ms / 1000,
		err_msg());
	run_end_after_ms = 0;
}

int main(void)
{
	RUN(test_get_range_bodies);
	RUN(test_get_range_hostile);
	RUN(test_get_range_transient);
	RUN(test_get_range_trickle);
	RUN(test_get_range_encoding);
	RUN(test_get_range_run_end);
	return CHECK_EXIT();
}
