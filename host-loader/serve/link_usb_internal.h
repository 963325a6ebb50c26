/* SPDX-License-Identifier: MIT */
/*
 * What the files of the usb: link share (not for other modules). Layers, each calling only
 * those below it:
 *   link_usb_listen.c  the listener: its threads, usb_link_accept()
 *   link_usb_scan.c    matching devices opened, checked and bridged; bridges reaped; the
 *                      queue of news usb_link_accept() takes from
 *   link_usb_libusb.c  a libusb device's bulk endpoints as struct usb_bulk_ops
 *   link_usb_bridge.c  a bridge's life: start, end, stop, free (usb_bridge_* in link_usb.h)
 *   link_usb_in.c      bulk IN -> socket, one thread
 *   link_usb_out.c     socket -> bulk OUT, one thread
 *   link_usb_spec.c    the spec "usb:VID:PID,port=...,serial=..."
 * The bridge knows nothing of libusb: tests drive it through a fake struct usb_bulk_ops.
 */
#ifndef SELFFLASH_LINK_USB_INTERNAL_H
#define SELFFLASH_LINK_USB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <libusb-1.0/libusb.h>

#include "error.h"
#include "link_usb.h"
#include "usb/usb_libusb.h"

/* ---- the bridge ----------------------------------------------------------------------- */

/* How often a waiting bridge thread looks at its socket and its stop flag. */
#define USB_BRIDGE_POLL_MS 200

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

/* link_usb_bridge.c */

/* Ends the bridge (the first reason wins) and wakes everything that waits on it. Lock held. */
void usb_bridge_end_locked(struct usb_bridge *b, int how, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Ends the bridge for a transfer of direction dir ("IN", "OUT") that failed; returns -1.
 * Lock held. */
int usb_bridge_xfer_failed(struct usb_bridge *b, const char *dir, const struct usb_xfer *x);
/* Asks x, in flight, to end early. Lock held (dropped around the call: done() may come from
 * inside it). */
void usb_bridge_cancel_locked(struct usb_bridge *b, struct usb_xfer *x);
/* The end of a bridge thread: waits until busy(b) is 0 (the transport gave back every
 * transfer of this direction), counts the thread finished and releases the lock. */
void usb_bridge_thread_finish(struct usb_bridge *b, int (*busy)(const struct usb_bridge *b));

/* link_usb_in.c, link_usb_out.c: each direction's done() callback and thread. */
void usb_bridge_in_done(struct usb_xfer *x);
void *usb_bridge_in_main(void *arg);
void usb_bridge_out_done(struct usb_xfer *x);
void *usb_bridge_out_main(void *arg);

/* ---- libusb under the bridge ---------------------------------------------------------- */

/* link_usb_libusb.c */

/* The selfflash gadget's interface, as usb_libusb_claim_interface() looks for it. */
extern const struct usb_libusb_iface usb_link_selfflash_interface;
/* The bulk ops over a claimed struct usb_libusb_dev (calloc'd; priv of the usb_bulk_dev). */
extern const struct usb_bulk_ops usb_link_libusb_ops;
/* Closes such a device and frees it (the ops' close). */
void usb_link_libusb_close(void *dev);

/* ---- the listener --------------------------------------------------------------------- */

/* How long closing the listener waits for bridges to finish by themselves. */
#define USB_LINK_CLOSE_WAIT_MS 3000
/* How long a device that could not be opened is left alone before the next try. */
#define USB_LINK_RETRY_MS 5000
/* Devices the listener tracks at once, and what it may hold for usb_link_accept(). */
#define USB_LINK_SEEN_MAX 64
#define USB_LINK_QUEUE_MAX 16

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
	struct found queue[USB_LINK_QUEUE_MAX];
	int q_head, q_len;
	struct seen seen[USB_LINK_SEEN_MAX]; /* the scanner thread's own */
	int nseen;
};

/* link_usb_scan.c, the scanner thread's own but for the queue (l->lock) */

/* Queues a connection or a message (fmt non-NULL); 0, or -1 when the queue is full. */
int usb_link_post(struct usb_link *l, int fd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 1 when the queue has no room for a connection and a message besides. */
int usb_link_queue_full(struct usb_link *l);

/* Looks at every USB device once: bridges each new matching one, retries those due. */
void usb_link_scan(struct usb_link *l);
/* Frees the bridges that ended; a device still there is opened again by the next scan. */
void usb_link_reap_bridges(struct usb_link *l);
/* Gives each bridge up to USB_LINK_CLOSE_WAIT_MS to end by itself, then ends and frees the
 * rest and forgets every device. */
void usb_link_end_bridges(struct usb_link *l);

#endif
