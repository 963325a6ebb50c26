/* SPDX-License-Identifier: MIT */
/* The usb: link: spec parsing, the device <-> socketpair bridge, libusb bulk I/O, the listener. */
#include "link_usb.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libusb-1.0/libusb.h>

#include "error.h"
#include "timing.h"
#include "usb_libusb.h"

/* Socket buffers asked for on the socketpair: a few frames, so neither side waits on the other. */
#define SOCKET_BUFFER (1 << 20)
/* How often a waiting bridge thread looks at its socket and its stop flag. */
#define POLL_MS 200
/* How long what the server wrote before closing its end may take to go out. */
#define DRAIN_MS 2000
/* How long closing the listener waits for bridges to finish by themselves. */
#define CLOSE_WAIT_MS 3000
/* How long a device that could not be opened is left alone before the next try. */
#define RETRY_MS 5000
/* Devices the listener tracks at once, and what it may hold for usb_link_accept(). */
#define SEEN_MAX 64
#define QUEUE_MAX 16

#define SPEC_FORMS "usb:[VID:PID][,port=BUS-PORT[.PORT...]][,serial=TEXT]"

/* ---- the spec ----------------------------------------------------------------------------- */

/* 1..4 hex digits, the whole of [s, end); -1 otherwise. */
static int parse_hex16(const char *s, const char *end)
{
	unsigned v = 0;
	if (end <= s || end - s > 4)
		return -1;
	for (const char *p = s; p < end; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -1;
		v = v * 16 + d;
	}
	return (int)v;
}

int usb_link_parse(const char *spec, struct usb_link_spec *out)
{
	memset(out, 0, sizeof(*out));
	out->vendor = USB_LINK_DEFAULT_VENDOR;
	out->product = USB_LINK_DEFAULT_PRODUCT;
	if (strncmp(spec, "usb:", 4) != 0)
		return err_set("link '%s': expected %s", spec, SPEC_FORMS);
	int have_id = 0;
	const char *p = spec + 4;
	while (*p) {
		const char *end = strchr(p, ',');
		if (strncmp(p, "serial=", 7) == 0)
			end = p + strlen(p); /* the rest, commas and all */
		else if (!end)
			end = p + strlen(p);
		size_t len = (size_t)(end - p);
		if (len == 0)
			return err_set("link '%s': an empty part; expected %s", spec, SPEC_FORMS);
		if (strncmp(p, "serial=", 7) == 0) {
			if (out->serial[0])
				return err_set("link '%s': serial= given twice", spec);
			if (len == 7)
				return err_set("link '%s': serial= is empty; expected the board's USB "
					       "serial number, as `lsusb -v` shows it", spec);
			if (len - 7 >= sizeof(out->serial))
				return err_set("link '%s': serial is %zu characters, at most %zu fit", spec,
					       len - 7, sizeof(out->serial) - 1);
			memcpy(out->serial, p + 7, len - 7);
			out->serial[len - 7] = '\0';
		} else if (strncmp(p, "port=", 5) == 0) {
			char path[64];
			uint8_t bus, ports[USB_PORTS_MAX];
			if (out->port[0])
				return err_set("link '%s': port= given twice", spec);
			if (len - 5 >= sizeof(path))
				return err_set("link '%s': port path too long", spec);
			memcpy(path, p + 5, len - 5);
			path[len - 5] = '\0';
			int n = usb_parse_port_path(path, &bus, ports, USB_PORTS_MAX);
			if (n < 0)
				return err_prefix("link '%s'", spec);
			/* canonical, so "1-02" matches the device at 1-2 */
			usb_format_port_path(out->port, bus, ports, n);
		} else {
			const char *colon = memchr(p, ':', len);
			int vid = colon ? parse_hex16(p, colon) : -1;
			int pid = colon ? parse_hex16(colon + 1, end) : -1;
			if (vid < 0 || pid < 0)
				return err_set("link '%s': '%.*s' is not VID:PID (hex, e.g. 0955:7023), "
					       "port=BUS-PORT[.PORT...] or serial=TEXT; expected %s", spec,
					       (int)len, p, SPEC_FORMS);
			if (have_id)
				return err_set("link '%s': VID:PID given twice", spec);
			have_id = 1;
			out->vendor = (uint16_t)vid;
			out->product = (uint16_t)pid;
		}
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return err_set("link '%s': ends with a comma; expected %s", spec, SPEC_FORMS);
	}
	return 0;
}

/* ---- the bridge --------------------------------------------------------------------------- */

enum { IN_IDLE, IN_FLIGHT, IN_COMPLETE };

