/* SPDX-License-Identifier: MIT */
/*
 * Both ends of the link against hostile peers. The board's client talks to a scripted fake
 * host that sends garbage, bad CRCs, oversized headers, unknown types, wrong ranges, truncated
 * frames, then vanishes or changes the package; the host's server is fed the same by a fake
 * board. Each case checks the outcome and the message, never a crash or a hang.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "frame.h"
#include "le.h"
#include "link/link_client.h"
#include "link_msg.h"
#include "pkg.h"
#include "serve/serve.h"

#define PKG_BYTES (300u * 1024)
#define PIECE 16384

static char dir[48], sock_path[96], spec[128];
static uint8_t package[PKG_BYTES], other[PKG_BYTES];

/* ---- a scripted fake host -------------------------------------------------------------- */

struct script {
	int garbage_before_welcome;
	int corrupt_data;     /* DATA frame number (1-based, per connection) sent with a bad CRC */
	int wrong_offset;     /* ... sent with the wrong offset */
	int oversized_header; /* ... preceded by a header announcing a huge payload */
	int unknown_type;     /* ... preceded by a frame of an unknown type */
	int truncate_close;   /* ... cut in the middle, then the connection closed */
	int close_after;      /* after this DATA frame, whole, the first connection is closed */
	int fail_reads;       /* answer READ with FAIL */
	int vanish_after;     /* after this many DATA frames in all: close and stop listening */
	int change_size;      /* on the second connection, announce another size */
	int change_content;   /* on the second connection, serve other bytes */
	/* what happened */
	atomic_int connections, data_frames;
	atomic_uint_fast64_t data_bytes;
};

struct fake_host {
	int listen_fd;
	struct script *s;
	pthread_t thread;
	atomic_int stop;
};

static int send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Serves one connection; returns 1 when the host should vanish. */
static int host_connection(struct fake_host *h, int fd)
{
	struct script *s = h->s;
	int conn = atomic_fetch_add(&s->connections, 1) + 1;
	static uint8_t rx[FRAME_OVERHEAD + 65536], tx[FRAME_OVERHEAD + 65536];
	struct frame_decoder d;
	frame_decoder_init(&d, rx, sizeof(rx), 65536);
	int data_here = 0;
	const uint8_t *bytes = s->change_content && conn >= 2 ? other : package;
	for (;;) {
		size_t room;
		uint8_t *to = frame_decoder_space(&d, &room);
		ssize_t n = read(fd, to, room);
		if (n <= 0)
			return 0;
		frame_decoder_commit(&d, (size_t)n);
		struct frame f;
		int got;
		while ((got = frame_decoder_next(&d, &f)) != 0) {
			if (got < 0)
				continue;
			if (f.type == FRAME_HELLO) {
				if (s->garbage_before_welcome)
					send_all(fd, "garbage!SFLgarbage", 18);
				struct link_welcome w = { 1, 65536, PKG_BYTES, "fake.sfpkg" };
				if (s->change_size && conn >= 2)
					w.package_size = PKG_BYTES - 1;
				uint8_t p[LINK_WELCOME_SIZE];
				link_welcome_encode(&w, p);
				send_all(fd, tx, frame_encode_copy(tx, FRAME_WELCOME, f.seq, p, sizeof(p)));
			} else if (f.type == FRAME_READ) {
				struct link_read r;
				if (link_read_decode(f.payload, f.len, &r) != 0)
					return 0;
				if (s->fail_reads) {
					send_all(fd, tx, frame_encode_copy(tx, FRAME_FAIL, f.seq, "no such range",
									   13));
					continue;
				}
				for (uint32_t done = 0; done < r.length;) {
					uint32_t len = r.length - done < PIECE ? r.length - done : PIECE;
					int nth = ++data_here;
					int total = atomic_fetch_add(&s->data_frames, 1) + 1;
					if (s->vanish_after && total > s->vanish_after)
						return 1;
					uint64_t off = r.offset + done;
					if (conn == 1 && nth == s->wrong_offset)
						off += 4096;
					le64_store(tx + FRAME_HEADER_SIZE, off);
					memcpy(tx + FRAME_HEADER_SIZE + 8, bytes + r.offset + done, len);
					size_t flen = frame_encode(tx, FRAME_DATA, f.seq, len + 8);
					if (conn == 1 && nth == s->corrupt_data)
						tx[FRAME_HEADER_SIZE + 20] ^= 1;
					if (conn == 1 && nth == s->oversized_header) {
						uint8_t bad[FRAME_OVERHEAD];
						frame_encode(bad, FRAME_DATA, f.seq, 0);
						le32_store(bad + 12, 0x40000000u);
						send_all(fd, bad, FRAME_HEADER_SIZE);
					}
					if (conn == 1 && nth == s->unknown_type) {
						uint8_t odd[FRAME_OVERHEAD + 3];
						send_all(fd, odd, frame_encode_copy(odd, 0x66, 0, "???", 3));
					}
					if (conn == 1 && nth == s->truncate_close) {
						send_all(fd, tx, flen / 2);
						return 0;
					}
					if (send_all(fd, tx, flen) != 0)
						return 0;
					atomic_fetch_add(&s->data_bytes, len);
					done += len;
					if (conn == 1 && nth == s->close_after)
						return 0;
				}
			} else if (f.type == FRAME_RESULT) {
				send_all(fd, tx, frame_encode(tx, FRAME_RESULT_ACK, f.seq, 0));
			}
		}
	}
}

