/* SPDX-License-Identifier: MIT */
/*
 * The board as a USB device (a Jetson in recovery-flash mode): a configfs gadget "selfflash"
 * with one configuration holding a FunctionFS function (one vendor-specific interface with a
 * bulk IN and a bulk OUT endpoint: the link) and a CDC-ACM function (/dev/ttyGS0 on the board:
 * the fallback for hosts that only have a serial driver), bound to a UDC.
 *
 * FunctionFS endpoint files cannot be poll()ed and the link client polls, so a thread copies
 * the OUT endpoint into one end of a socket pair (a "session") and the client reads the other
 * end; writes go straight to the IN endpoint. A second thread reads ep0 events. The host going
 * away (DISABLE, UNBIND, a failed transfer) ends the session: its socket reads EOF, and the
 * next usb_gadget_connect() waits for ENABLE again. A third thread watches writes: one that the
 * host does not take in time is interrupted (a host program that died with the cable in). The gadget itself stays until
 * usb_gadget_close(), which removes what usb_gadget_open() made, in reverse order.
 *
 * Descriptors (what the host sees): interface 0, class 0xff/0x00/0x00, string 1 "selfflash
 * link"; endpoint 0x81 bulk IN then 0x02 bulk OUT (ep1 and ep2 in the FunctionFS mount), max
 * packet 64 (full speed), 512 (high speed), 1024 (super speed, burst 0). The host must end a
 * transfer whose length is a multiple of the max packet with a zero-length packet, as the
 * board does: a bulk read only ends on a short packet.
 */
#ifndef SELFFLASH_USB_GADGET_H
#define SELFFLASH_USB_GADGET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define USB_GADGET_VENDOR 0x1d6b   /* Linux Foundation */
#define USB_GADGET_PRODUCT 0x0104  /* its "multifunction composite gadget" */
#define USB_GADGET_BCD_DEVICE 0x0100
#define USB_GADGET_MANUFACTURER "selfflash"
#define USB_GADGET_PRODUCT_NAME "selfflash flasher"
#define USB_GADGET_INTERFACE_NAME "selfflash link"
#define USB_GADGET_STRING_MAX 126 /* characters in a USB string descriptor */
#define USB_GADGET_EP_IN 0x81
#define USB_GADGET_EP_OUT 0x02

/* Sizes of the blobs written to ep0: the descriptors (FS, HS and SS sets), the strings. */
#define USB_GADGET_DESCRIPTORS_SIZE 105
#define USB_GADGET_STRINGS_SIZE (16 + 2 + sizeof(USB_GADGET_INTERFACE_NAME))

#define USB_GADGET_UNDO_MAX 20
#define USB_GADGET_PATH_MAX 512
#define USB_GADGET_READ_SIZE (64u << 10) /* one read of the OUT endpoint; a multiple of 1024 */

/*
 * The filesystem calls that behave specially on configfs: there mkdir makes a directory the
 * kernel fills with attribute files and default groups, and rmdir removes them with it. Tests
 * stand in for the kernel here; NULL members (or a NULL struct) are the real system calls.
 * Each returns 0, or -1 with errno set.
 */
struct usb_gadget_fs {
	int (*mkdir)(const char *path);
	int (*rmdir)(const char *path);
	int (*mount)(const char *source, const char *target, const char *type);
	int (*umount)(const char *target);
};

struct usb_gadget_opts {
	const char *configfs;  /* NULL: /sys/kernel/config (mounted there when it has no usb_gadget) */
	const char *ffs_mount; /* NULL: /dev/ffs-selfflash (made when missing) */
	const char *udc_class; /* NULL: /sys/class/udc */
	const char *udc;       /* the UDC to bind; NULL or "": the first (by name) in udc_class */
	uint16_t vendor, product, bcd_device; /* 0: the defaults above */
	const char *manufacturer, *product_name; /* NULL: the defaults above */
	const char *serial;    /* the board's serial number; NULL or "": none */
	int no_acm;            /* 1: no CDC-ACM function */
	const struct usb_gadget_fs *fs;
	FILE *console;         /* where setup, teardown and host events are reported; may be NULL */
	/*
	 * A write the host does not take within this many ms is abandoned (usb_gadget_write()
	 * fails): a host whose program stopped keeps the interface enabled and never reads. 0:
	 * wait for ever. The writer is interrupted with SIGUSR2, whose handler the bridge sets.
	 */
	unsigned write_timeout_ms;
};

/* One step of setup, undone by usb_gadget_close() (internal; listed here for the size). */
struct usb_gadget_undo {
	int kind;
	int fd;
	char path[USB_GADGET_PATH_MAX];
};

