/* SPDX-License-Identifier: MIT */
/*
 * The board's end of the link. The flasher is the client: it asks hostload for byte ranges
 * of the package and gets them back in DATA frames, in order. When the link drops (cable,
 * host restart, QEMU chardev reconnect) the client reconnects, says HELLO again with the same
 * session, checks that the host still serves the same package, and re-asks only for the bytes
 * that had not arrived. Progress, log lines and the final result go the other way.
 *
 * Threads: one thread at a time reads (link_client_read is serialised by a lock); progress
 * and log lines may be sent from any thread; a keepalive thread runs while the client is open.
 *
 * The code: link_client.c and the layers below it (link_internal.h); the transports behind
 * their ops (link_transport.h).
 */
#ifndef SELFFLASH_LINK_CLIENT_H
#define SELFFLASH_LINK_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "frame.h"
#include "link_msg.h"
#include "link_transport.h"
#include "sha256.h"
#include "board/usb_gadget.h"

#define LINK_QUEUE 64 /* requests that may be outstanding at once */

struct link_client_opts {
	const char *spec;          /* unix:PATH, tcp:HOST:PORT, virtio:NAME, dev:PATH, tty:PATH,
				    * usb-gadget:[UDC] (link_transport.c) */
	const char *board;         /* how the host names this board (serial, model) */
	uint32_t max_payload;      /* 0: 256 KiB */
	uint64_t window;           /* bytes requested ahead of the reader; 0: 4 MiB */
	unsigned idle_timeout_ms;  /* a request with no byte for this long: link lost; 0: 10 s */
	unsigned reconnect_ms;     /* give up after trying to reconnect this long; 0: 10 min */
	FILE *console;             /* where link events are reported (may be NULL) */
	/* usb-gadget:, and dev:/dev/ttyGS* when that device does not exist yet: the gadget
	 * (ids, strings, serial; paths for tests); the spec's UDC overrides usb.udc */
	struct usb_gadget_opts usb;
};

struct link_request {
	uint64_t offset;
	uint32_t length, received, seq;
	int sent;
};

struct link_client {
	struct link_client_opts o;
	char spec[256], board[LINK_NAME_MAX];
	struct link_transport transport; /* the spec's transport (link_transport.h): its ops and fds */
	uint64_t session;
	uint32_t max_payload;
	uint64_t package_size;
	char package[LINK_NAME_MAX];
	struct frame_decoder dec;
	uint8_t *rx;      /* the decoder's buffer */
	pthread_mutex_t rx_lock, tx_lock, stop_lock;
	char write_error[ERR_MSG_MAX]; /* why the last write failed (under tx_lock), for the log */
	pthread_cond_t stop_cond; /* wakes the keepalive thread to end */
	pthread_t keepalive;
	int keepalive_running;
	atomic_int down, stop;
	atomic_uint_fast64_t last_send_ms;
	uint32_t seq;
	struct link_request queue[LINK_QUEUE];
	unsigned head, count;
	uint8_t *dest;   /* where the head request's bytes go */
	int acked;       /* RESULT_ACK seen */
	uint64_t pin_len; /* bytes [0, pin_len) must hash to pin_hash after a reconnect */
	uint8_t pin_hash[SHA256_LEN];
	char backlog[16384]; /* log lines that could not be sent while the link was down */
	size_t backlog_len;
	/* what happened, for the report */
	uint64_t bytes_received, bytes_requested_again, frames_dropped;
	unsigned reconnects;
};


/*
 * Opens the link named by o->spec, waits (up to o->reconnect_ms) for the host, exchanges
 * HELLO/WELCOME and starts the keepalive thread. lc is caller-owned; 0 or -1 (at once for a
 * spec that names no transport). After -1 there is nothing to close.
 */
int link_client_open(struct link_client *lc, const struct link_client_opts *o);

/* Size of the package the host serves (after open). */
uint64_t link_client_package_size(const struct link_client *lc);

/*
 * After the manifest was verified: bytes [0, len) are what was verified. A reconnect re-reads
 * them and refuses to go on when the host now serves something else.
 */
int link_client_pin(struct link_client *lc, uint64_t len);

/*
 * Announces a range the reader will ask for soon, in order; it is requested as soon as it
 * fits in the window, so it travels while the board works on earlier data. A range already
 * expected is not added again; a full queue ignores the hint. 0, or -1 for a bad range.
 */
int link_client_expect(struct link_client *lc, uint64_t off, uint32_t len);

/*
 * Reads package bytes [off, off + len) into buf, resuming across link drops. A range that is
 * not the next expected one cancels what was expected (it is asked for again later). 0, or -1
 * when the host refused the range, the package changed, or the link did not come back.
 */
int link_client_read(struct link_client *lc, uint64_t off, void *buf, size_t len);

/* Best-effort reports to the host: dropped (progress) or kept for later (log) when down. */
void link_client_progress(struct link_client *lc, const struct link_progress *p);
void link_client_log(struct link_client *lc, const char *text, size_t len);

/*
 * Sends the final result and waits for the host to confirm it (reconnecting if needed), so the
 * host's exit status is right before the board reboots. 0 when confirmed, else -1.
 */
int link_client_result(struct link_client *lc, int32_t status, const char *message);

/* Stops the keepalive thread and closes the link (a USB gadget is unbound and removed);
 * makes waiting calls give up. */
void link_client_close(struct link_client *lc);

#endif
