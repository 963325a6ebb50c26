/* SPDX-License-Identifier: MIT */
/* The bridge's IN side: bulk IN transfers kept in flight, passed on to the socket in order. */
#include "link_usb_internal.h"
#include "timing.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

void usb_bridge_in_done(struct usb_xfer *x)
{
	struct usb_bridge *b = x->owner;
	pthread_mutex_lock(&b->lock);
	b->in_state[x->index] = IN_COMPLETE;
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
		return usb_bridge_xfer_failed(b, "IN", x);
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
		(void)poll(&pf, 1, USB_BRIDGE_POLL_MS);
	}
	return 0;
}

/* How many IN transfers the transport has not given back yet. Lock held. */
static int in_flying(const struct usb_bridge *b)
{
	int flying = 0;
	for (int i = 0; i < USB_LINK_XFERS; i++)
		flying += b->in_state[i] == IN_FLIGHT;
	return flying;
}

/* Bulk IN -> socket: every transfer in flight, passed on strictly in the order submitted. */
void *usb_bridge_in_main(void *arg)
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
				usb_bridge_cancel_locked(b, &b->in[head]);
			}
			if (rc == ETIMEDOUT)
				flush_at = timing_timespec_in(USB_LINK_IN_FLUSH_MS);
			continue;
		}
		struct usb_xfer *x = &b->in[head];
		b->in_state[head] = IN_IDLE;
		/* a cancelled transfer was a flush: what it holds is data like any other */
		if (x->status != USB_XFER_DONE && x->status != USB_XFER_CANCELLED) {
			usb_bridge_xfer_failed(b, "IN", x);
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
	for (int i = 0; i < USB_LINK_XFERS; i++)
		if (b->in_state[i] == IN_FLIGHT)
			usb_bridge_cancel_locked(b, &b->in[i]);
	usb_bridge_thread_finish(b, in_flying);
	return NULL;
}