/* Caller-owned; filled by usb_gadget_open(). Members are internal. */
struct usb_gadget {
	struct usb_gadget_opts o;
	struct usb_gadget_fs fs;
	char configfs[USB_GADGET_PATH_MAX], ffs_mount[USB_GADGET_PATH_MAX];
	char udc_class[USB_GADGET_PATH_MAX], gadget[USB_GADGET_PATH_MAX];
	char udc[128], manufacturer[USB_GADGET_STRING_MAX + 1];
	char product_name[USB_GADGET_STRING_MAX + 1], serial[USB_GADGET_STRING_MAX + 1];
	struct usb_gadget_undo undo[USB_GADGET_UNDO_MAX];
	unsigned nundo;
	int ep0, ep_in, ep_out;
	int wake[2];         /* tells the ep0 thread to end */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_t events_thread, reader_thread, watch_thread;
	int initialised;     /* lock and cond exist: usb_gadget_close() has work */
	int threads;         /* 1 while both run */
	int bound;           /* the UDC name is written */
	/* under lock */
	int enabled, stopping, events_dead;
	unsigned epoch;      /* counts ENABLE and DISABLE/UNBIND: a session lives in one epoch */
	int pending_w;       /* a new session's write end, not yet taken by the reader */
	unsigned pending_epoch;
	int session_w;       /* the reader's current session (closed only by the reader) */
	unsigned session_epoch;
	unsigned max_packet; /* of the IN endpoint at the current speed */
	unsigned enables;    /* ENABLE events seen */
	int writing;         /* a write to the IN endpoint is under way, by `writer` */
	int write_timed_out; /* ... and the watch thread has interrupted it */
	pthread_t writer;
	uint64_t write_deadline_ms; /* CLOCK_MONOTONIC */
	uint8_t buf[USB_GADGET_READ_SIZE];
};

/*
 * The FunctionFS descriptors blob (FUNCTIONFS_DESCRIPTORS_MAGIC_V2, FS+HS+SS) into out, which
 * holds USB_GADGET_DESCRIPTORS_SIZE bytes; returns that size.
 */
size_t usb_gadget_descriptors(uint8_t *out);

/* The FunctionFS strings blob (one language, en-US, one string) into out, which holds
 * USB_GADGET_STRINGS_SIZE bytes; returns that size. */
size_t usb_gadget_strings(uint8_t *out);

/*
 * Builds the gadget: configfs tree (device ids, strings, configuration c.1 with ffs.selfflash
 * and acm.gs0; a missing ACM driver is only reported), mounts FunctionFS, writes the
 * descriptors and strings to ep0, opens ep1 (IN) and ep2 (OUT), starts the ep0 and OUT threads
 * and binds the UDC. g is caller-owned (it holds a 64 KiB read buffer; keep it off small
 * stacks). On failure, what was made is undone; 0, or -1 naming the step and the errno text.
 */
int usb_gadget_open(struct usb_gadget *g, const struct usb_gadget_opts *o);

/*
 * Starts the ep0 and OUT threads on the given endpoint files instead of FunctionFS ones
 * (tests; usb_gadget_open() calls it with its own). g must be zeroed, o as for
 * usb_gadget_open(); g takes ownership of the three fds. 0 or -1.
 */
int usb_gadget_start_bridge(struct usb_gadget *g, const struct usb_gadget_opts *o, int ep0,
			    int ep_in, int ep_out);

/*
 * Waits up to timeout_ms for the host to enable the function, then starts a new session:
 * *rfd is the socket to poll and read (the caller closes it; EOF means the host went away),
 * *wfd the IN endpoint (owned by g: write with usb_gadget_write(), never close). A session
 * started before ends. 0, or -1 when the host did not come.
 */
int usb_gadget_connect(struct usb_gadget *g, unsigned timeout_ms, int *rfd, int *wfd);

/*
 * Writes n bytes to the IN endpoint as one transfer, then a zero-length packet when n is a
 * multiple of the max packet. 0, or -1 when the host is not there (function disabled), the
 * transfer failed, or the host did not take it within o.write_timeout_ms. Until then it blocks
 * while a connected host does not read; usb_gadget_unbind() ends that too.
 */
int usb_gadget_write(struct usb_gadget *g, const void *p, size_t n);

/* Detaches from the host (writes "\n" to UDC): transfers in progress fail. Idempotent; safe
 * while other threads write. */
void usb_gadget_unbind(struct usb_gadget *g);

/* Unbinds, stops the threads, closes the endpoints and removes what usb_gadget_open() made,
 * in reverse order; failures are reported on the console, not returned. Idempotent. */
void usb_gadget_close(struct usb_gadget *g);

#endif