/* One bulk OUT buffer: the data, and, when the data fills whole packets, its last byte apart. */
struct out_chunk {
	struct usb_xfer x[2];
	int flight[2];
	int parts;   /* transfers made of it */
	int pending; /* of those, not done yet */
	int used;    /* holds data not yet confirmed sent */
};

struct usb_bridge {
	struct usb_bulk_dev dev;
	int fd; /* the bridge's end of the socketpair */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int end; /* enum usb_bridge_end: set once */
	char why[ERR_MSG_MAX];
	int running; /* threads not yet finished */
	pthread_t in_thread, out_thread;
	int threads;
	struct usb_xfer in[USB_LINK_XFERS];
	int in_state[USB_LINK_XFERS];
	struct out_chunk out[USB_LINK_XFERS];
	uint8_t *mem;
};

/* Ends the bridge (the first reason wins) and wakes everything that waits on it. Lock held. */
static void end_locked(struct usb_bridge *b, int how, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void end_locked(struct usb_bridge *b, int how, const char *fmt, ...)
{
	if (atomic_load(&b->end) == USB_BRIDGE_RUNNING) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->why, sizeof(b->why), fmt, ap);
		va_end(ap);
		atomic_store(&b->end, how);
		/* the server's reader sees end of file; our own blocked reads and writes return */
		shutdown(b->fd, SHUT_RDWR);
	}
	pthread_cond_broadcast(&b->cond);
}

static int xfer_failed(struct usb_bridge *b, const char *dir, const struct usb_xfer *x)
{
	if (x->status == USB_XFER_GONE) {
		end_locked(b, USB_BRIDGE_GONE, "%s: the device went away (board reset or cable "
			   "unplugged)", b->dev.name);
	} else {
		end_locked(b, USB_BRIDGE_FAILED, "%s: bulk %s failed: %s", b->dev.name, dir,
			   x->status == USB_XFER_CANCELLED ? "cancelled"
			   : x->error			 ? x->error
							 : "transfer error");
	}
	return -1;
}

