/* SPDX-License-Identifier: MIT */
/* One connected board: its frames answered (HELLO with WELCOME, READ with DATA from the
 * package) and reported (PROGRESS, LOG, RESULT), in a thread of its own. */
#include "serve_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "le.h"
#include "link_io.h"
#include "timing.h"

struct connection {
	struct server *srv;
	int fd;
	int is_socket;
	uint64_t cut_after; /* test hook: this connection ends after so many DATA bytes */
	atomic_int *busy; /* a tty's flag, cleared when the connection ends */
	char link[300];
	pthread_t thread;
};

/* Whole frames out; -1 when the board is gone. */
static int send_all(struct connection *c, const uint8_t *p, size_t len)
{
	return link_write_all(c->fd, c->is_socket, p, len);
}

static int send_fail(struct connection *c, uint8_t *buf, uint32_t seq, const char *text)
{
	size_t n = strlen(text) < LINK_TEXT_MAX ? strlen(text) : LINK_TEXT_MAX;
	return send_all(c, buf, frame_encode_copy(buf, FRAME_FAIL, seq, text, (uint32_t)n));
}

/* One READ: the range in DATA frames of at most max_payload, straight from the file. */
static int serve_read(struct connection *c, struct board_state *b, uint8_t *buf,
		      uint32_t max_payload, const struct frame *f, uint64_t *sent_total)
{
	struct server *s = c->srv;
	struct link_read rq;
	char text[256];
	if (link_read_decode(f->payload, f->len, &rq) != 0) {
		report_note(s->o->report, b, "bad READ: %s", err_msg());
		return send_fail(c, buf, f->seq, err_msg());
	}
	if (rq.offset > s->pkg_size || rq.length > s->pkg_size - rq.offset) {
		snprintf(text, sizeof(text),
			 "range %" PRIu64 "+%" PRIu32 " is past the end of the %" PRIu64 "-byte package",
			 rq.offset, rq.length, s->pkg_size);
		report_note(s->o->report, b, "%s", text);
		return send_fail(c, buf, f->seq, text);
	}
	uint32_t piece_max = max_payload - LINK_DATA_HEADER;
	for (uint64_t done = 0; done < rq.length;) {
		uint32_t n = rq.length - done < piece_max ? (uint32_t)(rq.length - done) : piece_max;
		uint8_t *payload = buf + FRAME_HEADER_SIZE;
		le64_store(payload, rq.offset + done);
		ssize_t got = pread(s->pkg_fd, payload + LINK_DATA_HEADER, n,
				    (off_t)(rq.offset + done));
		if (got != (ssize_t)n) {
			snprintf(text, sizeof(text), "package read at %" PRIu64 " failed: %s",
				 rq.offset + done, got < 0 ? strerror(errno) : "file shrank");
			report_note(s->o->report, b, "%s", text);
			return send_fail(c, buf, f->seq, text);
		}
		size_t len = frame_encode(buf, FRAME_DATA, f->seq, n + LINK_DATA_HEADER);
		if (c->cut_after && *sent_total + n > c->cut_after) {
			/* test hook: a cable pulled in the middle of a frame */
			size_t part = (size_t)(c->cut_after - *sent_total) + FRAME_HEADER_SIZE;
			(void)send_all(c, buf, part < len ? part : len);
			return err_set("cut by the test hook after %" PRIu64 " bytes", c->cut_after);
		}
		if (send_all(c, buf, len) != 0)
			return -1;
		*sent_total += n;
		report_sent(s->o->report, b, n);
		uint64_t all = atomic_fetch_add(&s->data_sent, n) + n;
		if (s->o->exit_after && all >= s->o->exit_after) {
			fprintf(stderr, "hostload: test hook: exiting abruptly after %" PRIu64 " bytes\n",
				all);
			_exit(4);
		}
		done += n;
	}
	return 0;
}

