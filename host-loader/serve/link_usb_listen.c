/* SPDX-License-Identifier: MIT */
/* The usb: link's listener: its scanner and libusb event threads, and usb_link_accept(), which
 * hands the server what the scanner queued: bridged devices and messages. */
#include "link_usb_internal.h"
#include "timing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
			usb_link_post(l, -1, "usb: %s; still trying", err_msg());
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
		usb_link_post(l, -1, "usb: USB devices can be enumerated now");
}

static void *scanner_main(void *arg)
{
	struct usb_link *l = arg;
	while (!atomic_load(&l->stop)) {
		usb_link_reap_bridges(l);
		if (!l->ctx)
			try_init(l);
		if (l->ctx)
			usb_link_scan(l);
		pthread_mutex_lock(&l->lock);
		struct timespec t = timing_timespec_in(USB_LINK_RESCAN_MS);
		while (!l->wakeups && !atomic_load(&l->stop))
			if (pthread_cond_timedwait(&l->wake, &l->lock, &t) == ETIMEDOUT)
				break;
		l->wakeups = 0;
		pthread_mutex_unlock(&l->lock);
	}
	usb_link_end_bridges(l);
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
	l->q_head = (l->q_head + 1) % USB_LINK_QUEUE_MAX;
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
		const struct found *f = &l->queue[(l->q_head + i) % USB_LINK_QUEUE_MAX];
		if (f->fd >= 0)
			close(f->fd);
	}
	close(l->notify[0]);
	close(l->notify[1]);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