static void *host_main(void *arg)
{
	struct fake_host *h = arg;
	while (!atomic_load(&h->stop)) {
		int fd = accept(h->listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		int vanish = host_connection(h, fd);
		close(fd);
		if (vanish)
			break;
	}
	close(h->listen_fd);
	unlink(sock_path);
	return NULL;
}

static int host_start(struct fake_host *h, struct script *s)
{
	memset(h, 0, sizeof(*h));
	h->s = s;
	unlink(sock_path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (h->listen_fd < 0 || bind(h->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(h->listen_fd, 4) != 0)
		return -1;
	return pthread_create(&h->thread, NULL, host_main, h);
}

static void host_stop(struct fake_host *h)
{
	atomic_store(&h->stop, 1);
	shutdown(h->listen_fd, SHUT_RDWR);
	pthread_join(h->thread, NULL);
}

/* Reads the whole package through the client, 20000 bytes at a time with read-ahead; after
 * the first read the client is busy for pause_ms (writing to a slow disk, say). */
static int client_fetch_all(struct link_client *lc, uint8_t *out, unsigned pause_ms)
{
	const uint32_t step = 20000;
	for (uint32_t off = 0; off < PKG_BYTES; off += step) {
		if (off == step && pause_ms)
			usleep(pause_ms * 1000);
		uint32_t len = PKG_BYTES - off < step ? PKG_BYTES - off : step;
		for (uint32_t ahead = off; ahead < PKG_BYTES && ahead < off + 5 * step;
		     ahead += step)
			link_client_expect(lc, ahead, PKG_BYTES - ahead < step ? PKG_BYTES - ahead : step);
		if (link_client_read(lc, off, out + off, len) != 0)
			return -1;
	}
	return 0;
}

static int run_client_paused(struct script *s, struct link_client *lc, uint8_t *out,
			     int *open_rc, unsigned pause_ms)
{
	struct fake_host h;
	if (host_start(&h, s) != 0)
		return -2;
	struct link_client_opts o = { .spec = spec, .board = "test-board", .max_payload = 65536,
				      .idle_timeout_ms = 300, .reconnect_ms = 1500 };
	*open_rc = link_client_open(lc, &o);
	int rc = *open_rc == 0 ? client_fetch_all(lc, out, pause_ms) : -1;
	if (*open_rc == 0)
		link_client_close(lc);
	host_stop(&h);
	return rc;
}

static int run_client(struct script *s, struct link_client *lc, uint8_t *out, int *open_rc)
{
	return run_client_paused(s, lc, out, open_rc, 0);
}

static uint8_t fetched[PKG_BYTES];

static void test_clean_transfer(void)
{
	struct script s = { 0 };
	struct link_client lc;
	int open_rc;
	memset(fetched, 0, sizeof(fetched));
	CHECK(run_client(&s, &lc, fetched, &open_rc) == 0);
	CHECK(memcmp(fetched, package, PKG_BYTES) == 0);
	CHECK(lc.reconnects == 0);
	CHECK(atomic_load(&s.connections) == 1);
	CHECK(atomic_load(&s.data_bytes) == PKG_BYTES); /* read-ahead asked for nothing twice */
}

static void test_garbage_bad_crc_oversized_unknown(void)
{
	struct script s = { .garbage_before_welcome = 1, .corrupt_data = 3, .oversized_header = 6,
			    .unknown_type = 9 };
	struct link_client lc;
	int open_rc;
	memset(fetched, 0, sizeof(fetched));
	CHECK(run_client(&s, &lc, fetched, &open_rc) == 0);
	CHECK(memcmp(fetched, package, PKG_BYTES) == 0);
	/* the corrupt frame was dropped; the gap it left was noticed and asked for again */
	CHECK(lc.dec.frames_rejected >= 2);
	CHECK(lc.dec.bytes_dropped >= 18);
	CHECK(lc.frames_dropped >= 1);
}

static void test_wrong_range_asked_again(void)
{
	struct script s = { .wrong_offset = 2 };
	struct link_client lc;
	int open_rc;
	memset(fetched, 0, sizeof(fetched));
	CHECK(run_client(&s, &lc, fetched, &open_rc) == 0);
	CHECK(memcmp(fetched, package, PKG_BYTES) == 0);
	CHECK(lc.frames_dropped >= 1);
}

static void test_truncated_frame_resumes(void)
{
	struct script s = { .truncate_close = 4 };
	struct link_client lc;
	int open_rc;
	memset(fetched, 0, sizeof(fetched));
	CHECK(run_client(&s, &lc, fetched, &open_rc) == 0);
	CHECK(memcmp(fetched, package, PKG_BYTES) == 0);
	CHECK(lc.reconnects == 1);
	CHECK(atomic_load(&s.connections) == 2);
	/* resumed, not restarted: far less than the package was sent twice */
	CHECK(atomic_load(&s.data_bytes) < PKG_BYTES + 4 * PIECE);
}

/*
 * The host answers the read-ahead, then goes away while the board is busy. The board's next
 * request fails to go out, but what the host sent before the close is still in the socket:
 * the board takes it and asks again only for the rest (it used to drop it and ask again).
 */
static void test_sent_before_a_close_is_kept(void)
{
	struct script s = { .close_after = 7 };
	struct link_client lc;
	int open_rc;
	memset(fetched, 0, sizeof(fetched));
	CHECK(run_client_paused(&s, &lc, fetched, &open_rc, 200) == 0);
	CHECK(memcmp(fetched, package, PKG_BYTES) == 0);
	CHECK(lc.reconnects == 1);
	CHECK(atomic_load(&s.data_frames) > 7); /* the rest came over the second connection */
	CHECK(atomic_load(&s.data_bytes) == PKG_BYTES);
}

static void test_host_refuses_range(void)
{
	struct script s = { .fail_reads = 1 };
	struct link_client lc;
	int open_rc;
	CHECK(run_client(&s, &lc, fetched, &open_rc) == -1);
	CHECK(open_rc == 0);
	CHECK(strstr(err_msg(), "no such range") != NULL);
}

static void test_host_vanishes(void)
{
	struct script s = { .vanish_after = 5 };
	struct link_client lc;
	int open_rc;
	CHECK(run_client(&s, &lc, fetched, &open_rc) == -1);
	CHECK(strstr(err_msg(), "did not come back") != NULL);
}

static void test_package_changed_on_reconnect(void)
{
	struct script s = { .truncate_close = 3, .change_size = 1 };
	struct link_client lc;
	int open_rc;
	CHECK(run_client(&s, &lc, fetched, &open_rc) == -1);
	CHECK(strstr(err_msg(), "now serves") != NULL);
}

static void test_content_changed_on_reconnect(void)
{
	struct script s = { .truncate_close = 8, .change_content = 1 };
	struct fake_host h;
	CHECK(host_start(&h, &s) == 0);
	struct link_client lc;
	struct link_client_opts o = { .spec = spec, .board = "b", .max_payload = 65536,
				      .idle_timeout_ms = 300, .reconnect_ms = 1500 };
	CHECK(link_client_open(&lc, &o) == 0);
	CHECK(link_client_pin(&lc, 4096) == 0); /* what was verified: the first 4 KiB */
	int rc = client_fetch_all(&lc, fetched, 0);
	link_client_close(&lc);
	host_stop(&h);
	CHECK(rc == -1);
	CHECK(strstr(err_msg(), "different package") != NULL);
}

static void test_bad_spec_refused_at_once(void)
{
	struct link_client lc;
	struct link_client_opts o = { .spec = "carrier-pigeon:1", .reconnect_ms = 60000 };
	CHECK(link_client_open(&lc, &o) == -1);
	CHECK(strstr(err_msg(), "expected unix:PATH") != NULL);
	CHECK(!link_spec_known("unix:") && link_spec_known("virtio:selfflash.link"));
}

/* ---- the host's server against a hostile board ------------------------------------------ */

struct served {
	struct serve_opts o;
	struct report rep;
	int rc;
	pthread_t thread;
};

static void *serve_main(void *arg)
{
	struct served *sv = arg;
	sv->rc = serve_run(&sv->o);
	return NULL;
}

static int board_connect(void)
{
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		usleep(20000);
	}
	return -1;
}

/* Waits for the next frame of one of the wanted types from the host (others skipped). */
static int board_expect(int fd, struct frame_decoder *d, uint8_t type, struct frame *f)
{
	for (;;) {
		int got_frame;
		while ((got_frame = frame_decoder_next(d, f)) != 0)
			if (got_frame > 0 && f->type == type)
				return 0;
		size_t room;
		uint8_t *to = frame_decoder_space(d, &room);
		ssize_t n = read(fd, to, room);
		if (n <= 0)
			return -1;
		frame_decoder_commit(d, (size_t)n);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_server_against_hostile_board(void)
{
	char pkg_path[128], out_path[128], log_path[128];
	snprintf(pkg_path, sizeof(pkg_path), "%s/p.sfpkg", dir);
	snprintf(out_path, sizeof(out_path), "%s/events.json", dir);
	snprintf(log_path, sizeof(log_path), "%s/board.log", dir);
	/* a package as far as the host looks: a valid header over random bytes */
	struct pkg_header ph = { .version = PKG_FORMAT_VERSION, .manifest_size = 4096 };
	ph.data_size = PKG_BYTES - PKG_PREFIX_SIZE - ph.manifest_size;
	ph.package_size = PKG_BYTES;
	pkg_header_encode(&ph, package);
	FILE *pf = fopen(pkg_path, "wb");
	CHECK(pf && fwrite(package, 1, PKG_BYTES, pf) == PKG_BYTES);
	fclose(pf);
	FILE *out = fopen(out_path, "w");
	CHECK(out != NULL);
	static struct served sv;
	memset(&sv, 0, sizeof(sv));
	report_init(&sv.rep, REPORT_JSON, out, log_path);
	sv.o = (struct serve_opts){ .package = pkg_path, .links = { spec }, .nlinks = 1,
				    .boards = 1, .idle_timeout_s = 5, .wait_timeout_s = 20,
				    .max_payload = 8192, .report = &sv.rep };
	unlink(sock_path);
	CHECK(pthread_create(&sv.thread, NULL, serve_main, &sv) == 0);

	static uint8_t rx[FRAME_OVERHEAD + 65536], tx[FRAME_OVERHEAD + 4096];
	struct frame_decoder d;
	frame_decoder_init(&d, rx, sizeof(rx), 65536);
	struct frame f;
	int fd = board_connect();
	CHECK(fd >= 0);
	/* garbage, a bad CRC, an unknown type, an oversized header: all survived */
	send_all(fd, "\x00\x01garbageSFL", 12);
	size_t n = frame_encode_copy(tx, FRAME_LOG, 0, "x", 1);
	tx[n - 1] ^= 0xff;
	send_all(fd, tx, n);
	send_all(fd, tx, frame_encode_copy(tx, 0x55, 0, "zz", 2));
	frame_encode(tx, FRAME_LOG, 0, 0);
	le32_store(tx + 12, 0x7fffffff);
	send_all(fd, tx, FRAME_HEADER_SIZE);
	/* a READ before HELLO is refused */
	uint8_t p[LINK_HELLO_SIZE];
	struct link_read rd = { 0, 100 };
	link_read_encode(&rd, p);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_READ, 1, p, LINK_READ_SIZE));
	CHECK(board_expect(fd, &d, FRAME_FAIL, &f) == 0 && f.seq == 1);
	struct link_hello h = { 1, 1, 65536, 0xfeedull, "hostile 699-13701" };
	link_hello_encode(&h, p);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_HELLO, 2, p, LINK_HELLO_SIZE));
	CHECK(board_expect(fd, &d, FRAME_WELCOME, &f) == 0 && f.seq == 2);
	struct link_welcome w;
	CHECK(link_welcome_decode(f.payload, f.len, &w) == 0);
	CHECK(w.package_size == PKG_BYTES && w.max_payload == 8192);
	/* past the end: refused with a reason */
	rd = (struct link_read){ PKG_BYTES - 10, 11 };
	link_read_encode(&rd, p);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_READ, 3, p, LINK_READ_SIZE));
	CHECK(board_expect(fd, &d, FRAME_FAIL, &f) == 0 && f.seq == 3);
	char text[256];
	link_msg_printable(f.payload, f.len, text, sizeof(text));
	CHECK(strstr(text, "past the end") != NULL);
	/* a real range arrives in frames no larger than agreed, bytes exact */
	rd = (struct link_read){ 1000, 20000 };
	link_read_encode(&rd, p);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_READ, 4, p, LINK_READ_SIZE));
	static uint8_t back[20000];
	for (uint32_t have = 0; have < 20000;) {
		CHECK(board_expect(fd, &d, FRAME_DATA, &f) == 0 && f.seq == 4);
		CHECK(f.len <= 8192 && le64_load(f.payload) == 1000 + have);
		memcpy(back + have, f.payload + 8, f.len - 8);
		have += f.len - 8;
	}
	CHECK(memcmp(back, package + 1000, 20000) == 0);
	/* a truncated frame, then the cable goes */
	n = frame_encode_copy(tx, FRAME_LOG, 0, "cut here", 8);
	send_all(fd, tx, n - 5);
	close(fd);
	/* the board comes back with the same session and finishes */
	fd = board_connect();
	CHECK(fd >= 0);
	frame_decoder_reset(&d);
	link_hello_encode(&h, p);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_HELLO, 5, p, LINK_HELLO_SIZE));
	CHECK(board_expect(fd, &d, FRAME_WELCOME, &f) == 0);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_LOG, 0, "flasher: line\n", 14));
	struct link_result res = { 1, "partition A_fw: read-back mismatch" };
	uint8_t rp[4 + LINK_TEXT_MAX];
	uint32_t rlen = (uint32_t)link_result_encode(&res, rp);
	send_all(fd, tx, frame_encode_copy(tx, FRAME_RESULT, 6, rp, rlen));
	CHECK(board_expect(fd, &d, FRAME_RESULT_ACK, &f) == 0 && f.seq == 6);
	close(fd);
	pthread_join(sv.thread, NULL);
	report_close(&sv.rep);
	fclose(out);
	CHECK(sv.rc == 1); /* the board failed: so does the exit status */
	const char *events = slurp(out_path);
	CHECK(events != NULL);
	CHECK(strstr(events, "garbage") != NULL);
	CHECK(strstr(events, "CRC") != NULL);
	CHECK(strstr(events, "unknown type 0x55") != NULL);
	CHECK(strstr(events, "2147483647-byte payload") != NULL);
	CHECK(strstr(events, "\"connection\":2") != NULL);
	CHECK(strstr(events, "\"event\":\"result\"") != NULL);
	CHECK(strstr(events, "\"status\":1") != NULL);
	const char *log = slurp(log_path);
	CHECK(log && strstr(log, "flasher: line") != NULL);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_link.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/host.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	srand(7);
	for (size_t i = 0; i < PKG_BYTES; i++) {
		package[i] = (uint8_t)rand();
		other[i] = (uint8_t)(package[i] ^ 0x5a);
	}
	RUN(test_clean_transfer);
	RUN(test_garbage_bad_crc_oversized_unknown);
	RUN(test_wrong_range_asked_again);
	RUN(test_truncated_frame_resumes);
	RUN(test_sent_before_a_close_is_kept);
	RUN(test_host_refuses_range);
	RUN(test_host_vanishes);
	RUN(test_package_changed_on_reconnect);
	RUN(test_content_changed_on_reconnect);
	RUN(test_bad_spec_refused_at_once);
	RUN(test_server_against_hostile_board);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_EXIT();
}
