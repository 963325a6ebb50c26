/* SPDX-License-Identifier: MIT */
/* The bridge's OUT side: what the server writes to the socket, out as bulk OUT transfers that
 * never need a zero-length packet. */
#include "link_usb_internal.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "timing.h"

/* How long what the server wrote before closing its end may take to go out. */
#define DRAIN_MS 2000

void usb_bridge_out_done(struct usb_xfer *x)
{
	struct usb_bridge *b = x->owner;
	pthread_mutex_lock(&b->lock);
	struct out_chunk *c = &b->out[x->index];
	c->flight[x == &c->x[1]] = 0;
	c->pending--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
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
			return usb_bridge_xfer_failed(b, "OUT", &c->x[k]);
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
			bad = usb_bridge_xfer_failed(b, "OUT", x);
		} else if (x->actual != x->len) {
			bad = -1;
			usb_bridge_end_locked(b, USB_BRIDGE_FAILED, "%s: bulk OUT: the device took "
					      "%zu of %zu bytes", b->dev.name, x->actual, x->len);
		}
	}
	c->used = 0;
	return bad;
}

/* How many OUT transfers the transport has not given back yet. Lock held. */
static int out_pending(const struct usb_bridge *b)
{
	int pending = 0;
	for (int i = 0; i < USB_LINK_XFERS; i++)
		pending += b->out[i].pending;
	return pending;
}

/*
 * Socket -> bulk OUT: up to USB_LINK_XFERS chunks in flight, reaped in order. When the server
 * closes its end, what it wrote before still goes out (a RESULT_ACK, a FAIL), for up to
 * DRAIN_MS: a board that stopped reading does not hold the bridge.
 */
void *usb_bridge_out_main(void *arg)
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
			usb_bridge_end_locked(b, USB_BRIDGE_CLOSED, "%s: hostload closed the "
					      "connection", b->dev.name);
			break;
		}
		if (eof || b->out[next].used) {
			/* every chunk in flight, or nothing more to read: wait for the oldest */
			struct timespec t = timing_timespec_in(USB_BRIDGE_POLL_MS);
			if (pthread_cond_timedwait(&b->cond, &b->lock, &t) == ETIMEDOUT &&
			    !drain_until && peer_closed(b->fd))
				drain_until = timing_now_ms() + DRAIN_MS;
			continue;
		}
		pthread_mutex_unlock(&b->lock);
		struct pollfd pf = { .fd = b->fd, .events = POLLIN };
		ssize_t n = -1;
		int e = EAGAIN;
		if (poll(&pf, 1, USB_BRIDGE_POLL_MS) == 1) {
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
	/* ending: cancel what is in flight and wait until the transport gave it all back */
	for (int i = 0; i < USB_LINK_XFERS; i++)
		for (int k = 0; k < 2; k++)
			if (b->out[i].flight[k])
				usb_bridge_cancel_locked(b, &b->out[i].x[k]);
	usb_bridge_thread_finish(b, out_pending);
	return NULL;
}