static void in_done(struct usb_xfer *x)
{
	struct usb_bridge *b = x->owner;
	pthread_mutex_lock(&b->lock);
	b->in_state[x->index] = IN_COMPLETE;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void out_done(struct usb_xfer *x)
{
	struct usb_bridge *b = x->owner;
	pthread_mutex_lock(&b->lock);
	struct out_chunk *c = &b->out[x->index];
	c->flight[x == &c->x[1]] = 0;
	c->pending--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* Submits in[i]. Lock held (dropped around the call: done() may come from inside it). */
static int in_submit(struct usb_bridge *b, int i)
{
	struct usb_xfer *x = &b->in[i];
	x->len = USB_LINK_XFER_SIZE;
	x->actual = 0;
	x->error = NULL;
	b->in_state[i] = IN_FLIGHT;
	pthread_mutex_unlock(&b->lock);
	int rc = b->dev.ops->submit(b->dev.priv, x, 1);
	pthread_mutex_lock(&b->lock);
	if (rc != 0) {
		b->in_state[i] = IN_IDLE;
		x->status = rc;
		return xfer_failed(b, "IN", x);
	}
	return 0;
}

/* All of p to our end of the socket; -1 when the server closed its end or the bridge ended. */
static int socket_write_all(struct usb_bridge *b, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(b->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (atomic_load(&b->end) != USB_BRIDGE_RUNNING)
			return -1;
		struct pollfd pf = { .fd = b->fd, .events = POLLOUT };
		(void)poll(&pf, 1, POLL_MS);
	}
	return 0;
}

/* Bulk IN -> socket: every transfer in flight, passed on strictly in the order submitted. */
static void *in_main(void *arg)
{
	struct usb_bridge *b = arg;
	pthread_mutex_lock(&b->lock);
	for (int i = 0; i < USB_LINK_XFERS && atomic_load(&b->end) == USB_BRIDGE_RUNNING; i++)
		in_submit(b, i);
	int head = 0, flushing = 0, discard = 0;
	struct timespec flush_at = timing_timespec_in(USB_LINK_IN_FLUSH_MS);
	while (atomic_load(&b->end) == USB_BRIDGE_RUNNING) {
		if (b->in_state[head] != IN_COMPLETE) {
			int rc = pthread_cond_timedwait(&b->cond, &b->lock, &flush_at);
			if (rc == ETIMEDOUT && !flushing && b->in_state[head] == IN_FLIGHT) {
				/* bytes may sit in an unfinished transfer: end it to pass them on */
				flushing = 1;
				pthread_mutex_unlock(&b->lock);
				b->dev.ops->cancel(b->dev.priv, &b->in[head]);
				pthread_mutex_lock(&b->lock);
			}
			if (rc == ETIMEDOUT)
				flush_at = timing_timespec_in(USB_LINK_IN_FLUSH_MS);
			continue;
		}
		struct usb_xfer *x = &b->in[head];
		b->in_state[head] = IN_IDLE;
		/* a cancelled transfer was a flush: what it holds is data like any other */
		if (x->status != USB_XFER_DONE && x->status != USB_XFER_CANCELLED) {
			xfer_failed(b, "IN", x);
			break;
		}
		pthread_mutex_unlock(&b->lock);
		/* the server closed its end: drop what the board says from now on; the OUT side
		 * ends the bridge once what the server wrote before has gone out */
		if (!discard && socket_write_all(b, x->buf, x->actual) != 0)
			discard = 1;
		pthread_mutex_lock(&b->lock);
		if (in_submit(b, head) != 0)
			break;
		head = (head + 1) % USB_LINK_XFERS;
		flushing = 0;
		flush_at = timing_timespec_in(USB_LINK_IN_FLUSH_MS);
	}
	/* ending: cancel what is in flight and wait until the transport gave it all back */
	for (int i = 0; i < USB_LINK_XFERS; i++) {
		if (b->in_state[i] != IN_FLIGHT)
			continue;
		pthread_mutex_unlock(&b->lock);
		b->dev.ops->cancel(b->dev.priv, &b->in[i]);
		pthread_mutex_lock(&b->lock);
	}
	for (;;) {
		int flying = 0;
		for (int i = 0; i < USB_LINK_XFERS; i++)
			flying += b->in_state[i] == IN_FLIGHT;
		if (!flying)
			break;
		pthread_cond_wait(&b->cond, &b->lock);
	}
	b->running--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* Sends n bytes (in the chunk's buffer) as one or two transfers. Lock held (dropped around
 * each submit). */
static int out_submit(struct usb_bridge *b, struct out_chunk *c, size_t n)
{
	uint32_t mps = b->dev.max_packet ? b->dev.max_packet : 512;
	c->parts = 1;
	c->x[0].len = n;
	if (n % mps == 0) {
		/* a whole number of packets would need a zero-length packet to end the device's
		 * read; two transfers each end with a short packet instead */
		c->parts = 2;
		c->x[0].len = n - 1;
		c->x[1].buf = c->x[0].buf + n - 1;
		c->x[1].len = 1;
	}
	c->used = 1;
	c->pending = c->parts;
	for (int k = 0; k < c->parts; k++) {
		c->x[k].actual = 0;
		c->x[k].status = USB_XFER_DONE;
		c->x[k].error = NULL;
		c->flight[k] = 1;
	}
	for (int k = 0; k < c->parts; k++) {
		pthread_mutex_unlock(&b->lock);
		int rc = b->dev.ops->submit(b->dev.priv, &c->x[k], 0);
		pthread_mutex_lock(&b->lock);
		if (rc != 0) {
			for (int j = k; j < c->parts; j++)
				c->flight[j] = 0;
			c->pending -= c->parts - k;
			c->x[k].status = rc;
			return xfer_failed(b, "OUT", &c->x[k]);
		}
	}
	return 0;
}

/* Did the server close its end? (poll reports a hang-up on ours then.) */
static int peer_closed(int fd)
{
	struct pollfd pf = { .fd = fd, .events = 0 };
	return poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR));
}

/* Checks the oldest chunk once all its transfers are done; 0, or -1 (the bridge ended). */
static int out_reap(struct usb_bridge *b, struct out_chunk *c)
{
	int bad = 0;
	for (int k = 0; k < c->parts && !bad; k++) {
		const struct usb_xfer *x = &c->x[k];
		if (x->status != USB_XFER_DONE) {
			bad = xfer_failed(b, "OUT", x);
		} else if (x->actual != x->len) {
			bad = -1;
			end_locked(b, USB_BRIDGE_FAILED, "%s: bulk OUT: the device took %zu of %zu bytes",
				   b->dev.name, x->actual, x->len);
		}
	}
	c->used = 0;
	return bad;
}

/*
 * Socket -> bulk OUT: up to USB_LINK_XFERS chunks in flight, reaped in order. When the server
 * closes its end, what it wrote before still goes out (a RESULT_ACK, a FAIL), for up to
 * DRAIN_MS: a board that stopped reading does not hold the bridge.
 */
static void *out_main(void *arg)
{
	struct usb_bridge *b = arg;
	int next = 0, oldest = 0, eof = 0;
	uint64_t drain_until = 0; /* 0: the server's end is open */
	pthread_mutex_lock(&b->lock);
	while (atomic_load(&b->end) == USB_BRIDGE_RUNNING) {
		struct out_chunk *c = &b->out[oldest];
		if (c->used && c->pending == 0) {
			out_reap(b, c);
			oldest = (oldest + 1) % USB_LINK_XFERS;
			continue;
		}
		if ((eof && !c->used) || (drain_until && timing_now_ms() >= drain_until)) {
			end_locked(b, USB_BRIDGE_CLOSED, "%s: hostload closed the connection",
				   b->dev.name);
			break;
		}
		if (eof || b->out[next].used) {
			/* every chunk in flight, or nothing more to read: wait for the oldest */
			struct timespec t = timing_timespec_in(POLL_MS);
			if (pthread_cond_timedwait(&b->cond, &b->lock, &t) == ETIMEDOUT &&
			    !drain_until && peer_closed(b->fd))
				drain_until = timing_now_ms() + DRAIN_MS;
			continue;
		}
		pthread_mutex_unlock(&b->lock);
		struct pollfd pf = { .fd = b->fd, .events = POLLIN };
		ssize_t n = -1;
		int e = EAGAIN;
		if (poll(&pf, 1, POLL_MS) == 1) {
			/* one byte short of the buffer: a full read is then no whole number of
			 * packets and goes out as one transfer */
			n = read(b->fd, b->out[next].x[0].buf, USB_LINK_XFER_SIZE - 1);
			e = n < 0 ? errno : 0;
		}
		pthread_mutex_lock(&b->lock);
		if (n == 0 || (n < 0 && e != EAGAIN && e != EWOULDBLOCK && e != EINTR)) {
			eof = 1;
			if (!drain_until)
				drain_until = timing_now_ms() + DRAIN_MS;
			continue;
		}
		if (n < 0 || atomic_load(&b->end) != USB_BRIDGE_RUNNING)
			continue;
		if (out_submit(b, &b->out[next], (size_t)n) != 0)
			break;
		next = (next + 1) % USB_LINK_XFERS;
	}
	for (int i = 0; i < USB_LINK_XFERS; i++)
		for (int k = 0; k < 2; k++) {
			if (!b->out[i].flight[k])
				continue;
			pthread_mutex_unlock(&b->lock);
			b->dev.ops->cancel(b->dev.priv, &b->out[i].x[k]);
			pthread_mutex_lock(&b->lock);
		}
	for (;;) {
		int pending = 0;
		for (int i = 0; i < USB_LINK_XFERS; i++)
			pending += b->out[i].pending;
		if (!pending)
			break;
		pthread_cond_wait(&b->cond, &b->lock);
	}
	b->running--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void set_buffers(int fd)
{
	int size = SOCKET_BUFFER;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Frees what usb_bridge_start made; the threads have finished. */
static void bridge_destroy(struct usb_bridge *b)
{
	for (int i = 0; i < USB_LINK_XFERS; i++) {
		struct usb_xfer *xs[3] = { &b->in[i], &b->out[i].x[0], &b->out[i].x[1] };
		for (int k = 0; k < 3; k++)
			if (xs[k]->impl && b->dev.ops->release)
				b->dev.ops->release(b->dev.priv, xs[k]);
	}
	close(b->fd);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b->mem);
	free(b);
}

struct usb_bridge *usb_bridge_start(const struct usb_bulk_dev *dev, int *fd)
{
	int sv[2];
	struct usb_bridge *b = calloc(1, sizeof(*b));
	uint8_t *mem = malloc(2u * USB_LINK_XFERS * USB_LINK_XFER_SIZE);
	if (!b || !mem) {
		free(b);
		free(mem);
		err_set("%s: out of memory for the bridge's buffers", dev->name);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		err_set("%s: socketpair: %s", dev->name, strerror(errno));
		free(b);
		free(mem);
		return NULL;
	}
	b->dev = *dev;
	b->fd = sv[0];
	b->mem = mem;
	fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
	set_buffers(sv[0]);
	set_buffers(sv[1]);
	pthread_mutex_init(&b->lock, NULL);
	timing_cond_init(&b->cond);
	atomic_init(&b->end, USB_BRIDGE_RUNNING);
	for (int i = 0; i < USB_LINK_XFERS; i++) {
		b->in[i] = (struct usb_xfer){ .buf = mem + (size_t)i * USB_LINK_XFER_SIZE,
					      .done = in_done, .owner = b, .index = i };
		uint8_t *ob = mem + (size_t)(USB_LINK_XFERS + i) * USB_LINK_XFER_SIZE;
		for (int k = 0; k < 2; k++)
			b->out[i].x[k] = (struct usb_xfer){ .buf = ob, .done = out_done, .owner = b,
							    .index = i };
	}
	b->running = 2;
	if (pthread_create(&b->in_thread, NULL, in_main, b) != 0) {
		err_set("%s: cannot start the bridge's threads", dev->name);
		close(sv[1]);
		bridge_destroy(b);
		return NULL;
	}
	if (pthread_create(&b->out_thread, NULL, out_main, b) != 0) {
		err_set("%s: cannot start the bridge's threads", dev->name);
		pthread_mutex_lock(&b->lock);
		end_locked(b, USB_BRIDGE_FAILED, "no thread");
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->in_thread, NULL);
		close(sv[1]);
		bridge_destroy(b);
		return NULL;
	}
	b->threads = 2;
	*fd = sv[1];
	return b;
}

void usb_bridge_stop(struct usb_bridge *b)
{
	pthread_mutex_lock(&b->lock);
	end_locked(b, USB_BRIDGE_CLOSED, "%s: stopped", b->dev.name);
	pthread_mutex_unlock(&b->lock);
}

int usb_bridge_state(struct usb_bridge *b, char *why, size_t why_size)
{
	pthread_mutex_lock(&b->lock);
	int end = b->running ? USB_BRIDGE_RUNNING : atomic_load(&b->end);
	if (why && why_size)
		snprintf(why, why_size, "%s", b->why);
	pthread_mutex_unlock(&b->lock);
	return end;
}

void usb_bridge_free(struct usb_bridge *b)
{
	pthread_join(b->in_thread, NULL);
	pthread_join(b->out_thread, NULL);
	b->dev.ops->close(b->dev.priv);
	bridge_destroy(b);
}

/* ---- libusb bulk I/O ---------------------------------------------------------------------- */

/* The selfflash gadget's interface: vendor-specific class, as the flasher's FunctionFS
 * descriptors declare it. Their subclass and protocol (0) mean nothing, so any is taken; the
 * interface number is the gadget's business. */
static const struct usb_libusb_iface selfflash_interface = {
	.number = USB_LIBUSB_ANY,
	.class_code = USB_LINK_INTERFACE_CLASS,
	.subclass = USB_LIBUSB_ANY,
	.protocol = USB_LIBUSB_ANY,
	.name = "vendor-specific interface",
	.not_found = ": not a board running the selfflash flasher (choose the board with "
		     "usb:VID:PID, port= or serial=)",
	.claimers = "a second hostload?",
};

static void LIBUSB_CALL lu_transfer_done(struct libusb_transfer *t)
{
	struct usb_xfer *x = t->user_data;
	x->actual = t->actual_length > 0 ? (size_t)t->actual_length : 0;
	switch (t->status) {
	case LIBUSB_TRANSFER_COMPLETED: x->status = USB_XFER_DONE; break;
	case LIBUSB_TRANSFER_CANCELLED: x->status = USB_XFER_CANCELLED; break;
	case LIBUSB_TRANSFER_NO_DEVICE: x->status = USB_XFER_GONE; break;
	default:
		x->status = USB_XFER_FAILED;
		x->error = usb_libusb_error_text(usb_libusb_transfer_error(t->status));
		break;
	}
	x->done(x); /* last: x may be reused at once */
}

static int lu_submit(void *dev, struct usb_xfer *x, int in)
{
	struct usb_libusb_dev *d = dev;
	if (x->len > (size_t)INT32_MAX) {
		x->error = "transfer too long";
		return USB_XFER_FAILED;
	}
	if (!x->impl)
		x->impl = libusb_alloc_transfer(0);
	if (!x->impl) {
		x->error = "out of memory";
		return USB_XFER_FAILED;
	}
	struct libusb_transfer *t = x->impl;
	libusb_fill_bulk_transfer(t, d->handle, in ? d->ep_in : d->ep_out, x->buf, (int)x->len,
				  lu_transfer_done, x, 0);
	int rc = libusb_submit_transfer(t);
	if (rc == 0)
		return 0;
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		return USB_XFER_GONE;
	x->error = usb_libusb_error_text(rc);
	return USB_XFER_FAILED;
}

static void lu_cancel(void *dev, struct usb_xfer *x)
{
	(void)dev;
	/* NOT_FOUND (it just ended) and NO_DEVICE (its end is on the way) are both fine */
	(void)libusb_cancel_transfer(x->impl);
}

static void lu_release(void *dev, struct usb_xfer *x)
{
	(void)dev;
	libusb_free_transfer(x->impl);
	x->impl = NULL;
}

static void lu_close(void *dev)
{
	usb_libusb_close_device(dev);
	free(dev);
}

static const struct usb_bulk_ops lu_ops = {
	.submit = lu_submit,
	.cancel = lu_cancel,
	.release = lu_release,
	.close = lu_close,
};

/* ---- the listener ------------------------------------------------------------------------- */

enum { SEEN_NEW, SEEN_BRIDGED, SEEN_IGNORED, SEEN_RETRY };

/* A device the listener has looked at, by bus number and address (new with every plug-in). */
struct seen {
	uint8_t bus, addr;
	int state;
	int noted; /* its problem was told once */
	int present;
	uint64_t retry_at;
	struct usb_bridge *bridge;
	char ended[ERR_MSG_MAX]; /* why its bridge failed: told if it is still there */
};

/* Something for usb_link_accept: a connection (fd >= 0, text is its name) or a message. */
struct found {
	int fd;
	char text[ERR_MSG_MAX];
};

struct usb_link {
	struct usb_link_spec spec;
	libusb_context *ctx;
	int init_noted;
	int hotplug_registered;
	libusb_hotplug_callback_handle hotplug;
	pthread_t scanner, events;
	int events_started;
	atomic_int stop, events_stop;
	pthread_mutex_t lock; /* the queue and the wake-up */
	pthread_cond_t wake;
	int wakeups;
	int notify[2]; /* one byte per queued item */
	struct found queue[QUEUE_MAX];
	int q_head, q_len;
	struct seen seen[SEEN_MAX]; /* the scanner thread's own */
	int nseen;
};

/* Queues a connection or a message (fmt non-NULL); 0, or -1 when the queue is full. */
static int post(struct usb_link *l, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int post(struct usb_link *l, int fd, const char *fmt, ...)
{
	pthread_mutex_lock(&l->lock);
	if (l->q_len == QUEUE_MAX) {
		pthread_mutex_unlock(&l->lock);
		return -1;
	}
	struct found *f = &l->queue[(l->q_head + l->q_len++) % QUEUE_MAX];
	f->fd = fd;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	char one = 1;
	ssize_t w = write(l->notify[1], &one, 1);
	(void)w; /* the pipe holds far more than QUEUE_MAX bytes */
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static int queue_full(struct usb_link *l)
{
	pthread_mutex_lock(&l->lock);
	int full = l->q_len >= QUEUE_MAX - 1; /* room for one message besides */
	pthread_mutex_unlock(&l->lock);
	return full;
}

static void *events_main(void *arg)
{
	struct usb_link *l = arg;
	while (!atomic_load(&l->events_stop)) {
		struct timeval tv = { 0, 200000 };
		libusb_handle_events_timeout_completed(l->ctx, &tv, NULL);
	}
	return NULL;
}

static int LIBUSB_CALL hotplug_arrived(libusb_context *ctx, libusb_device *dev,
				       libusb_hotplug_event event, void *user_data)
{
	(void)ctx;
	(void)dev;
	(void)event;
	struct usb_link *l = user_data;
	pthread_mutex_lock(&l->lock);
	l->wakeups++;
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
	return 0; /* stay registered */
}

/* A context, once there is USB to enumerate (a board's own USB host may come up late). */
static void try_init(struct usb_link *l)
{
	if (usb_libusb_init(&l->ctx) != 0) {
		if (!l->init_noted)
			post(l, -1, "usb: %s; still trying", err_msg());
		l->init_noted = 1;
		return;
	}
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	    libusb_hotplug_register_callback(l->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, 0,
					     l->spec.vendor, l->spec.product,
					     LIBUSB_HOTPLUG_MATCH_ANY, hotplug_arrived, l,
					     &l->hotplug) == 0)
		l->hotplug_registered = 1;
	atomic_store(&l->events_stop, 0);
	l->events_started = pthread_create(&l->events, NULL, events_main, l) == 0;
	if (!l->events_started) {
		/* without an event thread no transfer would ever end: try again later */
		if (l->hotplug_registered)
			libusb_hotplug_deregister_callback(l->ctx, l->hotplug);
		l->hotplug_registered = 0;
		libusb_exit(l->ctx);
		l->ctx = NULL;
		return;
	}
	if (l->init_noted)
		post(l, -1, "usb: USB devices can be enumerated now");
}

static struct seen *seen_for(struct usb_link *l, uint8_t bus, uint8_t addr)
{
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].bus == bus && l->seen[i].addr == addr)
			return &l->seen[i];
	if (l->nseen == SEEN_MAX)
		return NULL;
	struct seen *s = &l->seen[l->nseen++];
	*s = (struct seen){ .bus = bus, .addr = addr, .state = SEEN_NEW };
	return s;
}

