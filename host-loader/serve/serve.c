/* SPDX-License-Identifier: MIT */
/* Serving a package: open it and every link, run the accept thread, wait for the results,
 * stop (serve_internal.h: the files). */
#include "serve_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "frame.h"
#include "pkg.h"

#define DEFAULT_MAX_PAYLOAD (256u << 10)

/* one server per process: detached connection threads may outlive a call by a moment */
static struct server the_server;
static struct serve_opts the_opts;
static pthread_t the_acceptor;

int serve_start(const struct serve_opts *o)
{
	struct server *s = &the_server;
	*s = (struct server){ .o = &the_opts, .pkg_fd = -1 };
	the_opts = *o;
	if (!the_opts.max_payload)
		the_opts.max_payload = DEFAULT_MAX_PAYLOAD;
	if (the_opts.max_payload < FRAME_MIN_PAYLOAD || the_opts.max_payload > FRAME_MAX_PAYLOAD)
		return err_set("frame payload %" PRIu32 " outside %u..%u", the_opts.max_payload,
			       FRAME_MIN_PAYLOAD, FRAME_MAX_PAYLOAD);
	s->pkg_fd = open(o->package, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (s->pkg_fd < 0 || fstat(s->pkg_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set("%s: %s", o->package, s->pkg_fd < 0 ? strerror(errno) : "not a regular file");
		if (s->pkg_fd >= 0)
			close(s->pkg_fd);
		return -1;
	}
	s->pkg_size = (uint64_t)st.st_size;
	/* not the host's business to understand it, but a wrong file deserves a clear word */
	uint8_t head[PKG_PREFIX_SIZE];
	struct pkg_header h;
	if (pread(s->pkg_fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pkg_header_decode(head, s->pkg_size, &h) != 0) {
		err_prefix("%s is not a selfflash package", o->package);
		close(s->pkg_fd);
		return -1;
	}
	const char *base = strrchr(o->package, '/');
	snprintf(s->pkg_name, sizeof(s->pkg_name), "%s", base ? base + 1 : o->package);
	/* the links are open before this returns, so a board started next finds them */
	for (int i = 0; i < o->nlinks; i++) {
		struct listener *l = &s->links[i];
		l->spec = o->links[i];
		l->fd = -1;
		atomic_init(&l->busy, 0);
		if (serve_listener_open(l) != 0) {
			for (int k = 0; k < i; k++) {
				if (s->links[k].is_tty && s->links[k].fd >= 0)
					close(s->links[k].fd); /* no connection owns it yet */
				serve_listener_close(&s->links[k]);
			}
			close(s->pkg_fd);
			return -1;
		}
	}
	if (pthread_create(&the_acceptor, NULL, serve_accept_main, s) != 0) {
		close(s->pkg_fd);
		return err_set("cannot start the accept thread");
	}
	return 0;
}

int serve_wait(unsigned timeout_s)
{
	const struct serve_opts *o = &the_opts;
	if (report_wait(o->report, o->boards ? o->boards : UINT32_MAX, timeout_s) != 0)
		return err_set("no result from %u board%s within %u s", o->boards,
			       o->boards == 1 ? "" : "s", timeout_s);
	return 0;
}

int serve_stop(void)
{
	struct server *s = &the_server;
	atomic_store(&s->stop, 1);
	pthread_join(the_acceptor, NULL);
	/* connection threads see the stop within their 500 ms poll */
	for (int i = 0; i < 40 && atomic_load(&s->live) > 0; i++) {
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->live) == 0)
		close(s->pkg_fd);
	return the_opts.report->failures ? 1 : 0;
}

int serve_run(const struct serve_opts *o)
{
	if (serve_start(o) != 0)
		return 3;
	int rc = serve_wait(o->wait_timeout_s);
	int status = serve_stop();
	return rc != 0 ? 3 : status;
}
