/* SPDX-License-Identifier: MIT */
/* The board's end of the link: transports, HELLO, ordered range requests, resume. */
#include "link_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "le.h"
#include "link_io.h"

#define DEFAULT_MAX_PAYLOAD (256u << 10)
#define DEFAULT_WINDOW (4u << 20)
#define DEFAULT_IDLE_MS 10000u
#define DEFAULT_RECONNECT_MS 600000u
#define HELLO_WAIT_MS 3000
#define RESULT_WAIT_MS 15000
#define KEEPALIVE_MS 2000
/* getrandom(2) flag (Linux 5.6): whatever is there now, without waiting for the pool */
#ifndef GRND_INSECURE
#define LINK_GRND_INSECURE 0x0004
#else
#define LINK_GRND_INSECURE GRND_INSECURE
#endif
#define TX_SIZE (FRAME_OVERHEAD + 4 + LINK_TEXT_MAX)
#define USB_CONNECT_WAIT_MS 1000 /* one wait for the USB host, under the tx lock */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void say(struct link_client *lc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct link_client *lc, const char *fmt, ...)
{
	if (!lc->o.console)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("flasher: link: ", lc->o.console);
	vfprintf(lc->o.console, fmt, ap);
	fputc('\n', lc->o.console);
	fflush(lc->o.console);
	va_end(ap);
}

/* ---- transports ----------------------------------------------------------------------- */

/* /dev/vportNpM of the virtio-serial port called `name`. */
static int find_virtio_port(const char *name, char *path, size_t size)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d)
		return err_set("no virtio ports (/sys/class/virtio-ports: %s)", strerror(errno));
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char file[300], text[128] = "";
		snprintf(file, sizeof(file), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(file, "r");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f))
			text[strcspn(text, "\n")] = '\0';
		fclose(f);
		if (strcmp(text, name) == 0) {
			snprintf(path, size, "/dev/%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found ? 0 : err_set("no virtio port named %s", name);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	if (link_unix_address(path, &sa) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return err_set("connect to %s: %s", path, strerror(e));
	}
	return fd;
}

static int connect_tcp(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof(host) || !colon[1])
		return err_set("tcp link '%s': expected HOST:PORT", hostport);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		return err_set("tcp link %s: %s", hostport, gai_strerror(rc));
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err_set("connect to %s: %s", hostport, strerror(e));
}

/* The USB gadget, made once: a host that went away is waited for, the gadget stays. */
static int usb_setup(struct link_client *lc, const char *udc)
{
	if (lc->usb)
		return 0;
	struct usb_gadget *g = calloc(1, sizeof(*g));
	if (!g)
		return err_set("out of memory for the USB gadget");
	struct usb_gadget_opts u = lc->o.usb;
	if (udc[0])
		u.udc = udc;
	if (!u.console)
		u.console = lc->o.console;
	if (!u.write_timeout_ms) /* a host that takes nothing is as lost as one that sends nothing */
		u.write_timeout_ms = lc->o.idle_timeout_ms;
	if (usb_gadget_open(g, &u) != 0) {
		free(g);
		if (lc->usb_failures++ == 0)
			say(lc, "USB gadget: %s (trying again)", err_msg());
		return -1;
	}
	lc->usb = g;
	return 0;
}

static void transport_close(struct link_client *lc)
{
	if (lc->rfd >= 0)
		close(lc->rfd);
	if (lc->wfd >= 0 && lc->wfd != lc->rfd && !lc->usb_ffs)
		close(lc->wfd);
	lc->rfd = lc->wfd = -1;
}