/* Leaves the device alone for a while; says why the first time. */
static void retry_later(struct usb_link *l, struct seen *s, unsigned ms, const char *why)
{
	s->state = SEEN_RETRY;
	s->retry_at = timing_now_ms() + ms;
	if (why && !s->noted)
		post(l, -1, "%s", why);
	s->noted |= why != NULL;
}

/* Opens, checks and claims one matching device and bridges it to a new connection. */
static void open_device(struct usb_link *l, libusb_device *dev,
			const struct libusb_device_descriptor *desc, struct seen *s)
{
	char why[ERR_MSG_MAX];
	struct usb_libusb_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		retry_later(l, s, RETRY_MS, "usb: out of memory");
		return;
	}
	int rc = usb_libusb_open_device(d, dev, desc);
	if (rc == 0 && l->spec.serial[0]) {
		char serial[USB_SERIAL_MAX];
		if (usb_libusb_read_serial(d, desc, serial) != 0) {
			lu_close(d);
			retry_later(l, s, 1000, NULL); /* most likely on its way out */
			return;
		}
		if (strcmp(serial, l->spec.serial) != 0) {
			lu_close(d);
			s->state = SEEN_IGNORED; /* another board */
			return;
		}
	}
	if (rc == 0)
		rc = usb_libusb_claim_interface(d, &selfflash_interface);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s", err_msg());
		lu_close(d);
		if (rc == LIBUSB_ERROR_NO_DEVICE) {
			retry_later(l, s, 1000, NULL);
		} else if (rc == LIBUSB_ERROR_NOT_FOUND) {
			s->state = SEEN_IGNORED; /* a device with our ids that is not a selfflash board */
			if (!s->noted)
				post(l, -1, "%s", why);
			s->noted = 1;
		} else {
			size_t n = strlen(why);
			snprintf(why + n, sizeof(why) - n, "; trying again every %d s", RETRY_MS / 1000);
			retry_later(l, s, RETRY_MS, why);
		}
		return;
	}
	struct usb_bulk_dev bd = { .ops = &lu_ops, .priv = d, .max_packet = d->max_packet };
	snprintf(bd.name, sizeof(bd.name), "usb:%s", d->path);
	int fd;
	s->bridge = usb_bridge_start(&bd, &fd);
	if (!s->bridge) {
		snprintf(why, sizeof(why), "%s", err_msg());
		lu_close(d);
		retry_later(l, s, RETRY_MS, why);
		return;
	}
	s->state = SEEN_BRIDGED;
	if (post(l, fd, "%s", bd.name) != 0)
		close(fd); /* no room to hand it over: the bridge ends and the next scan retries */
}

