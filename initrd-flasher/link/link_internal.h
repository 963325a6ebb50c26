/* SPDX-License-Identifier: MIT */
/*
 * What the files of the board's link protocol share (not for other modules). Layers, each
 * calling only those below it:
 *   link_client.c  the public calls: open, expect, read, pin, result, close
 *   link_read.c    reads that survive drops: wait for a range, reconnect, re-check the pin
 *   link_queue.c   the ranges asked for: the read-ahead window, DATA and FAIL answers
 *   link_connect.c HELLO/WELCOME, and connecting until the host answers
 *   link_wire.c    frames out, bytes in, log backlog, keepalive
 *   link_transport.h  the transports' ops (sockets, devices, the USB gadget)
 * Every function here expects the rx lock held, except the link_wire_* senders and the
 * keepalive calls, which take the tx lock themselves.
 */
#ifndef SELFFLASH_LINK_INTERNAL_H
#define SELFFLASH_LINK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "link_client.h"

/* link_wire.c */

/* Encodes a frame of at most LINK_TEXT_MAX + 4 payload bytes and sends it whole under the tx
 * lock; 0, or -1 marking the link down (why: lc->write_error). Any thread. */
int link_wire_send(struct link_client *lc, uint8_t type, uint32_t seq, const void *payload,
		   uint32_t len);
/* Reads what arrives within timeout_ms into the decoder: 1 got bytes, 0 timed out, -1 the
 * link is gone (err_msg() says how). */
int link_wire_receive(struct link_client *lc, int timeout_ms);
/* Sends the log lines kept while the link was down. */
void link_wire_flush_backlog(struct link_client *lc);
/* The thread that sends KEEPALIVE when nothing else was sent for a while; stop is idempotent
 * and wakes it at once. */
void link_keepalive_start(struct link_client *lc);
void link_keepalive_stop(struct link_client *lc);

/* link_connect.c */

/* Opens the transport and says HELLO until the host welcomes this board, until deadline (ms,
 * timing_now_ms()): 0 connected, 1 refused for good, the transport cannot work here (its
 * open said so) or the client closed, -1 out of time;
 * err_msg() says why (for -1: the last attempt's failure). */
int link_connect_host(struct link_client *lc, uint64_t deadline);

/* link_queue.c */

struct link_request *link_queue_at(struct link_client *lc, unsigned i);
/* Appends a range after checking it against the package; 0 or -1. */
int link_queue_push(struct link_client *lc, uint64_t off, uint32_t len);
/* Drops the first n requests: done, or given up on (their answers are dropped by seq, what
 * had not arrived counts as asked for again). */
void link_queue_pop(struct link_client *lc, unsigned n);
/* Forgets every request (answers still on the way are dropped by seq). */
void link_queue_cancel(struct link_client *lc);
/* After a reconnect: every request is to be asked for again, from what had arrived. */
void link_queue_unsend(struct link_client *lc);
/* Sends queued requests while they fit in the window (the head always goes); 0 or -1. */
int link_queue_send(struct link_client *lc);
/* Decodes what is buffered until the head request is complete (*head_done = 1); -1 only for
 * a fatal answer (FAIL). */
int link_queue_drain(struct link_client *lc, int *head_done);

/* link_read.c */

/* link_client_read() with the rx lock held. */
int link_read_range(struct link_client *lc, uint64_t off, void *buf, size_t len);
/* Re-establishes the link after a drop (why: for the console), re-asks for what had not
 * arrived and re-checks the pin; 0 or -1. */
int link_read_reconnect(struct link_client *lc, const char *why);

#endif