/* Opens (or, for a device that stays open, waits for the host on) the transport. */
static int transport_open(struct link_client *lc)
{
	const char *s = lc->spec;
	if (lc->rfd >= 0 && !lc->is_socket && !lc->usb_ffs) {
		/* virtio-serial: the port stays open; POLLHUP says the host side is closed */
		struct pollfd p = { .fd = lc->rfd, .events = POLLIN };
		if (poll(&p, 1, 0) >= 0 && (p.revents & POLLHUP))
			return err_set("%s: no host connected", s);
		return 0;
	}
	transport_close(lc);
	int fd;
	if (strncmp(s, "unix:", 5) == 0) {
		fd = connect_unix(s + 5);
		lc->is_socket = 1;
	} else if (strncmp(s, "tcp:", 4) == 0) {
		fd = connect_tcp(s + 4);
		lc->is_socket = 1;
	} else if (strncmp(s, "virtio:", 7) == 0) {
		char path[300];
		fd = find_virtio_port(s + 7, path, sizeof(path)) == 0 ? link_open_device(path) : -1;
		lc->is_socket = 0;
	} else if (strncmp(s, "dev:", 4) == 0 || strncmp(s, "tty:", 4) == 0) {
		/* the gadget's CDC-ACM port (the USB fallback) exists once the gadget does */
		if (strncmp(s + 4, "/dev/ttyGS", 10) == 0 && access(s + 4, F_OK) != 0 &&
		    usb_setup(lc, "") != 0)
			return -1;
		fd = link_open_device(s + 4);
		lc->is_socket = 0;
	} else if (lc->usb_ffs) {
		/* a new session on the bulk endpoints once the host has enabled them */
		lc->is_socket = 0;
		if (usb_setup(lc, s + strlen("usb-gadget:")) != 0 ||
		    usb_gadget_connect(lc->usb, USB_CONNECT_WAIT_MS, &lc->rfd, &lc->wfd) != 0)
			return -1;
		return 0;
	} else {
		return err_set("link '%s': expected unix:PATH, tcp:HOST:PORT, virtio:NAME, dev:PATH "
			       "or usb-gadget:[UDC]", s);
	}
	if (fd < 0)
		return -1;
	lc->rfd = lc->wfd = fd;
	return 0;
}

int link_spec_known(const char *spec)
{
	static const char *const kinds[] = { "unix:", "tcp:", "virtio:", "dev:", "tty:" };
	if (strncmp(spec, "usb-gadget:", 11) == 0)
		return 1; /* the UDC name is optional */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(spec, kinds[i], strlen(kinds[i])) == 0 && spec[strlen(kinds[i])])
			return 1;
	return 0;
}

static int is_transient_errno(int e)
{
	return e == EINTR || e == EAGAIN;
}

/* Sends one whole frame under the tx lock; -1 marks the link down. */
static int send_frame(struct link_client *lc, const uint8_t *frame, size_t len)
{
	pthread_mutex_lock(&lc->tx_lock);
	int rc = !lc->usb_ffs	  ? link_write_all(lc->wfd, lc->is_socket, frame, len)
		 : lc->wfd >= 0 ? usb_gadget_write(lc->usb, frame, len)
				: err_set("link: no USB session");
	if (rc != 0) /* the keepalive thread's failure is told by the reader */
		snprintf(lc->write_error, sizeof(lc->write_error), "%s", err_msg());
	pthread_mutex_unlock(&lc->tx_lock);
	if (rc != 0)
		atomic_store(&lc->down, 1);
	else
		atomic_store(&lc->last_send_ms, now_ms());
	return rc;
}

/* Encodes and sends a small frame from lc->tx (callers hold no lock on tx: it is guarded). */
static int send_small(struct link_client *lc, uint8_t type, uint32_t seq, const void *payload,
		      uint32_t len)
{
	uint8_t frame[FRAME_OVERHEAD + 4 + LINK_TEXT_MAX];
	size_t n = frame_encode_copy(frame, type, seq, payload, len);
	return send_frame(lc, frame, n);
}

/*
 * Receives bytes into the decoder, waiting up to timeout_ms: 1 got bytes, 0 timed out, -1 the
 * link is gone (EOF, error, hang-up).
 */
