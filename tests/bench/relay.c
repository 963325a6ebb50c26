/* SPDX-License-Identifier: MIT */
/*
 * The link of given speed for `make bench`: listens on one unix socket, connects every board
 * that comes there to another (hostload's) and copies both ways, the host->board way held to
 * a rate by a token bucket of its own per connection, as a USB 2 or USB 3 link would hold it.
 * --delay holds every piece of data, both ways, that long before passing it on (a far server's
 * latency: what a board that asks for one chunk at a time pays per chunk); --shared puts all
 * connections under one bucket (one network path, which parallel HTTP connections share).
 * An address is a unix socket path or tcp:HOST:PORT (a web server, the board's http:// URL).
 * Prints what each connection carried when it ends, and the totals at exit (SIGTERM, SIGINT).
 * Usage: relay [--rate BYTES_PER_S] [--burst BYTES] [--delay MS] [--shared 1] LISTEN CONNECT
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PIECE (256u << 10)        /* the buffer of each direction */
#define DEFAULT_BURST (64u << 10) /* small: a real link cannot catch up on a pause either */
#define MIN_WRITE (16u << 10)     /* wait for this many tokens rather than write dribbles */
#define MAX_CONNS 64
#define CONNECT_TRIES 50 /* 100 ms apart: hostload may still be starting */
/* with --delay, what one direction holds: a 40 MB/s path with 100 ms of delay carries 4 MB */
#define DELAY_PIECE (8u << 20)
#define STAMPS 4096 /* pieces in flight per direction; a full list stops reading for a while */

/* Bytes read up to `upto` (counted from the start) may go out at `ready`. */
struct stamp {
	uint64_t upto;
	double ready;
};

/* One direction's limit: rate 0 means none. Only the connection's own thread touches it. */
struct bucket {
	double rate, burst, tokens, last;
};

struct direction {
	int from, to;
	char *buf;
	size_t off, fill;   /* bytes [off, fill) of buf are still to be written */
	int eof, shut;      /* the source closed; the destination was told (shutdown) */
	uint64_t bytes;     /* written to the destination */
	double first, last; /* when the first and the last write went out */
	struct bucket *limit;
	/*
	 * Bytes were waiting for nothing but tokens: the link was busy all along, so whatever the
	 * relay's own lateness (a shared CPU) kept from going out is owed, not lost to the burst cap.
	 */
	int timed;
	size_t piece;                     /* the buffer's size */
	uint64_t in_total, out_total;     /* read from the source, written on, since the start */
	struct stamp stamps[STAMPS];      /* --delay: when what was read may go */
	unsigned stamp_head, stamp_count;
	uint64_t released;                /* bytes [0, released) are past their delay */
};

struct conn {
	pthread_t thread;
	int used;
	atomic_int done;
	unsigned id;
	int board, host;
	struct bucket bucket;
	uint64_t to_board, to_host;
};

