/* SPDX-License-Identifier: MIT */
/* Listening links, one thread per connected board, and the range server itself. */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "le.h"
#include "link_io.h"
#include "link_usb.h"
#include "pkg.h"
#include "timing.h"

#define DEFAULT_MAX_PAYLOAD (256u << 10)

struct listener {
	const char *spec;
	int fd;     /* listening socket, or the tty itself */
	int is_tty;      /* a tty has one board; it is reopened when it goes away */
	atomic_int busy; /* tty: a connection thread owns it */
	struct usb_link *usb; /* usb: finds devices; fd polls readable when one is bridged */
};

struct server {
	const struct serve_opts *o;
	int pkg_fd;
	uint64_t pkg_size;
	char pkg_name[LINK_NAME_MAX];
	atomic_int stop;
	atomic_int live; /* connection threads running */
	atomic_uint connections;
	atomic_uint_fast64_t data_sent;
	struct listener links[SERVE_MAX_LINKS];
};

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

static int start_connection(struct server *s, int fd, int is_socket, const char *link,
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

/* ---- links -------------------------------------------------------------------------------- */

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	if (link_unix_address(path, &sa) != 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set("%s exists and is not a socket: not replacing it", path);
		unlink(path); /* a socket left by an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		int e = errno;
		close(fd);
		return err_set("listen on %s: %s", path, strerror(e));
	}
	return fd;
}

static int listen_tcp(const char *spec)
{
	char host[256] = "";
	const char *port = spec;
	const char *colon = strrchr(spec, ':');
	if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return err_set("tcp link '%s': host name too long", spec);
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		return err_set("tcp link '%s': %s", spec, gai_strerror(rc));
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err_set("listen on tcp %s: %s", spec, strerror(e));
}

static int open_listener(struct listener *l)
{
	const char *s = l->spec;
	l->is_tty = 0;
	if (strncmp(s, "unix:", 5) == 0 && s[5])
		l->fd = listen_unix(s + 5);
	else if (strncmp(s, "tcp:", 4) == 0 && s[4])
		l->fd = listen_tcp(s + 4);
	else if (strncmp(s, "tty:", 4) == 0 && s[4]) {
		l->is_tty = 1;
		l->fd = link_open_device(s + 4);
	} else if (strncmp(s, "usb:", 4) == 0) {
		l->usb = usb_link_open(s);
		l->fd = l->usb ? usb_link_fd(l->usb) : -1;
	} else
		return err_set("link '%s': expected unix:PATH, tcp:[HOST:]PORT, tty:DEVICE or "
			       "usb:[VID:PID][,port=BUS-PORT][,serial=TEXT]", s);
	return l->fd < 0 ? -1 : 0;
}

static void close_listener(struct listener *l)
{
	if (l->usb)
		usb_link_close(l->usb);
	else if (l->fd >= 0 && !l->is_tty)
		close(l->fd);
	if (strncmp(l->spec, "unix:", 5) == 0 && l->fd >= 0)
		unlink(l->spec + 5);
	l->usb = NULL;
	l->fd = -1;
}

/* A usb: listener's news: a bridged device to serve, or something the user should hear. */
static void accept_usb(struct server *s, struct listener *l)
{
	char name[64];
	int fd, r = usb_link_accept(l->usb, &fd, name, sizeof(name));
	if (r > 0)
		start_connection(s, fd, 1, name, NULL);
	else if (r < 0)
		report_note(s->o->report, NULL, "%s", err_msg());
}

/* Accepts boards on every link until stopped; reopens a tty that went away. */
static void *accept_main(void *arg)
{
	struct server *s = arg;
	const struct serve_opts *o = s->o;
	struct listener *ls = s->links;
	struct pollfd pfd[SERVE_MAX_LINKS];
	double tty_retry = 0;
	for (int i = 0; i < o->nlinks; i++)
		if (ls[i].is_tty)
			start_connection(s, ls[i].fd, 0, ls[i].spec, &ls[i].busy);
	while (!atomic_load(&s->stop)) {
		/* a tty (CDC-ACM) disappears with its USB device: open it again when it is back */
		for (int i = 0; i < o->nlinks && timing_now_s() >= tty_retry; i++) {
			if (!ls[i].is_tty || atomic_load(&ls[i].busy))
				continue;
			ls[i].fd = link_open_device(ls[i].spec + 4);
			if (ls[i].fd >= 0)
				start_connection(s, ls[i].fd, 0, ls[i].spec, &ls[i].busy);
			tty_retry = timing_now_s() + 1.0;
		}
		int n = 0;
		for (int i = 0; i < o->nlinks; i++)
			if (!ls[i].is_tty && ls[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		if (n == 0) {
			struct timespec ts = { 0, 200 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (!(pfd[k].revents & POLLIN))
				continue;
			struct listener *l = NULL;
			for (int i = 0; i < o->nlinks; i++)
				if (ls[i].fd == pfd[k].fd)
					l = &ls[i];
			if (l && l->usb) {
				accept_usb(s, l);
				continue;
			}
			int fd = accept4(pfd[k].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				start_connection(s, fd, 1, l ? l->spec : "?", NULL);
		}
	}
	for (int i = 0; i < o->nlinks; i++)
		close_listener(&ls[i]);
	return NULL;
}

/* one server per process: detached connection threads may outlive a call by a moment */
static struct server the_server;
static struct serve_opts the_opts;
static pthread_t the_acceptor;

int serve_start(const struct serve_opts *o)
{
	struct server *s = &the_server;
	*s = (struct server){ .o = &the_opts, .pkg_fd = -1 };
	the_opts = *o;
	if (!the_opts.max_payload)
		the_opts.max_payload = DEFAULT_MAX_PAYLOAD;
	if (the_opts.max_payload < FRAME_MIN_PAYLOAD || the_opts.max_payload > FRAME_MAX_PAYLOAD)
		return err_set("frame payload %" PRIu32 " outside %u..%u", the_opts.max_payload,
			       FRAME_MIN_PAYLOAD, FRAME_MAX_PAYLOAD);
	s->pkg_fd = open(o->package, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (s->pkg_fd < 0 || fstat(s->pkg_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set("%s: %s", o->package, s->pkg_fd < 0 ? strerror(errno) : "not a regular file");
		if (s->pkg_fd >= 0)
			close(s->pkg_fd);
		return -1;
	}
	s->pkg_size = (uint64_t)st.st_size;
	/* not the host's business to understand it, but a wrong file deserves a clear word */
	uint8_t head[PKG_PREFIX_SIZE];
	struct pkg_header h;
	if (pread(s->pkg_fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pkg_header_decode(head, s->pkg_size, &h) != 0) {
		err_prefix("%s is not a selfflash package", o->package);
		close(s->pkg_fd);
		return -1;
	}
	const char *base = strrchr(o->package, '/');
	snprintf(s->pkg_name, sizeof(s->pkg_name), "%s", base ? base + 1 : o->package);
	/* the links are open before this returns, so a board started next finds them */
	for (int i = 0; i < o->nlinks; i++) {
		struct listener *l = &s->links[i];
		l->spec = o->links[i];
		l->fd = -1;
		atomic_init(&l->busy, 0);
		if (open_listener(l) != 0) {
			for (int k = 0; k < i; k++) {
				if (s->links[k].is_tty && s->links[k].fd >= 0)
					close(s->links[k].fd); /* no connection owns it yet */
				close_listener(&s->links[k]);
			}
			close(s->pkg_fd);
			return -1;
		}
	}
	if (pthread_create(&the_acceptor, NULL, accept_main, s) != 0) {
		close(s->pkg_fd);
		return err_set("cannot start the accept thread");
	}
	return 0;
}

int serve_wait(unsigned timeout_s)
{
	const struct serve_opts *o = &the_opts;
	if (report_wait(o->report, o->boards ? o->boards : UINT32_MAX, timeout_s) != 0)
		return err_set("no result from %u board%s within %u s", o->boards,
			       o->boards == 1 ? "" : "s", timeout_s);
	return 0;
}

int serve_stop(void)
{
	struct server *s = &the_server;
	atomic_store(&s->stop, 1);
	pthread_join(the_acceptor, NULL);
	/* connection threads see the stop within their 500 ms poll */
	for (int i = 0; i < 40 && atomic_load(&s->live) > 0; i++) {
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->live) == 0)
		close(s->pkg_fd);
	return the_opts.report->failures ? 1 : 0;
}

int serve_run(const struct serve_opts *o)
{
	if (serve_start(o) != 0)
		return 3;
	int rc = serve_wait(o->wait_timeout_s);
	int status = serve_stop();
	return rc != 0 ? 3 : status;
}