static int receive(struct link_client *lc, int timeout_ms)
{
	struct pollfd p = { .fd = lc->rfd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return is_transient_errno(errno) ? 0 : err_set("link poll: %s", strerror(errno));
	if (r == 0)
		return 0;
	size_t room;
	uint8_t *to = frame_decoder_space(&lc->dec, &room);
	ssize_t n = read(lc->rfd, to, room);
	if (n < 0 && is_transient_errno(errno))
		return 0;
	if (n <= 0)
		return err_set("link %s", n == 0 ? "closed by the host" : strerror(errno));
	frame_decoder_commit(&lc->dec, (size_t)n);
	lc->bytes_received += (uint64_t)n;
	return 1;
}

/* ---- requests ------------------------------------------------------------------------- */

static struct link_request *queue_at(struct link_client *lc, unsigned i)
{
	return &lc->queue[(lc->head + i) % LINK_QUEUE];
}

static uint64_t bytes_in_flight(struct link_client *lc)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = queue_at(lc, i);
		if (r->sent)
			n += r->length - r->received;
	}
	return n;
}

/* Sends queued requests while they fit in the window (the head always goes). */
static int send_requests(struct link_client *lc)
{
	uint64_t flying = bytes_in_flight(lc);
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = queue_at(lc, i);
		if (r->sent)
			continue;
		uint64_t want = r->length - r->received;
		if (i > 0 && flying + want > lc->o.window)
			break;
		r->seq = ++lc->seq;
		uint8_t p[LINK_READ_SIZE];
		struct link_read m = { r->offset + r->received, (uint32_t)want };
		link_read_encode(&m, p);
		if (send_small(lc, FRAME_READ, r->seq, p, LINK_READ_SIZE) != 0)
			return -1;
		r->sent = 1;
		flying += want;
	}
	return 0;
}

static int queue_push(struct link_client *lc, uint64_t off, uint32_t len)
{
	if (lc->count == LINK_QUEUE)
		return err_set("link: more than %d ranges expected at once", LINK_QUEUE);
	if (off > lc->package_size || len > lc->package_size - off)
		return err_set("package range %" PRIu64 "+%" PRIu32 " is past its end (%" PRIu64
			       " bytes)", off, len, lc->package_size);
	if (len == 0 || len > LINK_READ_MAX)
		return err_set("package range of %" PRIu32 " bytes (1..%u allowed)", len,
			       LINK_READ_MAX);
	*queue_at(lc, lc->count++) = (struct link_request){ .offset = off, .length = len };
	return 0;
}

/* Forgets every request that was asked for (answers still on the way are ignored by seq). */
static void queue_cancel(struct link_client *lc)
{
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = queue_at(lc, i);
		if (r->sent)
			lc->bytes_requested_again += r->length - r->received;
	}
	lc->head = lc->count = 0;
}

/*
 * One received frame while reading: DATA for the head is copied to lc->dest. Returns 0, or -1
 * for a fatal answer (FAIL) with err_msg() set; protocol noise is logged and ignored.
 */
static int dispatch(struct link_client *lc, const struct frame *f)
{
	struct link_request *r = lc->count ? queue_at(lc, 0) : NULL;
	switch (f->type) {
	case FRAME_DATA: {
		if (!r || !r->sent || f->seq != r->seq) {
			lc->frames_dropped++; /* an answer to a request given up on */
			return 0;
		}
		if (f->len < LINK_DATA_HEADER) {
			say(lc, "DATA frame of %" PRIu32 " bytes has no offset: ignored", f->len);
			lc->frames_dropped++;
			return 0;
		}
		uint64_t off = le64_load(f->payload);
		uint32_t n = f->len - LINK_DATA_HEADER;
		uint64_t want = r->offset + r->received;
		if (off != want || n > r->length - r->received) {
			/* the host answered with the wrong range: ask again from where we are */
			say(lc, "host sent %" PRIu32 " bytes at %" PRIu64 " for a request at %" PRIu64
				" (%" PRIu32 " bytes left): asking again", n, off, want,
			    r->length - r->received);
			lc->frames_dropped++;
			lc->bytes_requested_again += r->length - r->received;
			r->sent = 0;
			return 0;
		}
		memcpy(lc->dest + r->received, f->payload + LINK_DATA_HEADER, n);
		r->received += n;
		return 0;
	}
	case FRAME_FAIL:
		if (r && r->sent && f->seq == r->seq) {
			char text[LINK_TEXT_MAX + 1];
			link_msg_printable(f->payload, f->len, text, sizeof(text));
			return err_set("host cannot serve %" PRIu64 "+%" PRIu32 ": %s", r->offset,
				       r->length, text);
		}
		lc->frames_dropped++;
		return 0;
	case FRAME_RESULT_ACK:
		lc->acked = 1;
		return 0;
	case FRAME_KEEPALIVE:
	case FRAME_WELCOME: /* a late answer to an earlier HELLO */
		return 0;
	default:
		say(lc, "unexpected %s frame from the host: ignored", frame_type_name(f->type));
		lc->frames_dropped++;
		return 0;
	}
}