static struct conn conns[MAX_CONNS];
static int stop_pipe[2] = { -1, -1 };
static double opt_rate, opt_burst = DEFAULT_BURST, opt_delay_ms, opt_shared;
/* --shared: the one bucket of every connection, and its lock */
static struct bucket shared_bucket;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t total_to_board, total_to_host;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds the tokens of the time since the last fill; more than a burst only when `busy`. */
static void bucket_fill(struct bucket *b, double t, int busy)
{
	b->tokens += (t - b->last) * b->rate;
	if (!busy && b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = t;
}

/* Seconds until `want` bytes may go (0: now). */
static double bucket_wait(const struct bucket *b, size_t want)
{
	double need = (double)want < b->burst ? (double)want : b->burst;
	return b->tokens >= need ? 0 : (need - b->tokens) / b->rate;
}

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Reads what the source has into the free part of the buffer: 0, or -1 on an error. */
static int direction_read(struct direction *d)
{
	if (d->off >= d->piece / 2) {
		/*
		 * room at the end again, so the source keeps flowing while the rest drains; at most
		 * half a buffer moved per half a buffer sent
		 */
		memmove(d->buf, d->buf + d->off, d->fill - d->off);
		d->fill -= d->off;
		d->off = 0;
	}
	if (d->eof || d->fill == d->piece || d->stamp_count == STAMPS)
		return 0;
	ssize_t n = recv(d->from, d->buf + d->fill, d->piece - d->fill, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		d->eof = 1;
	d->fill += (size_t)n;
	d->in_total += (uint64_t)n;
	if (n > 0 && opt_delay_ms > 0) {
		double ready = now() + opt_delay_ms / 1e3;
		struct stamp *last = d->stamp_count
			? &d->stamps[(d->stamp_head + d->stamp_count - 1) % STAMPS] : NULL;
		if (last && ready - last->ready < 1e-4)
			last->upto = d->in_total; /* read within 0.1 ms: one piece */
		else
			d->stamps[(d->stamp_head + d->stamp_count++) % STAMPS] =
				(struct stamp){ d->in_total, ready };
	}
	return 0;
}

/* Bytes past their delay and not yet written (all of them without --delay). */
static size_t direction_released(struct direction *d, double t)
{
	if (opt_delay_ms <= 0)
		return d->fill - d->off;
	while (d->stamp_count && d->stamps[d->stamp_head].ready <= t) {
		d->released = d->stamps[d->stamp_head].upto;
		d->stamp_head = (d->stamp_head + 1) % STAMPS;
		d->stamp_count--;
	}
	return (size_t)(d->released - d->out_total);
}

static void limit_lock(const struct direction *d)
{
	if (d->limit == &shared_bucket)
		pthread_mutex_lock(&shared_lock);
}

static void limit_unlock(const struct direction *d)
{
	if (d->limit == &shared_bucket)
		pthread_mutex_unlock(&shared_lock);
}

/* Writes what the bucket allows; a short write just leaves the rest for the next turn. */
static int direction_write(struct direction *d, double t)
{
	size_t len = direction_released(d, t);
	if (len == 0)
		return 0;
	limit_lock(d);
	if (d->limit) {
		/* a shared bucket owes nothing: one connection's wait is another's chance */
		bucket_fill(d->limit, t, d->timed && d->limit != &shared_bucket);
		if (d->limit->tokens < 1) {
			limit_unlock(d);
			return 0;
		}
		if ((double)len > d->limit->tokens)
			len = (size_t)d->limit->tokens;
	}
	/* MSG_NOSIGNAL: a board that went away is an error to report, not a SIGPIPE */
	ssize_t n = send(d->to, d->buf + d->off, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		limit_unlock(d);
		return -1;
	}
	if (n < 0)
		n = 0;
	if (d->limit) {
		d->limit->tokens -= (double)n;
		/* what is owed beyond a burst and found no bytes to carry is gone: the link idled */
		if (d->limit->tokens > d->limit->burst)
			d->limit->tokens = d->limit->burst;
	}
	limit_unlock(d);
	if (n == 0)
		return 0;
	d->out_total += (uint64_t)n;
	if (d->bytes == 0)
		d->first = t;
	d->last = t;
	d->bytes += (uint64_t)n;
	d->off += (size_t)n;
	if (d->off == d->fill)
		d->off = d->fill = 0;
	return 0;
}

/* Passes on the end of the stream once everything before it went out. */
static void direction_finish(struct direction *d)
{
	if (d->eof && !d->shut && d->off == d->fill) {
		shutdown(d->to, SHUT_WR); /* fails only if the peer is gone, which ends things anyway */
		d->shut = 1;
	}
}

/*
 * What the direction waits for: POLLIN on its source, POLLOUT on its destination, and the
 * seconds until its bucket allows a write (-1: no timer).
 */
static double direction_wants(struct direction *d, double t, short *from_ev, short *to_ev)
{
	if (!d->eof && (d->fill < d->piece || d->off >= d->piece / 2) && d->stamp_count < STAMPS)
		*from_ev |= POLLIN;
	size_t pending = direction_released(d, t);
	d->timed = 0;
	if (pending == 0)
		return d->stamp_count ? d->stamps[d->stamp_head].ready - t : -1;
	if (d->limit) {
		limit_lock(d);
		struct bucket b = *d->limit;
		limit_unlock(d);
		bucket_fill(&b, t, 0);
		double wait = bucket_wait(&b, pending < MIN_WRITE ? pending : MIN_WRITE);
		if (wait > 0) {
			d->timed = 1;
			return wait;
		}
	}
	*to_ev |= POLLOUT;
	return -1;
}

static void *conn_run(void *arg)
{
	struct conn *c = arg;
	const char *why = NULL;
	size_t piece = opt_delay_ms > 0 ? DELAY_PIECE : PIECE;
	char *bufs = malloc(2 * piece);
	/* the stamp lists are too large for a thread's stack */
	struct direction *d = calloc(2, sizeof(*d));
	if (!bufs || !d) {
		free(bufs);
		free(d);
		close(c->board);
		close(c->host);
		atomic_store(&c->done, 1);
		fprintf(stderr, "relay: connection %u: out of memory\n", c->id);
		return NULL;
	}
	d[0] = (struct direction){ .from = c->host, .to = c->board, .piece = piece,
				   .limit = opt_rate <= 0 ? NULL
					    : opt_shared ? &shared_bucket
							 : &c->bucket };
	d[1] = (struct direction){ .from = c->board, .to = c->host, .piece = piece };
	d[0].buf = bufs;
	d[1].buf = bufs + piece;
	c->bucket = (struct bucket){ .rate = opt_rate, .burst = opt_burst, .tokens = opt_burst,
				     .last = now() };
	while (!(d[0].shut && d[1].shut)) {
		double t = now(), wait = -1;
		short host_ev = 0, board_ev = 0;
		double w0 = direction_wants(&d[0], t, &host_ev, &board_ev);
		double w1 = direction_wants(&d[1], t, &board_ev, &host_ev);
		wait = w0 < 0 ? w1 : w1 < 0 ? w0 : w0 < w1 ? w0 : w1;
		/* an fd with nothing asked of it is left out: its hang-up would wake us for nothing */
		struct pollfd p[3] = {
			{ .fd = host_ev ? c->host : -1, .events = host_ev },
			{ .fd = board_ev ? c->board : -1, .events = board_ev },
			{ .fd = stop_pipe[0], .events = POLLIN },
		};
		/* rounded up: waking a hair early would only mean one more turn */
		struct timespec ts = { .tv_sec = (time_t)wait,
				       .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) + 1 };
		if (ts.tv_nsec > 999999999)
			ts.tv_nsec = 999999999;
		if (ppoll(p, 3, wait < 0 ? NULL : &ts, NULL) < 0 && errno != EINTR) {
			why = strerror(errno);
			break;
		}
		if (p[2].revents) {
			why = "relay stopped";
			break;
		}
		t = now();
		for (int i = 0; i < 2; i++) {
			if (direction_read(&d[i]) != 0 || direction_write(&d[i], t) != 0) {
				why = strerror(errno);
				break;
			}
			direction_finish(&d[i]);
		}
		if (why)
			break;
	}
	c->to_board = d[0].bytes;
	c->to_host = d[1].bytes;
	double span = d[0].last - d[0].first;
	printf("relay: connection %u: host->board %" PRIu64 " bytes (%.1f MB/s from its first byte"
	       " to its last), board->host %" PRIu64 " bytes%s%s\n",
	       c->id, d[0].bytes, span > 0 ? (double)d[0].bytes / span / 1e6 : 0.0, d[1].bytes,
	       why ? "; ended: " : "", why ? why : "");
	pthread_mutex_lock(&totals_lock);
	total_to_board += d[0].bytes;
	total_to_host += d[1].bytes;
	pthread_mutex_unlock(&totals_lock);
	close(c->board);
	close(c->host);
	free(bufs);
	free(d);
	atomic_store(&c->done, 1);
	return NULL;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "relay: socket path '%s' is longer than %zu bytes\n", path,
			sizeof(sa->sun_path) - 1);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* tcp:HOST:PORT: its address (the first getaddrinfo gives), or -1. */
static int tcp_address(const char *spec, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(spec + 4, ':');
	if (!colon || (size_t)(colon - (spec + 4)) >= sizeof(host)) {
		fprintf(stderr, "relay: '%s' is not tcp:HOST:PORT\n", spec);
		return -1;
	}
	memcpy(host, spec + 4, (size_t)(colon - (spec + 4)));
	host[colon - (spec + 4)] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "relay: %s: %s\n", spec, gai_strerror(rc));
		return -1;
	}
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int is_tcp(const char *spec)
{
	return strncmp(spec, "tcp:", 4) == 0;
}