/* Frees the bridges that ended; a device still there is opened again by the next scan. */
static void reap_bridges(struct usb_link *l)
{
	for (int i = 0; i < l->nseen; i++) {
		struct seen *s = &l->seen[i];
		char why[ERR_MSG_MAX];
		if (!s->bridge)
			continue;
		int end = usb_bridge_state(s->bridge, why, sizeof(why));
		if (end == USB_BRIDGE_RUNNING)
			continue;
		usb_bridge_free(s->bridge);
		s->bridge = NULL;
		/* gone: it comes back at another address; otherwise it is opened again soon. A
		 * failure is worth a word only if the device is still there then: pulling a cable
		 * often fails a transfer before the device is reported gone */
		s->noted = 0;
		retry_later(l, s, 1000, NULL);
		if (end == USB_BRIDGE_FAILED)
			snprintf(s->ended, sizeof(s->ended), "%s", why);
	}
}

static void scan(struct usb_link *l)
{
	libusb_device **list = NULL;
	ssize_t n = libusb_get_device_list(l->ctx, &list);
	if (n < 0)
		return;
	for (int i = 0; i < l->nseen; i++)
		l->seen[i].present = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor desc;
		if (libusb_get_device_descriptor(list[i], &desc) != 0 ||
		    desc.idVendor != l->spec.vendor || desc.idProduct != l->spec.product)
			continue;
		if (l->spec.port[0]) {
			char path[USB_PATH_MAX];
			usb_libusb_device_path(list[i], path);
			if (strcmp(path, l->spec.port) != 0)
				continue;
		}
		struct seen *s = seen_for(l, libusb_get_bus_number(list[i]),
					  libusb_get_device_address(list[i]));
		if (!s)
			continue;
		s->present = 1;
		if (s->state == SEEN_BRIDGED || s->state == SEEN_IGNORED ||
		    (s->state == SEEN_RETRY && timing_now_ms() < s->retry_at) || queue_full(l))
			continue;
		if (s->ended[0]) {
			post(l, -1, "%s; opening it again", s->ended);
			s->ended[0] = '\0';
		}
		open_device(l, list[i], &desc, s);
	}
	libusb_free_device_list(list, 1);
	/* forget devices that are gone (a bridge, if any, ends by itself and is reaped first) */
	int k = 0;
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].present || l->seen[i].bridge)
			l->seen[k++] = l->seen[i];
	l->nseen = k;
}