static void *connection_main(void *arg)
{
	struct connection *c = arg;
	struct server *s = c->srv;
	struct report *rep = s->o->report;
	uint32_t max_payload = s->o->max_payload;
	size_t buf_size = FRAME_OVERHEAD + (size_t)FRAME_MAX_PAYLOAD;
	uint8_t *rx = malloc(buf_size), *tx = malloc(buf_size);
	struct frame_decoder dec;
	struct board_state *b = NULL;
	uint64_t sent = 0;
	const char *why = "closed by the board";
	char reason[ERR_MSG_MAX];
	if (!rx || !tx || frame_decoder_init(&dec, rx, buf_size, FRAME_MAX_PAYLOAD) != 0) {
		why = "out of memory";
		goto out;
	}
	double last_heard = timing_now_s();
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = poll(&p, 1, 500);
		if (r < 0 && errno != EINTR) {
			why = strerror(errno);
			break;
		}
		if (r <= 0) {
			if (s->o->idle_timeout_s && timing_now_s() - last_heard > s->o->idle_timeout_s) {
				snprintf(reason, sizeof(reason), "silent for %u s", s->o->idle_timeout_s);
				why = reason;
				break;
			}
			continue;
		}
		size_t room;
		uint8_t *to = frame_decoder_space(&dec, &room);
		ssize_t n = read(c->fd, to, room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			why = n == 0 ? "closed by the board" : strerror(errno);
			break;
		}
		frame_decoder_commit(&dec, (size_t)n);
		last_heard = timing_now_s();
		struct frame f;
		int got, fatal = 0;
		while (!fatal && (got = frame_decoder_next(&dec, &f)) != 0) {
			if (got < 0) {
				report_note(rep, b, "link: %s", err_msg());
				continue;
			}
			switch (f.type) {
			case FRAME_HELLO: {
				struct link_hello h;
				if (link_hello_decode(f.payload, f.len, &h) != 0) {
					report_note(rep, b, "bad HELLO: %s", err_msg());
					fatal = send_fail(c, tx, f.seq, err_msg()) != 0;
					break;
				}
				if (h.version_max < LINK_VERSION_MIN || h.version_min > LINK_VERSION_MAX) {
					snprintf(reason, sizeof(reason),
						 "board speaks protocol %u..%u, this host %u..%u",
						 h.version_min, h.version_max, (unsigned)LINK_VERSION_MIN,
						 (unsigned)LINK_VERSION_MAX);
					report_note(rep, b, "%s", reason);
					fatal = send_fail(c, tx, f.seq, reason) != 0;
					break;
				}
				b = report_board(rep, h.session, h.board, c->link);
				if (!b) {
					fatal = send_fail(c, tx, f.seq, "host serves too many boards") != 0;
					break;
				}
				uint32_t limit = h.max_payload < max_payload ? h.max_payload : max_payload;
				struct link_welcome w = {
					.version = h.version_max < LINK_VERSION_MAX ? h.version_max
										    : LINK_VERSION_MAX,
					.max_payload = limit, .package_size = s->pkg_size,
				};
				snprintf(w.package, sizeof(w.package), "%s", s->pkg_name);
				if (limit < FRAME_MIN_PAYLOAD) {
					fatal = send_fail(c, tx, f.seq, "frame limit below 4096 bytes") != 0;
					break;
				}
				max_payload = limit;
				uint8_t payload[LINK_WELCOME_SIZE];
				link_welcome_encode(&w, payload);
				fatal = send_all(c, tx, frame_encode_copy(tx, FRAME_WELCOME, f.seq, payload,
									  sizeof(payload))) != 0;
				break;
			}
			case FRAME_READ:
				if (!b) {
					report_note(rep, b, "READ before HELLO: refused");
					fatal = send_fail(c, tx, f.seq, "say HELLO first") != 0;
					break;
				}
				if (serve_read(c, b, tx, max_payload, &f, &sent) != 0) {
					snprintf(reason, sizeof(reason), "%s", err_msg());
					why = reason;
					fatal = 1;
				}
				break;
			case FRAME_PROGRESS: {
				struct link_progress pr;
				if (!b)
					break;
				if (link_progress_decode(f.payload, f.len, &pr) == 0)
					report_progress(rep, b, &pr);
				else
					report_note(rep, b, "bad PROGRESS: %s", err_msg());
				break;
			}
			case FRAME_LOG: {
				char line[LINK_TEXT_MAX + 1];
				link_msg_printable(f.payload, f.len, line, sizeof(line));
				if (b)
					report_log(rep, b, line);
				break;
			}
			case FRAME_RESULT: {
				struct link_result res;
				if (!b || link_result_decode(f.payload, f.len, &res) != 0) {
					report_note(rep, b, "bad RESULT: %s", b ? err_msg() : "before HELLO");
					break;
				}
				report_result(rep, b, &res, s->pkg_size);
				fatal = send_all(c, tx, frame_encode(tx, FRAME_RESULT_ACK, f.seq, 0)) != 0;
				break;
			}
			case FRAME_KEEPALIVE:
				break;
			default:
				report_note(rep, b, "unexpected %s frame from the board: ignored",
					    frame_type_name(f.type));
				break;
			}
			if (fatal && why == NULL)
				why = "write failed";
		}
		if (fatal) {
			if (strcmp(why, "closed by the board") == 0) {
				snprintf(reason, sizeof(reason), "%s", err_msg());
				why = reason;
			}
			break;
		}
	}
out:
	if (b)
		report_link_down(rep, b, why);
	if (c->fd >= 0)
		close(c->fd);
	if (c->busy)
		atomic_store(c->busy, 0);
	free(rx);
	free(tx);
	atomic_fetch_sub(&s->live, 1);
	free(c);
	return NULL;
}

int serve_connection_start(struct server *s, int fd, int is_socket, const char *link,
			   atomic_int *busy)
{
	struct connection *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return err_set("out of memory");
	}
	c->srv = s;
	c->fd = fd;
	c->is_socket = is_socket;
	c->busy = busy;
	unsigned k = atomic_fetch_add(&s->connections, 1);
	if (s->o->cut_after && s->o->cuts == 0) {
		c->cut_after = s->o->cut_after;
	} else if (s->o->cut_after && k < s->o->cuts) {
		unsigned seed = s->o->cut_seed * 7919u + k;
		uint64_t r = (uint64_t)rand_r(&seed) << 31 ^ (uint64_t)rand_r(&seed);
		c->cut_after = 1 + r % s->o->cut_after;
	}
	if (busy)
		atomic_store(busy, 1);
	snprintf(c->link, sizeof(c->link), "%s", link);
	atomic_fetch_add(&s->live, 1);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&c->thread, &attr, connection_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		close(fd);
		free(c);
		atomic_fetch_sub(&s->live, 1);
		if (busy)
			atomic_store(busy, 0);
		return err_set("cannot start a connection thread");
	}
	return 0;
}
