/* SPDX-License-Identifier: MIT */
/*
 * How the board's link moves bytes: one small ops struct per transport (musl's FILE, the
 * targets' target_ops), one const table mapping a spec's prefix to its ops (link_transport.c).
 * The protocol above (link_client.c and friends) sees only these ops; what differs between a
 * socket, a serial port and the USB gadget lives in link_socket.c, link_tty.c and link_ffs.c.
 *
 * Locking: open, write and close run under the client's tx lock; read runs in the one reading
 * thread, which is also the only thread that opens (so rfd does not change under it).
 */
#ifndef SELFFLASH_LINK_TRANSPORT_H
#define SELFFLASH_LINK_TRANSPORT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "board/usb_gadget.h"

struct link_transport;

struct link_transport_ops {
	/*
	 * Connects (again), or, for a device that stays open, checks that a host is at the other
	 * end. A previous connection is closed first. 0; or -1 with err_msg() set, and the client
	 * retries until its deadline; or 1 with err_msg() set when waiting cannot help (the
	 * transport's driver is not in the kernel), and the client gives up at once.
	 */
	int (*open)(struct link_transport *t);
	/* Waits up to timeout_ms for bytes: how many were read, 0 none yet, -1 the link is gone
	 * (EOF, error, hang-up) with err_msg() set. */
	ssize_t (*read)(struct link_transport *t, void *buf, size_t n, int timeout_ms);
	/* Writes one whole frame; 0, or -1 with err_msg() set (the link counts as down). */
	int (*write)(struct link_transport *t, const void *p, size_t n);
	/* Makes a write blocked on a host that stopped reading return, from another thread;
	 * NULL where writes do not block for long. Called first when the client closes. */
	void (*interrupt)(struct link_transport *t);
	/* Closes the connection; open() may make a new one. */
	void (*close)(struct link_transport *t);
	/* Removes what outlives connections (the USB gadget) when the client closes; may be NULL. */
	void (*release)(struct link_transport *t);
	/* Between two attempts to connect: 0 backs off from 100 ms to 1 s (each try costs a
	 * listening host an accept); otherwise this fixed wait (a port or gadget answers a check
	 * at once, so the board looks often and resumes quickly). */
	unsigned retry_ms;
};

/* One transport's state: the ops chosen for the spec and what they keep between calls. */
struct link_transport {
	const struct link_transport_ops *ops;
	const char *arg;   /* the spec after its prefix (points into the client's copy) */
	int rfd, wfd;      /* read and write ends: one fd, except for usb-gadget (the bridge's
			    * socket; the IN endpoint, which belongs to the gadget) */
	/* usb-gadget:, and dev:/dev/ttyGS* before that device exists: the gadget, made by the
	 * first open and kept across reconnects (a host that went away is waited for) */
	struct usb_gadget *usb;
	struct usb_gadget_opts usb_opts; /* console and write timeout already filled in */
	int usb_failures;
	FILE *console;     /* where transport events are reported (may be NULL) */
};

/* The ops of the transports, each in its own file. */
extern const struct link_transport_ops link_unix_ops, link_tcp_ops; /* link_socket.c */
extern const struct link_transport_ops link_virtio_ops, link_tty_ops; /* link_tty.c */
extern const struct link_transport_ops link_ffs_ops;                 /* link_ffs.c */

/*
 * Sets t up for spec (nothing is opened yet): t->ops and t->arg from the table, rfd and wfd
 * -1. spec must stay valid while t is used. 0, or -1 naming the kinds of spec known.
 */
int link_transport_init(struct link_transport *t, const char *spec, FILE *console);

/* Shared by the ops: poll and read rfd (the read op of every transport here), and close it. */
ssize_t link_transport_read_fd(struct link_transport *t, void *buf, size_t n, int timeout_ms);
void link_transport_close_fd(struct link_transport *t);

/* Makes the USB gadget if there is none yet (link_ffs.c; dev:/dev/ttyGS* needs it too); udc
 * overrides usb_opts.udc when not empty. The first failure is reported. 0 or -1. */
int link_ffs_setup_gadget(struct link_transport *t, const char *udc);
/* Unbinds the gadget (blocked writes fail), and removes it; no-ops when there is none. */
void link_ffs_unbind_gadget(struct link_transport *t);
void link_ffs_remove_gadget(struct link_transport *t);

/* "flasher: link: " and a line on console (nothing when it is NULL). */
void link_console_say(FILE *console, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when spec names a transport this client knows (unix:, tcp:, virtio:, dev:, tty:,
 * usb-gadget: with or without a UDC name). */
int link_spec_known(const char *spec);

#endif