static void *scanner_main(void *arg)
{
	struct usb_link *l = arg;
	while (!atomic_load(&l->stop)) {
		reap_bridges(l);
		if (!l->ctx)
			try_init(l);
		if (l->ctx)
			scan(l);
		pthread_mutex_lock(&l->lock);
		struct timespec t = timing_timespec_in(USB_LINK_RESCAN_MS);
		while (!l->wakeups && !atomic_load(&l->stop))
			if (pthread_cond_timedwait(&l->wake, &l->lock, &t) == ETIMEDOUT)
				break;
		l->wakeups = 0;
		pthread_mutex_unlock(&l->lock);
	}
	/* the server is closing its connections: let what it wrote last go out first */
	uint64_t until = timing_now_ms() + CLOSE_WAIT_MS;
	for (int left = 1; left && timing_now_ms() < until;) {
		left = 0;
		for (int i = 0; i < l->nseen; i++) {
			struct seen *s = &l->seen[i];
			if (s->bridge && usb_bridge_state(s->bridge, NULL, 0) != USB_BRIDGE_RUNNING) {
				usb_bridge_free(s->bridge);
				s->bridge = NULL;
			}
			left |= s->bridge != NULL;
		}
		if (left) {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].bridge)
			usb_bridge_stop(l->seen[i].bridge);
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].bridge)
			usb_bridge_free(l->seen[i].bridge);
	l->nseen = 0;
	return NULL;
}