/* Decodes what is buffered until the head request is complete; -1 only for a fatal answer. */
static int drain(struct link_client *lc, int *head_done)
{
	struct frame f;
	for (;;) {
		struct link_request *r = lc->count ? queue_at(lc, 0) : NULL;
		if (r && r->received == r->length) {
			*head_done = 1;
			return 0;
		}
		int got = frame_decoder_next(&lc->dec, &f);
		if (got == 0)
			return 0;
		if (got < 0) {
			say(lc, "%s", err_msg());
			continue;
		}
		if (dispatch(lc, &f) != 0)
			return -1;
	}
}

/* ---- connection ------------------------------------------------------------------------ */

/* HELLO, then WELCOME with the same sequence number; 1 fatal refusal, 0 ok, -1 retry. */
static int hello(struct link_client *lc)
{
	uint8_t p[LINK_HELLO_SIZE];
	struct link_hello h = { LINK_VERSION_MIN, LINK_VERSION_MAX, lc->o.max_payload, lc->session,
				"" };
	snprintf(h.board, sizeof(h.board), "%s", lc->board);
	link_hello_encode(&h, p);
	uint32_t seq = ++lc->seq;
	frame_decoder_reset(&lc->dec);
	frame_decoder_set_max_payload(&lc->dec, lc->o.max_payload);
	if (send_small(lc, FRAME_HELLO, seq, p, sizeof(p)) != 0)
		return -1;
	uint64_t deadline = now_ms() + HELLO_WAIT_MS;
	while (now_ms() < deadline) {
		int r = receive(lc, (int)(deadline - now_ms()));
		if (r < 0)
			return -1;
		struct frame f;
		int got;
		while ((got = frame_decoder_next(&lc->dec, &f)) != 0) {
			if (got < 0 || f.seq != seq)
				continue;
			if (f.type == FRAME_FAIL) {
				char text[LINK_TEXT_MAX + 1];
				link_msg_printable(f.payload, f.len, text, sizeof(text));
				err_set("host refuses this board: %s", text);
				return 1;
			}
			if (f.type != FRAME_WELCOME)
				continue;
			struct link_welcome w;
			if (link_welcome_decode(f.payload, f.len, &w) != 0)
				return -1;
			if (w.version < LINK_VERSION_MIN || w.version > LINK_VERSION_MAX) {
				err_set("host chose protocol version %u, this flasher speaks %u..%u",
					w.version, LINK_VERSION_MIN, LINK_VERSION_MAX);
				return 1;
			}
			if (w.max_payload < FRAME_MIN_PAYLOAD || w.max_payload > lc->o.max_payload) {
				err_set("host asks for %" PRIu32 "-byte frames, this board takes %u..%" PRIu32,
					w.max_payload, FRAME_MIN_PAYLOAD, lc->o.max_payload);
				return 1;
			}
			if (lc->package_size && w.package_size != lc->package_size) {
				err_set("the host now serves a %" PRIu64 "-byte package, it was %" PRIu64,
					w.package_size, lc->package_size);
				return 1;
			}
			lc->max_payload = w.max_payload;
			lc->package_size = w.package_size;
			memcpy(lc->package, w.package, sizeof(lc->package));
			frame_decoder_set_max_payload(&lc->dec, w.max_payload);
			return 0;
		}
	}
	err_set("no WELCOME from the host within %d ms", HELLO_WAIT_MS);
	return -1;
}

