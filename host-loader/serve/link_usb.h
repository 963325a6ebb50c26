/* SPDX-License-Identifier: MIT */
/*
 * The `usb:` link of `hostload serve`: boards whose flasher shows up on this host's USB as a
 * selfflash gadget (a vendor-specific interface with one bulk IN and one bulk OUT endpoint).
 * The server works on pollable byte streams, so each opened device is bridged to one end of a
 * socketpair by two threads, one per direction, each keeping several large transfers in
 * flight; the server gets the other end. A listener finds the devices (rescanning every
 * 500 ms, woken early by libusb hotplug where there is one), bridges each one that appears and
 * ends the bridge when the device goes away; the board reconnects by itself.
 */
#ifndef SELFFLASH_LINK_USB_H
#define SELFFLASH_LINK_USB_H

#include <stddef.h>
#include <stdint.h>

#include "usb/usb_transport.h"

/* What `usb:` alone looks for: the Linux Foundation's id for a configfs composite gadget. */
#define USB_LINK_DEFAULT_VENDOR 0x1d6b
#define USB_LINK_DEFAULT_PRODUCT 0x0104
/* The interface a selfflash gadget offers: vendor-specific class, one bulk IN, one bulk OUT. */
#define USB_LINK_INTERFACE_CLASS 0xff
/* Size of one bulk transfer, and how many of them each direction keeps in flight. */
#define USB_LINK_XFER_SIZE (256u << 10)
#define USB_LINK_XFERS 4
/* How long a bulk IN transfer may hold bytes before it is ended to pass them on (a board
 * whose write was a multiple of the packet size and had no zero-length packet after it). */
#define USB_LINK_IN_FLUSH_MS 250
/* How often the listener looks for devices. */
#define USB_LINK_RESCAN_MS 500

/* Which devices a `usb:` link serves. */
struct usb_link_spec {
	uint16_t vendor;
	uint16_t product;
	char port[USB_PATH_MAX];     /* canonical bus-port path ("1-2.3"); "" for any port */
	char serial[USB_SERIAL_MAX]; /* the iSerialNumber string; "" for any */
};

/*
 * Parses a link spec: "usb:" then, comma-separated and each at most once, "VID:PID" (hex,
 * 1..4 digits each), "port=BUS-PORT[.PORT...]" and "serial=TEXT" (last: TEXT is the rest of
 * the spec). Unset parts mean the defaults above and any port or serial. Returns 0, or -1
 * with err_msg() naming the spec, what was expected and what was found.
 */
int usb_link_parse(const char *spec, struct usb_link_spec *out);

/* ---- the bridge: one device <-> one socketpair ------------------------------------------ */

/* How a transfer ended. */
enum usb_xfer_status {
	USB_XFER_DONE,      /* completed; a short IN transfer is complete too */
	USB_XFER_CANCELLED, /* ended by cancel(); `actual` bytes still moved */
	USB_XFER_GONE,      /* the device went away */
	USB_XFER_FAILED,    /* any other error; `error` says which */
};

/*
 * One bulk transfer. The bridge owns it and its buffer; the transport sets `actual`,
 * `status` and (when FAILED) `error`, then calls done() exactly once per accepted submit, from
 * any thread (also from inside submit() or cancel()), and touches the transfer no more.
 */
struct usb_xfer {
	uint8_t *buf;
	size_t len;        /* bytes to send or room to receive */
	size_t actual;     /* bytes moved */
	int status;        /* enum usb_xfer_status */
	const char *error; /* USB_XFER_FAILED: a static description */
	void (*done)(struct usb_xfer *x);
	void *owner; /* the bridge's */
	int index;   /* the bridge's */
	void *impl;  /* the transport's (e.g. its libusb_transfer), freed by release() */
};