struct usb_link *usb_link_open(const char *spec)
{
	struct usb_link *l = calloc(1, sizeof(*l));
	if (!l) {
		err_set("out of memory");
		return NULL;
	}
	if (usb_link_parse(spec, &l->spec) != 0) {
		free(l);
		return NULL;
	}
	if (pipe2(l->notify, O_CLOEXEC | O_NONBLOCK) != 0) {
		err_set("link '%s': pipe: %s", spec, strerror(errno));
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	timing_cond_init(&l->wake);
	atomic_init(&l->stop, 0);
	atomic_init(&l->events_stop, 0);
	if (pthread_create(&l->scanner, NULL, scanner_main, l) != 0) {
		err_set("link '%s': cannot start the USB scanner thread", spec);
		close(l->notify[0]);
		close(l->notify[1]);
		pthread_cond_destroy(&l->wake);
		pthread_mutex_destroy(&l->lock);
		free(l);
		return NULL;
	}
	return l;
}

int usb_link_fd(const struct usb_link *l)
{
	return l->notify[0];
}

int usb_link_accept(struct usb_link *l, int *fd, char *name, size_t name_size)
{
	pthread_mutex_lock(&l->lock);
	if (l->q_len == 0) {
		pthread_mutex_unlock(&l->lock);
		return 0;
	}
	struct found f = l->queue[l->q_head];
	l->q_head = (l->q_head + 1) % QUEUE_MAX;
	l->q_len--;
	char byte;
	ssize_t r = read(l->notify[0], &byte, 1);
	(void)r;
	pthread_mutex_unlock(&l->lock);
	if (f.fd < 0)
		return err_set("%s", f.text);
	*fd = f.fd;
	snprintf(name, name_size, "%s", f.text);
	return 1;
}

void usb_link_close(struct usb_link *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	atomic_store(&l->stop, 1);
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->scanner, NULL); /* it ends every bridge first */
	if (l->ctx) {
		if (l->hotplug_registered)
			libusb_hotplug_deregister_callback(l->ctx, l->hotplug);
		atomic_store(&l->events_stop, 1);
		libusb_interrupt_event_handler(l->ctx);
		if (l->events_started)
			pthread_join(l->events, NULL);
		libusb_exit(l->ctx);
	}
	for (int i = 0; i < l->q_len; i++) {
		const struct found *f = &l->queue[(l->q_head + i) % QUEUE_MAX];
		if (f->fd >= 0)
			close(f->fd);
	}
	close(l->notify[0]);
	close(l->notify[1]);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