static void flush_backlog(struct link_client *lc);
static int check_pin(struct link_client *lc);

/* Re-establishes the link after a drop, then re-asks for what had not arrived. */
static int reconnect(struct link_client *lc, const char *why)
{
	uint64_t deadline = now_ms() + lc->o.reconnect_ms;
	unsigned delay = 100;
	say(lc, "lost (%s); reconnecting", why);
	atomic_store(&lc->down, 1);
	for (;;) {
		if (atomic_load(&lc->stop))
			return err_set("link closed while reconnecting");
		pthread_mutex_lock(&lc->tx_lock);
		int rc = transport_open(lc);
		pthread_mutex_unlock(&lc->tx_lock);
		if (rc == 0) {
			rc = hello(lc);
			if (rc > 0)
				return -1;
			if (rc == 0)
				break;
		}
		if (now_ms() >= deadline)
			return err_set("link did not come back within %u s: %s",
				       lc->o.reconnect_ms / 1000, err_msg()[0] ? err_msg() : "no host");
		sleep_ms(delay);
		/* a port or gadget answers a check at once: look often; sockets back off */
		delay = !lc->is_socket ? 50 : delay < 1000 ? delay * 2 : 1000;
	}
	lc->reconnects++;
	atomic_store(&lc->down, 0);
	say(lc, "back (reconnect %u)", lc->reconnects);
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = queue_at(lc, i);
		if (r->sent)
			lc->bytes_requested_again += r->length - r->received;
		r->sent = 0;
	}
	if (check_pin(lc) != 0)
		return -1;
	flush_backlog(lc);
	return 0;
}

/* Waits until the head request is complete, reconnecting on the way; 0 or -1. */
static int complete_head(struct link_client *lc)
{
	uint64_t idle_since = now_ms();
	for (;;) {
		if (atomic_load(&lc->stop))
			return err_set("link closed");
		int done = 0;
		if (drain(lc, &done) != 0)
			return -1;
		if (done)
			return 0;
		const char *why = NULL;
		char reason[ERR_MSG_MAX + 16];
		if (atomic_load(&lc->down) || send_requests(lc) != 0) {
			pthread_mutex_lock(&lc->tx_lock);
			snprintf(reason, sizeof(reason), "write failed%s%s", lc->write_error[0] ? ": " : "",
				 lc->write_error);
			lc->write_error[0] = '\0';
			pthread_mutex_unlock(&lc->tx_lock);
			why = reason;
		} else {
			int r = receive(lc, 200);
			if (r > 0)
				idle_since = now_ms();
			if (r < 0) {
				snprintf(reason, sizeof(reason), "%s", err_msg());
				why = reason;
			} else if (now_ms() - idle_since > lc->o.idle_timeout_ms) {
				snprintf(reason, sizeof(reason), "no data for %u ms",
					 lc->o.idle_timeout_ms);
				why = reason;
			}
		}
		if (why) {
			if (reconnect(lc, why) != 0)
				return -1;
			idle_since = now_ms();
		}
	}
}

static int read_locked(struct link_client *lc, uint64_t off, void *buf, size_t len)
{
	if (len > LINK_READ_MAX)
		return err_set("link read of %zu bytes (at most %u)", len, LINK_READ_MAX);
	/* ranges expected before this one will not be read: forget them (their answers are
	 * dropped by sequence number); a range never expected starts a new queue */
	unsigned at = 0;
	while (at < lc->count && !(queue_at(lc, at)->offset == off &&
				   queue_at(lc, at)->length == len && queue_at(lc, at)->received == 0))
		at++;
	if (at == lc->count) {
		queue_cancel(lc);
		if (queue_push(lc, off, (uint32_t)len) != 0)
			return -1;
	} else {
		for (unsigned i = 0; i < at; i++) {
			struct link_request *old = queue_at(lc, 0);
			if (old->sent)
				lc->bytes_requested_again += old->length - old->received;
			lc->head = (lc->head + 1) % LINK_QUEUE;
			lc->count--;
		}
	}
	lc->dest = buf;
	int rc = complete_head(lc);
	lc->dest = NULL;
	if (rc == 0) {
		lc->head = (lc->head + 1) % LINK_QUEUE;
		lc->count--;
		if (!atomic_load(&lc->down))
			send_requests(lc); /* keep the window full while the caller works */
	} else {
		queue_cancel(lc);
	}
	return rc;
}

