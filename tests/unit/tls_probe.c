/* SPDX-License-Identifier: MIT */
/*
 * The TLS client against a real server, for tests/host/tls_client.sh: connects with
 * net_connect_tcp, wraps with tls_wrap, sends LINE and a newline, prints the first line
 * that comes back. With -n N, N threads do the same at once (each its own connection, one
 * shared set of anchors). With -c ADDRESS, connects to ADDRESS and names HOST in TLS only
 * (as curl --resolve: names no resolver knows, for wildcard cases). Prints
 * "tls_probe: MESSAGE" and exits 1 on the first failure.
 * Usage: tls_probe [-n N] [-c ADDRESS] HOST PORT BUNDLE TIMEOUT_MS LINE
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/error.h"
#include "net/net_stream.h"
#include "net/tls.h"

struct probe {
	const char *host, *address, *port, *line;
	unsigned timeout_ms;
	const struct tls_anchors *anchors;
	char answer[256];
	char error[ERR_MSG_MAX];
	int failed;
};

/* Reads until a newline or the stream's end; what came, NUL-terminated. 0 or -1. */
static int read_line(struct net_stream *s, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t got = s->ops->read(s, buf + n, cap - 1 - n);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		n += (size_t)got;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	char *nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	return 0;
}

static void *probe_run(void *arg)
{
	struct probe *p = arg;
	struct net_stream s;
	char out[300];
	snprintf(out, sizeof(out), "%s\n", p->line);
	int rc = net_connect_tcp(&s, p->address, p->port, p->timeout_ms);
	if (rc == 0)
		rc = tls_wrap(&s, p->anchors, p->host);
	if (rc == 0)
		rc = s.ops->write(&s, out, strlen(out));
	if (rc == 0)
		rc = read_line(&s, p->answer, sizeof(p->answer));
	if (rc != 0)
		snprintf(p->error, sizeof(p->error), "%s", err_msg());
	p->failed = rc != 0;
	net_stream_close(&s);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1;
	const char *address = NULL;
	while (argc > 2 && (strcmp(argv[1], "-n") == 0 || strcmp(argv[1], "-c") == 0)) {
		if (argv[1][1] == 'n')
			threads = atoi(argv[2]);
		else
			address = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 6 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: tls_probe [-n N] [-c ADDRESS] HOST PORT BUNDLE TIMEOUT_MS "
				"LINE\n");
		return 2;
	}
	struct tls_anchors *anchors;
	if (tls_anchors_load(argv[3], &anchors) != 0) {
		fprintf(stderr, "tls_probe: %s\n", err_msg());
		return 1;
	}
	struct probe *probes = calloc((size_t)threads, sizeof(*probes));
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
	if (!probes || !tids)
		return 2;
	for (int i = 0; i < threads; i++) {
		probes[i] = (struct probe){ .host = argv[1], .address = address ? address : argv[1],
					    .port = argv[2], .line = argv[5],
					    .timeout_ms = (unsigned)atoi(argv[4]), .anchors = anchors };
		if (pthread_create(&tids[i], NULL, probe_run, &probes[i]) != 0)
			return 2;
	}
	int failed = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		if (probes[i].failed)
			fprintf(stderr, "tls_probe: %s\n", probes[i].error);
		else
			printf("%s\n", probes[i].answer);
		failed |= probes[i].failed;
	}
	tls_anchors_free(anchors);
	free(probes);
	free(tids);
	return failed;
}