/* A device's bulk endpoints, as the bridge uses them: libusb for boards, a fake in tests. */
struct usb_bulk_ops {
	/* Starts x as a bulk IN (in != 0) or OUT transfer of x->len bytes, with no timeout.
	 * Returns 0 (done() follows), or USB_XFER_GONE / USB_XFER_FAILED (with x->error) when it
	 * could not be started (done() does not follow). */
	int (*submit)(void *dev, struct usb_xfer *x, int in);
	/* Asks a transfer in flight to end early; its done() still follows. */
	void (*cancel)(void *dev, struct usb_xfer *x);
	/* Frees what submit() attached to x->impl; x is not in flight. May be NULL. */
	void (*release)(void *dev, struct usb_xfer *x);
	/* Releases the device; every transfer has ended and been released. */
	void (*close)(void *dev);
};

struct usb_bulk_dev {
	const struct usb_bulk_ops *ops;
	void *priv;          /* passed to every op as `dev` */
	uint32_t max_packet; /* bulk OUT wMaxPacketSize; 0 means 512 */
	char name[48];       /* "usb:1-2.3", for messages */
};

/* How a bridge ended. */
enum usb_bridge_end {
	USB_BRIDGE_RUNNING,
	USB_BRIDGE_GONE,   /* the device went away */
	USB_BRIDGE_CLOSED, /* the server closed its end, or usb_bridge_stop() */
	USB_BRIDGE_FAILED, /* a transfer failed; the reason says how */
};

struct usb_bridge;

/*
 * Bridges dev to a new socketpair and returns the bridge, with the server's end (a blocking
 * AF_UNIX stream socket the caller owns and closes) in *fd. Bytes written to *fd go out as
 * bulk OUT transfers of less than USB_LINK_XFER_SIZE bytes, never a whole number of packets
 * long (a transfer that would be is sent as two), so every transfer ends with a short packet
 * and no zero-length packet is ever needed. Bulk IN data is read into USB_LINK_XFERS
 * transfers kept in flight and arrives on *fd in order. When the device goes away or a
 * transfer fails, the bridge ends: it shuts its end down (a reader of *fd sees end of file)
 * and cancels what is in flight. When *fd is closed, what was written to it still goes out
 * (for up to 2 s: a board that stopped reading does not hold the bridge), then it ends.
 * On success the bridge owns dev (it calls dev->ops->close in usb_bridge_free); on NULL,
 * err_msg() says why and dev stays the caller's.
 */
struct usb_bridge *usb_bridge_start(const struct usb_bulk_dev *dev, int *fd);

/* Ends the bridge now (what is in flight is cancelled, *fd sees end of file); returns at
 * once, usb_bridge_free() waits. */
void usb_bridge_stop(struct usb_bridge *b);

/* How the bridge ended (USB_BRIDGE_RUNNING while either thread still runs); the reason, a
 * sentence for users, goes to why (why_size bytes) when why is not NULL. */
int usb_bridge_state(struct usb_bridge *b, char *why, size_t why_size);

/* Waits for the bridge to end (usb_bridge_stop() first to end it), frees it and closes the
 * device. */
void usb_bridge_free(struct usb_bridge *b);

/* ---- the listener ----------------------------------------------------------------------- */

struct usb_link;

/*
 * Parses spec (see usb_link_parse) and starts looking for matching devices in the background.
 * Having no USB at all yet is not an error: the listener keeps trying (and says so once
 * through usb_link_accept). Returns NULL with err_msg() for a bad spec or no resources.
 */
struct usb_link *usb_link_open(const char *spec);

/* A file descriptor that polls readable while usb_link_accept() has something to return. */
int usb_link_fd(const struct usb_link *l);

/*
 * Takes what the listener found: 1 with a connected socket in *fd (the caller's) and the
 * device's link name ("usb:1-2.3") in name; 0 when there is nothing; -1 with err_msg() set to
 * something the user should hear (no permission, a device that is not a selfflash gadget, a
 * bridge that failed), after which the listener carries on.
 */
int usb_link_accept(struct usb_link *l, int *fd, char *name, size_t name_size);

/* Stops looking, gives each bridge up to 3 s to send what the server wrote before closing
 * its connection, ends the rest (their sockets see end of file) and frees the listener. */
void usb_link_close(struct usb_link *l);

#endif
