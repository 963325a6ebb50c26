/* SPDX-License-Identifier: MIT */
/* The links boards connect on (unix and tcp sockets, a tty, usb: devices) and the thread that
 * accepts them, reopening a tty that went away. */
#include "serve_internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "link_io.h"
#include "timing.h"

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	if (link_unix_address(path, &sa) != 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set("%s exists and is not a socket: not replacing it", path);
		unlink(path); /* a socket left by an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
		int e = errno;
		close(fd);
		return err_set("listen on %s: %s", path, strerror(e));
	}
	return fd;
}

static int listen_tcp(const char *spec)
{
	char host[256] = "";
	const char *port = spec;
	const char *colon = strrchr(spec, ':');
	if (colon) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return err_set("tcp link '%s': host name too long", spec);
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0)
		return err_set("tcp link '%s': %s", spec, gai_strerror(rc));
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err_set("listen on tcp %s: %s", spec, strerror(e));
}

int serve_listener_open(struct listener *l)
{
	const char *s = l->spec;
	l->is_tty = 0;
	if (strncmp(s, "unix:", 5) == 0 && s[5])
		l->fd = listen_unix(s + 5);
	else if (strncmp(s, "tcp:", 4) == 0 && s[4])
		l->fd = listen_tcp(s + 4);
	else if (strncmp(s, "tty:", 4) == 0 && s[4]) {
		l->is_tty = 1;
		l->fd = link_open_device(s + 4);
	} else if (strncmp(s, "usb:", 4) == 0) {
		l->usb = usb_link_open(s);
		l->fd = l->usb ? usb_link_fd(l->usb) : -1;
	} else
		return err_set("link '%s': expected unix:PATH, tcp:[HOST:]PORT, tty:DEVICE or "
			       "usb:[VID:PID][,port=BUS-PORT][,serial=TEXT]", s);
	return l->fd < 0 ? -1 : 0;
}

void serve_listener_close(struct listener *l)
{
	if (l->usb)
		usb_link_close(l->usb);
	else if (l->fd >= 0 && !l->is_tty)
		close(l->fd);
	if (strncmp(l->spec, "unix:", 5) == 0 && l->fd >= 0)
		unlink(l->spec + 5);
	l->usb = NULL;
	l->fd = -1;
}

/* A usb: listener's news: a bridged device to serve, or something the user should hear. */
static void accept_usb(struct server *s, struct listener *l)
{
	char name[64];
	int fd, r = usb_link_accept(l->usb, &fd, name, sizeof(name));
	if (r > 0)
		serve_connection_start(s, fd, 1, name, NULL);
	else if (r < 0)
		report_note(s->o->report, NULL, "%s", err_msg());
}

/* Accepts boards on every link until stopped; reopens a tty that went away. */
void *serve_accept_main(void *arg)
{
	struct server *s = arg;
	const struct serve_opts *o = s->o;
	struct listener *ls = s->links;
	struct pollfd pfd[SERVE_MAX_LINKS];
	double tty_retry = 0;
	for (int i = 0; i < o->nlinks; i++)
		if (ls[i].is_tty)
			serve_connection_start(s, ls[i].fd, 0, ls[i].spec, &ls[i].busy);
	while (!atomic_load(&s->stop)) {
		/* a tty (CDC-ACM) disappears with its USB device: open it again when it is back */
		for (int i = 0; i < o->nlinks && timing_now_s() >= tty_retry; i++) {
			if (!ls[i].is_tty || atomic_load(&ls[i].busy))
				continue;
			ls[i].fd = link_open_device(ls[i].spec + 4);
			if (ls[i].fd >= 0)
				serve_connection_start(s, ls[i].fd, 0, ls[i].spec, &ls[i].busy);
			tty_retry = timing_now_s() + 1.0;
		}
		int n = 0;
		for (int i = 0; i < o->nlinks; i++)
			if (!ls[i].is_tty && ls[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = ls[i].fd, .events = POLLIN };
		if (n == 0) {
			struct timespec ts = { 0, 200 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (!(pfd[k].revents & POLLIN))
				continue;
			struct listener *l = NULL;
			for (int i = 0; i < o->nlinks; i++)
				if (ls[i].fd == pfd[k].fd)
					l = &ls[i];
			if (l && l->usb) {
				accept_usb(s, l);
				continue;
			}
			int fd = accept4(pfd[k].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				serve_connection_start(s, fd, 1, l ? l->spec : "?", NULL);
		}
	}
	for (int i = 0; i < o->nlinks; i++)
		serve_listener_close(&ls[i]);
	return NULL;
}