static int connect_host(const char *path)
{
	if (is_tcp(path)) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (tcp_address(path, &ss, &len) != 0)
			return -1;
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct sockaddr_un sa;
	if (unix_address(path, &sa) != 0)
		return -1;
	for (int i = 0; i < CONNECT_TRIES; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (errno != ENOENT && errno != ECONNREFUSED)
			return -1;
		struct timespec pause = { 0, 100 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	return -1;
}

/*
 * Listens under a temporary name and renames it into place: whoever waits for the path to
 * appear can connect at once, never into the gap between bind and listen.
 */
static int listen_at(const char *path)
{
	if (is_tcp(path)) {
		struct sockaddr_storage ss;
		socklen_t len;
		int one = 1;
		if (tcp_address(path, &ss, &len) != 0)
			return -1;
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, MAX_CONNS) != 0) {
			fprintf(stderr, "relay: cannot listen on %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (unix_address(tmp, &sa) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, MAX_CONNS) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "relay: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

static void on_stop(int sig)
{
	(void)sig;
	char b = 1;
	/* the pipe is never read: once readable it stays so and every thread sees it */
	ssize_t w = write(stop_pipe[1], &b, 1);
	(void)w;
}

static void reap(int all)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && (all || atomic_load(&conns[i].done))) {
			pthread_join(conns[i].thread, NULL);
			conns[i].used = 0;
		}
}

/* A size: a decimal number with k, M, G (powers of 1000) or Ki, Mi, Gi (of 1024). */
static int parse_size(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double unit = 1;
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		unit = 1e3;
	else if (*end == 'M')
		unit = 1e6;
	else if (*end == 'G')
		unit = 1e9;
	if (unit > 1 && *++end == 'i') {
		unit = unit == 1e3 ? 1024.0 : unit == 1e6 ? 1048576.0 : 1073741824.0;
		end++;
	}
	if (*end)
		return -1;
	*out = v * unit;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: relay [--rate BYTES_PER_S] [--burst BYTES] [--delay MS] [--shared 1] "
			"LISTEN CONNECT\n"
			"  LISTEN, CONNECT  a unix socket path, or tcp:HOST:PORT\n"
			"  --rate   host->board bytes per second per connection, e.g. 40M (0: no limit)\n"
			"  --burst  the token bucket's size (default 64Ki)\n"
			"  --delay  every piece of data waits this many ms, both ways (0: none)\n"
			"  --shared 1: one bucket for all connections together (one network path)\n");
	return 2;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		double *dst = strcmp(argv[i], "--rate") == 0	? &opt_rate
			      : strcmp(argv[i], "--burst") == 0 ? &opt_burst
			      : strcmp(argv[i], "--delay") == 0 ? &opt_delay_ms
			      : strcmp(argv[i], "--shared") == 0 ? &opt_shared
								: NULL;
		if (!dst || parse_size(argv[i + 1], dst) != 0)
			return usage();
	}
	if (argc - i != 2 || opt_burst < 1)
		return usage();
	const char *listen_path = argv[i], *host_path = argv[i + 1];
	shared_bucket = (struct bucket){ .rate = opt_rate, .burst = opt_burst, .tokens = opt_burst,
					 .last = now() };
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		perror("relay: pipe");
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int lfd = listen_at(listen_path);
	if (lfd < 0)
		return 1;
	unsigned next_id = 1;
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN },
				       { .fd = stop_pipe[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int board = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (board < 0)
			continue; /* the board gave up already; it will come again */
		reap(0);
		struct conn *c = NULL;
		for (int k = 0; k < MAX_CONNS && !c; k++)
			if (!conns[k].used)
				c = &conns[k];
		int host = c ? connect_host(host_path) : -1;
		if (host < 0 || set_nonblocking(board) != 0 || set_nonblocking(host) != 0) {
			fprintf(stderr, "relay: board dropped: %s\n",
				!c ? "too many connections" : strerror(errno));
			close(board);
			if (host >= 0)
				close(host);
			continue;
		}
		*c = (struct conn){ .used = 1, .id = next_id++, .board = board, .host = host };
		atomic_init(&c->done, 0);
		if (pthread_create(&c->thread, NULL, conn_run, c) != 0) {
			fprintf(stderr, "relay: no thread for a board\n");
			close(board);
			close(host);
			c->used = 0;
		}
	}
	close(lfd);
	if (!is_tcp(listen_path))
		unlink(listen_path);
	reap(1);
	printf("relay: total: %u connections, host->board %" PRIu64 " bytes, board->host %" PRIu64
	       " bytes\n",
	       next_id - 1, total_to_board, total_to_host);
	return 0;
}