static int check_pin(struct link_client *lc)
{
	if (!lc->pin_len)
		return 0;
	/* the queue is set aside: the pin is read first, on its own */
	struct link_request saved[LINK_QUEUE];
	unsigned count = lc->count;
	for (unsigned i = 0; i < count; i++)
		saved[i] = *queue_at(lc, i);
	uint8_t *dest = lc->dest;
	uint64_t pin_len = lc->pin_len;
	lc->pin_len = 0; /* a drop while checking retries the check, it does not recurse */
	lc->head = lc->count = 0;
	uint8_t *buf = malloc((size_t)pin_len);
	int rc = buf ? 0 : err_set("out of memory for a %" PRIu64 "-byte check", pin_len);
	if (rc == 0)
		rc = read_locked(lc, 0, buf, (size_t)pin_len);
	if (rc == 0) {
		uint8_t digest[SHA256_LEN];
		sha256_buffer(buf, (size_t)pin_len, digest);
		if (memcmp(digest, lc->pin_hash, SHA256_LEN) != 0)
			rc = err_set("after reconnecting, the host serves a different package");
	}
	free(buf);
	lc->pin_len = pin_len;
	lc->head = 0;
	lc->count = count;
	for (unsigned i = 0; i < count; i++)
		lc->queue[i] = saved[i];
	lc->dest = dest;
	return rc;
}

/* ---- log and keepalive ------------------------------------------------------------------ */

static void flush_backlog(struct link_client *lc)
{
	pthread_mutex_lock(&lc->tx_lock);
	char copy[sizeof(lc->backlog)];
	size_t n = lc->backlog_len;
	memcpy(copy, lc->backlog, n);
	lc->backlog_len = 0;
	pthread_mutex_unlock(&lc->tx_lock);
	for (size_t at = 0; at < n;) {
		const char *nl = memchr(copy + at, '\n', n - at);
		size_t line = nl ? (size_t)(nl - (copy + at)) + 1 : n - at;
		link_client_log(lc, copy + at, line);
		at += line;
	}
}

void link_client_log(struct link_client *lc, const char *text, size_t len)
{
	if (len > LINK_TEXT_MAX)
		len = LINK_TEXT_MAX;
	if (!atomic_load(&lc->down) && send_small(lc, FRAME_LOG, 0, text, (uint32_t)len) == 0)
		return;
	pthread_mutex_lock(&lc->tx_lock);
	if (lc->backlog_len + len <= sizeof(lc->backlog)) {
		memcpy(lc->backlog + lc->backlog_len, text, len);
		lc->backlog_len += len;
	}
	pthread_mutex_unlock(&lc->tx_lock);
}

void link_client_progress(struct link_client *lc, const struct link_progress *p)
{
	if (atomic_load(&lc->down))
		return;
	uint8_t payload[LINK_PROGRESS_SIZE];
	link_progress_encode(p, payload);
	send_small(lc, FRAME_PROGRESS, 0, payload, sizeof(payload));
}

/* Long erases and read-backs send nothing for a while: tell the host we are alive. */
static void *keepalive_main(void *arg)
{
	struct link_client *lc = arg;
	pthread_mutex_lock(&lc->stop_lock);
	while (!atomic_load(&lc->stop)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&lc->stop_cond, &lc->stop_lock, &until);
		if (!atomic_load(&lc->stop) && !atomic_load(&lc->down) &&
		    now_ms() - atomic_load(&lc->last_send_ms) >= KEEPALIVE_MS)
			send_small(lc, FRAME_KEEPALIVE, 0, NULL, 0);
	}
	pthread_mutex_unlock(&lc->stop_lock);
	return NULL;
}

