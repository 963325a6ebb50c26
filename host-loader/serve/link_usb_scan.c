/* SPDX-License-Identifier: MIT */
/* The listener's scanner: finds the devices that match the spec, opens, checks and bridges
 * each, retries what failed, reaps the bridges that ended, and queues its news for the server. */
#include "link_usb_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

int usb_link_post(struct usb_link *l, int fd, const char *fmt, ...)
{
	pthread_mutex_lock(&l->lock);
	if (l->q_len == USB_LINK_QUEUE_MAX) {
		pthread_mutex_unlock(&l->lock);
		return -1;
	}
	struct found *f = &l->queue[(l->q_head + l->q_len++) % USB_LINK_QUEUE_MAX];
	f->fd = fd;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	char one = 1;
	ssize_t w = write(l->notify[1], &one, 1);
	(void)w; /* the pipe holds far more than USB_LINK_QUEUE_MAX bytes */
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int usb_link_queue_full(struct usb_link *l)
{
	pthread_mutex_lock(&l->lock);
	int full = l->q_len >= USB_LINK_QUEUE_MAX - 1; /* room for one message besides */
	pthread_mutex_unlock(&l->lock);
	return full;
}

static struct seen *seen_for(struct usb_link *l, uint8_t bus, uint8_t addr)
{
	for (int i = 0; i < l->nseen; i++)
		if (l->seen[i].bus == bus && l->seen[i].addr == addr)
			return &l->seen[i];
	if (l->nseen == USB_LINK_SEEN_MAX)
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
		usb_link_post(l, -1, "%s", why);
	s->noted |= why != NULL;
}

/* Opens, checks and claims one matching device and bridges it to a new connection. */
static void open_device(struct usb_link *l, libusb_device *dev,
			const struct libusb_device_descriptor *desc, struct seen *s)
{
	char why[ERR_MSG_MAX];
	struct usb_libusb_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		retry_later(l, s, USB_LINK_RETRY_MS, "usb: out of memory");
		return;
	}
	int rc = usb_libusb_open_device(d, dev, desc);
	if (rc == 0 && l->spec.serial[0]) {
		char serial[USB_SERIAL_MAX];
		if (usb_libusb_read_serial(d, desc, serial) != 0) {
			usb_link_libusb_close(d);
			retry_later(l, s, 1000, NULL); /* most likely on its way out */
			return;
		}
		if (strcmp(serial, l->spec.serial) != 0) {
			usb_link_libusb_close(d);
			s->state = SEEN_IGNORED; /* another board */
			return;
		}
	}
	if (rc == 0)
		rc = usb_libusb_claim_interface(d, &usb_link_selfflash_interface);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s", err_msg());
		usb_link_libusb_close(d);
		if (rc == LIBUSB_ERROR_NO_DEVICE) {
			retry_later(l, s, 1000, NULL);
		} else if (rc == LIBUSB_ERROR_NOT_FOUND) {
			s->state = SEEN_IGNORED; /* a device with our ids that is not a selfflash board */
			if (!s->noted)
				usb_link_post(l, -1, "%s", why);
			s->noted = 1;
		} else {
			size_t n = strlen(why);
			snprintf(why + n, sizeof(why) - n, "; trying again every %d s",
				 USB_LINK_RETRY_MS / 1000);
			retry_later(l, s, USB_LINK_RETRY_MS, why);
		}
		return;
	}
	struct usb_bulk_dev bd = { .ops = &usb_link_libusb_ops, .priv = d,
				   .max_packet = d->max_packet };
	snprintf(bd.name, sizeof(bd.name), "usb:%s", d->path);
	int fd;
	s->bridge = usb_bridge_start(&bd, &fd);
	if (!s->bridge) {
		snprintf(why, sizeof(why), "%s", err_msg());
		usb_link_libusb_close(d);
		retry_later(l, s, USB_LINK_RETRY_MS, why);
		return;
	}
	s->state = SEEN_BRIDGED;
	if (usb_link_post(l, fd, "%s", bd.name) != 0)
		close(fd); /* no room to hand it over: the bridge ends and the next scan retries */
}

void usb_link_reap_bridges(struct usb_link *l)
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

void usb_link_scan(struct usb_link *l)
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
		    (s->state == SEEN_RETRY && timing_now_ms() < s->retry_at) ||
		    usb_link_queue_full(l))
			continue;
		if (s->ended[0]) {
			usb_link_post(l, -1, "%s; opening it again", s->ended);
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

void usb_link_end_bridges(struct usb_link *l)
{
	/* the server is closing its connections: let what it wrote last go out first */
	uint64_t until = timing_now_ms() + USB_LINK_CLOSE_WAIT_MS;
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
}
