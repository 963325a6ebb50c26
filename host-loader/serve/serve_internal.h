/* SPDX-License-Identifier: MIT */
/*
 * What the files of the range server share (not for other modules). Layers, each calling only
 * those below it:
 *   serve.c             start, wait, stop: the package, the links, the accept thread
 *   serve_listen.c      listening links (unix, tcp, tty, usb) and the accept thread
 *   serve_connection.c  one thread per connected board: HELLO, READ, PROGRESS, LOG, RESULT
 */
#ifndef SELFFLASH_SERVE_INTERNAL_H
#define SELFFLASH_SERVE_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "link_msg.h"
#include "link_usb.h"
#include "serve.h"

struct listener {
	const char *spec;
	int fd;     /* listening socket, or the tty itself */
	int is_tty;      /* a tty has one board; it is reopened when it goes away */
	atomic_int busy; /* tty: a connection thread owns it */
	struct usb_link *usb; /* usb: finds devices; fd polls readable when one is bridged */
};

struct server {
	const struct serve_opts *o;
	int pkg_fd;
	uint64_t pkg_size;
	char pkg_name[LINK_NAME_MAX];
	atomic_int stop;
	atomic_int live; /* connection threads running */
	atomic_uint connections;
	atomic_uint_fast64_t data_sent;
	struct listener links[SERVE_MAX_LINKS];
};

/* serve_connection.c */

/* Serves the board on fd (a socket, or a tty when is_socket is 0) in a thread of its own,
 * which closes fd and clears *busy (when not NULL) as it ends; link names it in messages.
 * 0, or -1 with err_msg() (fd is closed then). */
int serve_connection_start(struct server *s, int fd, int is_socket, const char *link,
			   atomic_int *busy);

/* serve_listen.c */

/* Opens l->spec: listens on a socket, opens a tty, or starts a usb: listener. 0 or -1 with
 * err_msg(). */
int serve_listener_open(struct listener *l);
/* Closes what serve_listener_open() opened (a tty only when no connection owns it). */
void serve_listener_close(struct listener *l);
/* The accept thread: serves each board that connects on any link until s->stop; arg is s. */
void *serve_accept_main(void *arg);

#endif