/* ---- public ------------------------------------------------------------------------------ */

int link_client_open(struct link_client *lc, const struct link_client_opts *o)
{
	memset(lc, 0, sizeof(*lc));
	lc->rfd = lc->wfd = -1;
	lc->o = *o;
	lc->usb_ffs = strncmp(o->spec, "usb-gadget:", 11) == 0;
	if (!lc->o.max_payload)
		lc->o.max_payload = DEFAULT_MAX_PAYLOAD;
	if (!lc->o.window)
		lc->o.window = DEFAULT_WINDOW;
	if (!lc->o.idle_timeout_ms)
		lc->o.idle_timeout_ms = DEFAULT_IDLE_MS;
	if (!lc->o.reconnect_ms)
		lc->o.reconnect_ms = DEFAULT_RECONNECT_MS;
	snprintf(lc->spec, sizeof(lc->spec), "%s", o->spec);
	snprintf(lc->board, sizeof(lc->board), "%s", o->board ? o->board : "board");
	pthread_mutex_init(&lc->rx_lock, NULL);
	pthread_mutex_init(&lc->tx_lock, NULL);
	pthread_mutex_init(&lc->stop_lock, NULL);
	pthread_cond_init(&lc->stop_cond, NULL);
	size_t rx_size = FRAME_OVERHEAD + (size_t)lc->o.max_payload;
	lc->rx = malloc(rx_size);
	if (!lc->rx)
		return err_set("out of memory for the link buffers");
	if (frame_decoder_init(&lc->dec, lc->rx, rx_size, lc->o.max_payload) != 0)
		return -1;
	/* a session number that survives reconnects, so the host keeps one log per board */
	lc->session = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ now_ms() << 16;
	/* not /dev/urandom: early in boot it first gathers entropy (over a second under QEMU);
	 * a session number needs to be unique, not secret */
	uint8_t b[8];
	if (getrandom(b, sizeof(b), GRND_NONBLOCK | LINK_GRND_INSECURE) == (ssize_t)sizeof(b))
		lc->session ^= le64_load(b);
	atomic_store(&lc->down, 1);
	say(lc, "waiting for the host on %s", lc->spec);
	pthread_mutex_lock(&lc->rx_lock);
	uint64_t deadline = now_ms() + lc->o.reconnect_ms;
	int rc;
	unsigned delay = 100;
	for (;;) {
		pthread_mutex_lock(&lc->tx_lock);
		rc = transport_open(lc);
		pthread_mutex_unlock(&lc->tx_lock);
		if (rc == 0) {
			rc = hello(lc);
			if (rc >= 0)
				break;
		} else if (!link_spec_known(lc->spec)) {
			break; /* a bad spec does not get better by waiting */
		}
		if (now_ms() >= deadline) {
			err_prefix("no host on %s within %u s", lc->spec, lc->o.reconnect_ms / 1000);
			break;
		}
		sleep_ms(delay);
		/* a port or gadget answers a check at once: look often; sockets back off */
		delay = !lc->is_socket ? 50 : delay < 1000 ? delay * 2 : 1000;
	}
	pthread_mutex_unlock(&lc->rx_lock);
	if (rc != 0) {
		rc = -1;
		link_client_close(lc);
		return rc;
	}
	atomic_store(&lc->down, 0);
	say(lc, "host serves %s (%" PRIu64 " bytes), frames up to %" PRIu32 " bytes", lc->package,
	    lc->package_size, lc->max_payload);
	if (pthread_create(&lc->keepalive, NULL, keepalive_main, lc) == 0)
		lc->keepalive_running = 1;
	return 0;
}

uint64_t link_client_package_size(const struct link_client *lc)
{
	return lc->package_size;
}

