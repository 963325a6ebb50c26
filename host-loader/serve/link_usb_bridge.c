/* SPDX-License-Identifier: MIT */
/* A bridge's life: one device bridged to a new socketpair by two threads (link_usb_in.c,
 * link_usb_out.c), ended by either side, stopped and freed here. */
#include "link_usb_internal.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Socket buffers asked for on the socketpair: a few frames, so neither side waits on the other. */
#define SOCKET_BUFFER (1 << 20)

void usb_bridge_end_locked(struct usb_bridge *b, int how, const char *fmt, ...)
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

int usb_bridge_xfer_failed(struct usb_bridge *b, const char *dir, const struct usb_xfer *x)
{
	if (x->status == USB_XFER_GONE) {
		usb_bridge_end_locked(b, USB_BRIDGE_GONE, "%s: the device went away (board reset or "
				      "cable unplugged)", b->dev.name);
	} else {
		const char *what = x->status == USB_XFER_CANCELLED ? "cancelled"
				   : x->error			   ? x->error
								   : "transfer error";
		usb_bridge_end_locked(b, USB_BRIDGE_FAILED, "%s: bulk %s failed: %s", b->dev.name,
				      dir, what);
	}
	return -1;
}

void usb_bridge_cancel_locked(struct usb_bridge *b, struct usb_xfer *x)
{
	pthread_mutex_unlock(&b->lock);
	b->dev.ops->cancel(b->dev.priv, x);
	pthread_mutex_lock(&b->lock);
}

void usb_bridge_thread_finish(struct usb_bridge *b, int (*busy)(const struct usb_bridge *b))
{
	while (busy(b))
		pthread_cond_wait(&b->cond, &b->lock);
	b->running--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
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
					      .done = usb_bridge_in_done, .owner = b, .index = i };
		uint8_t *ob = mem + (size_t)(USB_LINK_XFERS + i) * USB_LINK_XFER_SIZE;
		for (int k = 0; k < 2; k++)
			b->out[i].x[k] = (struct usb_xfer){ .buf = ob, .done = usb_bridge_out_done,
							    .owner = b, .index = i };
	}
	b->running = 2;
	if (pthread_create(&b->in_thread, NULL, usb_bridge_in_main, b) != 0) {
		err_set("%s: cannot start the bridge's threads", dev->name);
		close(sv[1]);
		bridge_destroy(b);
		return NULL;
	}
	if (pthread_create(&b->out_thread, NULL, usb_bridge_out_main, b) != 0) {
		err_set("%s: cannot start the bridge's threads", dev->name);
		pthread_mutex_lock(&b->lock);
		usb_bridge_end_locked(b, USB_BRIDGE_FAILED, "no thread");
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
	usb_bridge_end_locked(b, USB_BRIDGE_CLOSED, "%s: stopped", b->dev.name);
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