int link_client_pin(struct link_client *lc, uint64_t len)
{
	if (len > lc->package_size || len > LINK_READ_MAX)
		return err_set("cannot pin %" PRIu64 " bytes", len);
	uint8_t *buf = malloc((size_t)len ? (size_t)len : 1);
	if (!buf)
		return err_set("out of memory");
	int rc = link_client_read(lc, 0, buf, (size_t)len);
	if (rc == 0) {
		pthread_mutex_lock(&lc->rx_lock);
		sha256_buffer(buf, (size_t)len, lc->pin_hash);
		lc->pin_len = len;
		pthread_mutex_unlock(&lc->rx_lock);
	}
	free(buf);
	return rc;
}

int link_client_expect(struct link_client *lc, uint64_t off, uint32_t len)
{
	pthread_mutex_lock(&lc->rx_lock);
	int rc = 0, queued = 0;
	for (unsigned i = 0; i < lc->count && !queued; i++)
		queued = queue_at(lc, i)->offset == off && queue_at(lc, i)->length == len;
	if (!queued)
		rc = lc->count < LINK_QUEUE ? queue_push(lc, off, len) : 0;
	if (rc == 0 && !queued && !atomic_load(&lc->down))
		send_requests(lc); /* a failure shows up, and is dealt with, in the next read */
	pthread_mutex_unlock(&lc->rx_lock);
	return rc;
}

int link_client_read(struct link_client *lc, uint64_t off, void *buf, size_t len)
{
	pthread_mutex_lock(&lc->rx_lock);
	int rc = read_locked(lc, off, buf, len);
	pthread_mutex_unlock(&lc->rx_lock);
	return rc;
}

int link_client_result(struct link_client *lc, int32_t status, const char *message)
{
	struct link_result res = { .status = status };
	snprintf(res.message, sizeof(res.message), "%s", message);
	uint8_t payload[4 + LINK_TEXT_MAX];
	uint32_t len = (uint32_t)link_result_encode(&res, payload);
	pthread_mutex_lock(&lc->rx_lock);
	queue_cancel(lc);
	lc->acked = 0;
	uint64_t deadline = now_ms() + RESULT_WAIT_MS;
	int rc = -1;
	while (rc != 0 && now_ms() < deadline && !atomic_load(&lc->stop)) {
		if (atomic_load(&lc->down) && reconnect(lc, "before the result") != 0)
			break;
		uint32_t seq = ++lc->seq;
		if (send_small(lc, FRAME_RESULT, seq, payload, len) != 0)
			continue;
		uint64_t resend = now_ms() + 2000;
		while (!lc->acked && now_ms() < resend) {
			int r = receive(lc, 200);
			if (r < 0) {
				atomic_store(&lc->down, 1);
				break;
			}
			struct frame f;
			int got;
			while ((got = frame_decoder_next(&lc->dec, &f)) != 0)
				if (got > 0 && f.type == FRAME_RESULT_ACK)
					lc->acked = 1;
		}
		if (lc->acked)
			rc = 0;
	}
	pthread_mutex_unlock(&lc->rx_lock);
	if (rc != 0)
		say(lc, "the host did not confirm the result");
	return rc;
}

void link_client_close(struct link_client *lc)
{
	/* first: a keepalive blocked writing to a USB host that stopped reading returns */
	if (lc->usb)
		usb_gadget_unbind(lc->usb);
	pthread_mutex_lock(&lc->stop_lock);
	atomic_store(&lc->stop, 1);
	pthread_cond_broadcast(&lc->stop_cond); /* the keepalive thread ends now, not in 250 ms */
	pthread_mutex_unlock(&lc->stop_lock);
	if (lc->keepalive_running)
		pthread_join(lc->keepalive, NULL);
	lc->keepalive_running = 0;
	transport_close(lc);
	if (lc->usb) {
		usb_gadget_close(lc->usb);
		free(lc->usb);
		lc->usb = NULL;
	}
	free(lc->rx);
	lc->rx = NULL;
	pthread_mutex_destroy(&lc->rx_lock);
	pthread_mutex_destroy(&lc->tx_lock);
	pthread_mutex_destroy(&lc->stop_lock);
	pthread_cond_destroy(&lc->stop_cond);
}
