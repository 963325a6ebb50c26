/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the usb: link without hardware: the spec (accepted and refused forms and
 * their messages), and the bridge over a fake bulk device: socket bytes become bulk OUT
 * transfers (never a whole number of packets, several in flight), bulk IN data reaches the
 * socket in order (also bytes stuck in an unfinished transfer), a device that goes away, a
 * failing endpoint or a closed socket end the bridge cleanly, and what the server wrote just
 * before closing still goes out. Last, the libusb listener with
 * no board attached: it starts, has nothing to hand over and stops, and a server on a usb:
 * link waits for boards instead of failing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"
#include "serve/link_usb.h"
#include "serve/serve.h"
#include "usb/usb_libusb.h"
#include "check.h"
#include "error.h"
#include "pkg.h"
#include "timing.h"

#define MPS 512
#define MAX_HELD 64
#define MAX_SIZES 4096

static int mentions(const char *text, const char *part)
{
	if (strstr(text, part))
		return 1;
	fprintf(stderr, "  \"%s\" does not mention \"%s\"\n", text, part);
	return 0;
}

/* ---- the spec ------------------------------------------------------------------------------ */

static void test_spec_forms_accepted(void)
{
	struct usb_link_spec s;
	CHECK(usb_link_parse("usb:", &s) == 0);
	CHECK(s.vendor == 0x1d6b && s.product == 0x0104 && !s.port[0] && !s.serial[0]);
	CHECK(usb_link_parse("usb:0955:7035", &s) == 0);
	CHECK(s.vendor == 0x0955 && s.product == 0x7035);
	CHECK(usb_link_parse("usb:1D6B:104", &s) == 0);
	CHECK(s.vendor == 0x1d6b && s.product == 0x0104);
	CHECK(usb_link_parse("usb:port=1-2.3", &s) == 0);
	CHECK_STR_EQ(s.port, "1-2.3");
	CHECK(s.vendor == 0x1d6b && s.product == 0x0104);
	/* written as sysfs writes it, so it compares with what libusb reports */
	CHECK(usb_link_parse("usb:port=03-01.2", &s) == 0);
	CHECK_STR_EQ(s.port, "3-1.2");
	CHECK(usb_link_parse("usb:serial=1424321012345", &s) == 0);
	CHECK_STR_EQ(s.serial, "1424321012345");
	CHECK(usb_link_parse("usb:serial=A,B=C", &s) == 0); /* the rest of the spec */
	CHECK_STR_EQ(s.serial, "A,B=C");
	CHECK(usb_link_parse("usb:0955:7035,port=2-1,serial=X1", &s) == 0);
	CHECK(s.vendor == 0x0955 && s.product == 0x7035);
	CHECK_STR_EQ(s.port, "2-1");
	CHECK_STR_EQ(s.serial, "X1");
	CHECK(usb_link_parse("usb:port=4-1.1,abcd:ef01", &s) == 0);
	CHECK(s.vendor == 0xabcd && s.product == 0xef01);
	CHECK_STR_EQ(s.port, "4-1.1");
}

static void test_spec_forms_refused(void)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "usb", "expected usb:[VID:PID][,port=BUS-PORT[.PORT...]][,serial=TEXT]" },
		{ "tty:/dev/ttyACM0", "expected usb:[VID:PID]" },
		{ "usb:xyz", "'xyz' is not VID:PID (hex, e.g. 0955:7023)" },
		{ "usb:0955", "'0955' is not VID:PID" },
		{ "usb:0955:", "'0955:' is not VID:PID" },
		{ "usb::7035", "is not VID:PID" },
		{ "usb:12345:1", "'12345:1' is not VID:PID" },
		{ "usb:0955:70g5", "'0955:70g5' is not VID:PID" },
		{ "usb:0x955:7035", "is not VID:PID" },
		{ "usb:0955:7035:1", "is not VID:PID" },
		{ "usb:0955:7035,0955:7036", "VID:PID given twice" },
		{ "usb:port=", "expected BUS-PORT[.PORT...]" },
		{ "usb:port=1", "expected BUS-PORT[.PORT...]" },
		{ "usb:port=1-0", "expected BUS-PORT[.PORT...]" },
		{ "usb:port=1-2.3.4.5.6.7.8.9", "expected BUS-PORT[.PORT...]" },
		{ "usb:port=1-2,port=1-3", "port= given twice" },
		{ "usb:serial=", "serial= is empty" },
		{ "usb:0955:7035,", "ends with a comma" },
		{ "usb:,0955:7035", "an empty part" },
		{ "usb:0955:7035,,port=1-2", "an empty part" },
		{ "usb:vendor=0955", "'vendor=0955' is not VID:PID" },
	};
	struct usb_link_spec s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		if (usb_link_parse(bad[i].spec, &s) != -1) {
			fprintf(stderr, "  \"%s\" was accepted\n", bad[i].spec);
			CHECK(0);
		}
		CHECK(mentions(err_msg(), bad[i].says));
		/* every message names the spec it is about */
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i].spec);
		CHECK(mentions(err_msg(), quoted));
	}
	char long_serial[200] = "usb:serial=";
	memset(long_serial + 11, 'S', 150);
	long_serial[161] = '\0';
	err_clear();
	CHECK(usb_link_parse(long_serial, &s) == -1);
	CHECK(mentions(err_msg(), "serial is 150 characters, at most 127 fit"));
}

/* ---- a fake bulk device ---------------------------------------------------------------------- */

struct fake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int gone;
	int hold_out;          /* OUT transfers wait for fake_release_out() */
	int fail_out;          /* OUT transfers fail as a stalled endpoint would */
	struct usb_xfer *in_q[MAX_HELD]; /* IN transfers waiting for data, oldest first */
	int in_n;
	size_t in_partial;     /* bytes already in in_q[0] (packets of an unfinished transfer) */
	struct usb_xfer *out_q[MAX_HELD];
	int out_n, out_held_max;
	uint8_t *out_data;     /* what arrived as bulk OUT, in order */
	size_t out_len, out_cap;
	size_t out_sizes[MAX_SIZES];
	int out_count;
	int in_submits, cancels, releases, closes;
	size_t in_len_min;     /* smallest IN transfer submitted */
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->out_cap = 64u << 20;
	f->out_data = malloc(f->out_cap);
	f->in_len_min = SIZE_MAX;
}

/* A counter of the fake, read under its lock. */
static int fake_count(struct fake *f, const int *counter)
{
	pthread_mutex_lock(&f->lock);
	int v = *counter;
	pthread_mutex_unlock(&f->lock);
	return v;
}

/* Waits up to 5 s until *counter reaches want; its last value. */
static int await_count(struct fake *f, const int *counter, int want);

static void fake_fini(struct fake *f)
{
	free(f->out_data);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

static void finish(struct usb_xfer *x, int status, size_t actual)
{
	x->status = status;
	x->actual = actual;
	if (status == USB_XFER_FAILED) /* worded as the libusb transport words it */
		x->error = usb_libusb_error_text(usb_libusb_transfer_error(LIBUSB_TRANSFER_STALL));
	x->done(x);
}

/* An OUT transfer the device took: its bytes join the record. Lock held. */
static void record_out(struct fake *f, const struct usb_xfer *x)
{
	if (f->out_len + x->len <= f->out_cap) {
		memcpy(f->out_data + f->out_len, x->buf, x->len);
		f->out_len += x->len;
	}
	if (f->out_count < MAX_SIZES)
		f->out_sizes[f->out_count++] = x->len;
	pthread_cond_broadcast(&f->cond);
}

static int fake_submit(void *dev, struct usb_xfer *x, int in)
{
	struct fake *f = dev;
	pthread_mutex_lock(&f->lock);
	if (f->gone) {
		pthread_mutex_unlock(&f->lock);
		return USB_XFER_GONE;
	}
	x->impl = f;
	if (in) {
		f->in_q[f->in_n++] = x;
		f->in_submits++;
		if (x->len < f->in_len_min)
			f->in_len_min = x->len;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	if (f->fail_out) {
		pthread_mutex_unlock(&f->lock);
		finish(x, USB_XFER_FAILED, 0);
		return 0;
	}
	if (f->hold_out) {
		f->out_q[f->out_n++] = x;
		if (f->out_n > f->out_held_max)
			f->out_held_max = f->out_n;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	record_out(f, x);
	pthread_mutex_unlock(&f->lock);
	finish(x, USB_XFER_DONE, x->len);
	return 0;
}

/* Removes x from q; 1 if it was there. Lock held. */
static int take(struct usb_xfer **q, int *n, const struct usb_xfer *x)
{
	for (int i = 0; i < *n; i++) {
		if (q[i] != x)
			continue;
		memmove(q + i, q + i + 1, (size_t)(*n - i - 1) * sizeof(*q));
		(*n)--;
		return 1;
	}
	return 0;
}

static void fake_cancel(void *dev, struct usb_xfer *x)
{
	struct fake *f = dev;
	pthread_mutex_lock(&f->lock);
	f->cancels++;
	size_t partial = 0;
	int was_head = f->in_n > 0 && f->in_q[0] == x;
	int found = take(f->in_q, &f->in_n, x) || take(f->out_q, &f->out_n, x);
	if (was_head) {
		partial = f->in_partial; /* what arrived before the cancel stays */
		f->in_partial = 0;
	}
	pthread_mutex_unlock(&f->lock);
	if (found)
		finish(x, USB_XFER_CANCELLED, partial);
}

static void fake_release(void *dev, struct usb_xfer *x)
{
	struct fake *f = dev;
	pthread_mutex_lock(&f->lock);
	f->releases++;
	pthread_mutex_unlock(&f->lock);
	x->impl = NULL;
}

static void fake_close(void *dev)
{
	struct fake *f = dev;
	pthread_mutex_lock(&f->lock);
	f->closes++;
	pthread_mutex_unlock(&f->lock);
}

static const struct usb_bulk_ops fake_ops = {
	.submit = fake_submit,
	.cancel = fake_cancel,
	.release = fake_release,
	.close = fake_close,
};

/* Waits up to 5 s for an IN transfer to fill; 0, or -1 (none came, or the device is gone). */
static int wait_in_xfer(struct fake *f)
{
	uint64_t until = timing_now_ms() + 5000;
	while (f->in_n == 0 && !f->gone && timing_now_ms() < until) {
		pthread_mutex_unlock(&f->lock);
		timing_sleep_ms(1);
		pthread_mutex_lock(&f->lock);
	}
	return f->in_n > 0 && !f->gone ? 0 : -1;
}

/*
 * The device writes len bytes to its bulk IN endpoint: they fill the oldest transfers in
 * turn, and the write ends with a short packet (complete = 1: the transfer it ends in is
 * done) or, when len fills whole packets and no zero-length packet follows (complete = 0),
 * leaves the last transfer unfinished. 0, or -1 when no transfer was there to take it.
 */
static int fake_device_write(struct fake *f, const uint8_t *p, size_t len, int complete)
{
	pthread_mutex_lock(&f->lock);
	while (len > 0) {
		if (wait_in_xfer(f) != 0) {
			pthread_mutex_unlock(&f->lock);
			return -1;
		}
		struct usb_xfer *x = f->in_q[0];
		size_t room = x->len - f->in_partial;
		size_t n = len < room ? len : room;
		memcpy(x->buf + f->in_partial, p, n);
		f->in_partial += n;
		p += n;
		len -= n;
		if (f->in_partial == x->len || (len == 0 && complete)) {
			size_t got = f->in_partial;
			take(f->in_q, &f->in_n, x);
			f->in_partial = 0;
			pthread_mutex_unlock(&f->lock);
			finish(x, USB_XFER_DONE, got);
			pthread_mutex_lock(&f->lock);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* The cable is pulled: everything in flight ends GONE, and so does every later submit. */
static void fake_unplug(struct fake *f)
{
	struct usb_xfer *all[2 * MAX_HELD];
	int n = 0;
	pthread_mutex_lock(&f->lock);
	f->gone = 1;
	for (int i = 0; i < f->in_n; i++)
		all[n++] = f->in_q[i];
	for (int i = 0; i < f->out_n; i++)
		all[n++] = f->out_q[i];
	f->in_n = f->out_n = 0;
	f->in_partial = 0;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < n; i++)
		finish(all[i], USB_XFER_GONE, 0);
}

/* Lets every held OUT transfer through and stops holding. */
static void fake_release_out(struct fake *f)
{
	struct usb_xfer *all[MAX_HELD];
	pthread_mutex_lock(&f->lock);
	f->hold_out = 0;
	int n = f->out_n;
	for (int i = 0; i < n; i++) {
		all[i] = f->out_q[i];
		record_out(f, all[i]);
	}
	f->out_n = 0;
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < n; i++)
		finish(all[i], USB_XFER_DONE, all[i]->len);
}

static int await_count(struct fake *f, const int *counter, int want)
{
	uint64_t until = timing_now_ms() + 5000;
	int v;
	while ((v = fake_count(f, counter)) < want && timing_now_ms() < until)
		timing_sleep_ms(1);
	return v;
}

/* Waits up to 5 s until the device has received want bytes. */
static int await_out(struct fake *f, size_t want)
{
	uint64_t until = timing_now_ms() + 5000;
	pthread_mutex_lock(&f->lock);
	while (f->out_len < want && timing_now_ms() < until) {
		pthread_mutex_unlock(&f->lock);
		timing_sleep_ms(1);
		pthread_mutex_lock(&f->lock);
	}
	size_t got = f->out_len;
	pthread_mutex_unlock(&f->lock);
	return got == want ? 0 : -1;
}

static struct usb_bridge *start_fake(struct fake *f, int *fd)
{
	fake_init(f);
	struct usb_bulk_dev dev = { .ops = &fake_ops, .priv = f, .max_packet = MPS };
	snprintf(dev.name, sizeof(dev.name), "usb:9-9");
	return usb_bridge_start(&dev, fd);
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Reads exactly n bytes from fd within 5 s; 0, or -1. */
static int read_exact(int fd, uint8_t *p, size_t n)
{
	uint64_t until = timing_now_ms() + 5000;
	while (n > 0 && timing_now_ms() < until) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 100) != 1)
			continue;
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return n == 0 ? 0 : -1;
}

/* Waits up to 5 s for end of file on fd (bytes before it are skipped); 0, or -1. */
static int await_eof(int fd)
{
	uint64_t until = timing_now_ms() + 5000;
	uint8_t buf[4096];
	while (timing_now_ms() < until) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 100) != 1)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0; /* reset: ended too */
	}
	return -1;
}

static int await_end(struct usb_bridge *b, char *why, size_t size)
{
	uint64_t until = timing_now_ms() + 5000;
	int end;
	while ((end = usb_bridge_state(b, why, size)) == USB_BRIDGE_RUNNING && timing_now_ms() < until)
		timing_sleep_ms(2);
	return end;
}

struct writer {
	int fd;
	const uint8_t *p;
	size_t n;
	const size_t *pieces; /* write sizes, cycled */
	size_t npieces;
	int failed;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;
	for (size_t k = 0; off < w->n; k++) {
		size_t n = w->pieces[k % w->npieces];
		if (n > w->n - off)
			n = w->n - off;
		for (size_t done = 0; done < n;) {
			ssize_t r = write(w->fd, w->p + off + done, n - done);
			if (r <= 0) {
				w->failed = 1;
				return NULL;
			}
			done += (size_t)r;
		}
		off += n;
	}
	return NULL;
}

/* ---- the bridge ---------------------------------------------------------------------------- */

static void test_socket_bytes_become_bulk_out_transfers(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	/* 1024 bytes fill two packets: sent as 1023 + 1, each ending with a short packet */
	uint8_t small[1024];
	fill_pattern(small, sizeof(small), 1);
	CHECK(write(fd, small, sizeof(small)) == (ssize_t)sizeof(small));
	CHECK(await_out(&f, sizeof(small)) == 0);
	CHECK(f.out_count == 2 && f.out_sizes[0] == 1023 && f.out_sizes[1] == 1);
	CHECK(memcmp(f.out_data, small, sizeof(small)) == 0);
	/* lots, in awkward pieces: everything arrives, in order, in transfers that are never a
	 * whole number of packets and never larger than the bridge's buffers */
	static const size_t pieces[] = { 1, 511, 512, 513, 4096, 65536, 262144, 262145,
					 1000000, 7 };
	size_t total = 12u << 20;
	uint8_t *data = malloc(total);
	CHECK(data != NULL);
	fill_pattern(data, total, 2);
	struct writer w = { fd, data, total, pieces, sizeof(pieces) / sizeof(pieces[0]), 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, writer_main, &w) == 0);
	int arrived = await_out(&f, sizeof(small) + total);
	pthread_join(t, NULL);
	int same = f.out_len == sizeof(small) + total &&
		   memcmp(f.out_data + sizeof(small), data, total) == 0;
	free(data);
	CHECK(!w.failed);
	CHECK(arrived == 0);
	CHECK(same);
	for (int i = 0; i < f.out_count && i < MAX_SIZES; i++) {
		if (f.out_sizes[i] == 0 || f.out_sizes[i] % MPS == 0 ||
		    f.out_sizes[i] >= USB_LINK_XFER_SIZE) {
			fprintf(stderr, "  transfer %d is %zu bytes\n", i, f.out_sizes[i]);
			CHECK(0);
		}
	}
	close(fd);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	CHECK(f.closes == 1);
	fake_fini(&f);
}

static void test_several_transfers_in_flight(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	/* IN: every transfer is in flight from the start, each a full buffer */
	CHECK(await_count(&f, &f.in_n, USB_LINK_XFERS) == USB_LINK_XFERS);
	CHECK(f.in_len_min == USB_LINK_XFER_SIZE);
	/* OUT: a device that has not answered yet still gets the next transfers queued */
	pthread_mutex_lock(&f.lock);
	f.hold_out = 1;
	pthread_mutex_unlock(&f.lock);
	static const size_t pieces[] = { 300000 };
	size_t total = 4u << 20;
	uint8_t *data = malloc(total);
	CHECK(data != NULL);
	fill_pattern(data, total, 3);
	struct writer w = { fd, data, total, pieces, 1, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, writer_main, &w) == 0);
	await_count(&f, &f.out_n, USB_LINK_XFERS);
	timing_sleep_ms(50); /* and no more than its buffers */
	int held = fake_count(&f, &f.out_held_max);
	fake_release_out(&f);
	int arrived = await_out(&f, total);
	pthread_join(t, NULL);
	int same = f.out_len == total && memcmp(f.out_data, data, total) == 0;
	free(data);
	if (held != USB_LINK_XFERS)
		fprintf(stderr, "  %d OUT transfers were in flight at once\n", held);
	CHECK(held == USB_LINK_XFERS);
	CHECK(arrived == 0 && same && !w.failed);
	close(fd);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	fake_fini(&f);
}

struct reader {
	int fd;
	uint8_t *p;
	size_t n;
	int failed;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	r->failed = read_exact(r->fd, r->p, r->n) != 0;
	return NULL;
}

static void test_bulk_in_arrives_in_order(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	static const size_t sizes[] = { 28, 1, USB_LINK_XFER_SIZE, 511, 512 * 3 + 5,
					3 * USB_LINK_XFER_SIZE + 17, 100000, 4096, 2 };
	size_t total = 0;
	for (int round = 0; round < 8; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			total += sizes[i];
	uint8_t *data = malloc(total), *got = malloc(total);
	CHECK(data && got);
	fill_pattern(data, total, 4);
	struct reader r = { fd, got, total, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader_main, &r) == 0);
	size_t off = 0;
	int ok = 1;
	for (int round = 0; round < 8 && ok; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && ok; i++) {
			ok = fake_device_write(&f, data + off, sizes[i], 1) == 0;
			off += sizes[i];
		}
	pthread_join(t, NULL);
	int same = memcmp(data, got, total) == 0;
	free(data);
	free(got);
	CHECK(ok && !r.failed && same);
	close(fd);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	fake_fini(&f);
}

static void test_bytes_in_an_unfinished_in_transfer_are_passed_on(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	/* a board wrote 1024 bytes and sent no zero-length packet: the transfer does not end */
	uint8_t first[1024], second[40], got[sizeof(first) + sizeof(second)];
	fill_pattern(first, sizeof(first), 5);
	fill_pattern(second, sizeof(second), 6);
	CHECK(fake_device_write(&f, first, sizeof(first), 0) == 0);
	uint64_t start = timing_now_ms();
	CHECK(read_exact(fd, got, sizeof(first)) == 0);
	uint64_t took = timing_now_ms() - start;
	CHECK(memcmp(got, first, sizeof(first)) == 0);
	CHECK(took <= 8 * USB_LINK_IN_FLUSH_MS); /* flushed, not stuck until more comes */
	CHECK(fake_count(&f, &f.cancels) >= 1);
	/* and what follows comes after it */
	CHECK(fake_device_write(&f, second, sizeof(second), 1) == 0);
	CHECK(read_exact(fd, got + sizeof(first), sizeof(second)) == 0);
	CHECK(memcmp(got + sizeof(first), second, sizeof(second)) == 0);
	close(fd);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	fake_fini(&f);
}

static void test_device_gone_ends_the_bridge(void)
{
	struct fake f;
	int fd = -1;
	char why[ERR_MSG_MAX];
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	/* traffic both ways, and OUT transfers stuck in flight when the cable goes */
	uint8_t hello[100], reply[100];
	fill_pattern(hello, sizeof(hello), 7);
	CHECK(fake_device_write(&f, hello, sizeof(hello), 1) == 0);
	CHECK(read_exact(fd, reply, sizeof(reply)) == 0);
	CHECK(memcmp(hello, reply, sizeof(hello)) == 0);
	pthread_mutex_lock(&f.lock);
	f.hold_out = 1;
	pthread_mutex_unlock(&f.lock);
	uint8_t *big = calloc(1, 600000);
	CHECK(big != NULL);
	ssize_t w = write(fd, big, 600000);
	free(big);
	CHECK(w > 0);
	CHECK(await_count(&f, &f.out_n, 1) > 0);
	fake_unplug(&f);
	/* the server's end sees end of file, and writing to it fails instead of blocking */
	CHECK(await_eof(fd) == 0);
	CHECK(send(fd, "x", 1, MSG_NOSIGNAL) == -1);
	CHECK(await_end(b, why, sizeof(why)) == USB_BRIDGE_GONE);
	CHECK(mentions(why, "usb:9-9: the device went away"));
	usb_bridge_free(b);
	close(fd);
	/* every transfer came back before the device was closed, once */
	CHECK(f.in_n == 0 && f.out_n == 0);
	CHECK(f.closes == 1);
	CHECK(f.releases >= USB_LINK_XFERS + 1);
	fake_fini(&f);
}

static void test_failing_endpoint_ends_the_bridge(void)
{
	struct fake f;
	int fd = -1;
	char why[ERR_MSG_MAX];
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	pthread_mutex_lock(&f.lock);
	f.fail_out = 1;
	pthread_mutex_unlock(&f.lock);
	CHECK(write(fd, "frame", 5) == 5);
	CHECK(await_eof(fd) == 0);
	CHECK(await_end(b, why, sizeof(why)) == USB_BRIDGE_FAILED);
	CHECK(mentions(why, "usb:9-9: bulk OUT failed: the device stalled the endpoint"));
	usb_bridge_free(b);
	close(fd);
	/* the IN transfers in flight were cancelled and given back */
	/* (as many as were submitted: a slow machine may fail the bridge before all were) */
	if (f.in_n != 0 || f.cancels < (f.in_submits < USB_LINK_XFERS ? f.in_submits : USB_LINK_XFERS))
		fprintf(stderr, "  IN still queued %d, cancels %d, IN submits %d\n", f.in_n, f.cancels,
			f.in_submits);
	CHECK(f.in_n == 0 && f.cancels >= (f.in_submits < USB_LINK_XFERS ? f.in_submits
									  : USB_LINK_XFERS));
	CHECK(f.closes == 1);
	fake_fini(&f);
}

static void test_closing_the_socket_ends_the_bridge(void)
{
	struct fake f;
	int fd = -1;
	char why[ERR_MSG_MAX];
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	timing_sleep_ms(20);
	close(fd);
	CHECK(await_end(b, why, sizeof(why)) == USB_BRIDGE_CLOSED);
	CHECK(mentions(why, "hostload closed the connection"));
	usb_bridge_free(b);
	/* (as many as were submitted: a slow machine may fail the bridge before all were) */
	if (f.in_n != 0 || f.cancels < (f.in_submits < USB_LINK_XFERS ? f.in_submits : USB_LINK_XFERS))
		fprintf(stderr, "  IN still queued %d, cancels %d, IN submits %d\n", f.in_n, f.cancels,
			f.in_submits);
	CHECK(f.in_n == 0 && f.cancels >= (f.in_submits < USB_LINK_XFERS ? f.in_submits
									  : USB_LINK_XFERS));
	CHECK(f.closes == 1);
	fake_fini(&f);
}

static void test_what_was_written_before_closing_still_goes_out(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	/* the server answers (a RESULT_ACK, say) and closes the connection at once */
	pthread_mutex_lock(&f.lock);
	f.hold_out = 1;
	pthread_mutex_unlock(&f.lock);
	uint8_t *data = malloc(700000);
	CHECK(data != NULL);
	fill_pattern(data, 700000, 8);
	ssize_t w = write(fd, data, 700000);
	close(fd);
	CHECK(await_count(&f, &f.out_n, 3) == 3);
	timing_sleep_ms(300);
	int still = usb_bridge_state(b, NULL, 0);
	fake_release_out(&f);
	int arrived = await_out(&f, 700000);
	int same = f.out_len == 700000 && memcmp(f.out_data, data, 700000) == 0;
	free(data);
	CHECK(w == 700000);
	CHECK(still == USB_BRIDGE_RUNNING);
	CHECK(arrived == 0 && same);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	CHECK(f.closes == 1);
	fake_fini(&f);
}

static void test_a_board_that_stopped_reading_does_not_hold_a_closed_bridge(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	pthread_mutex_lock(&f.lock);
	f.hold_out = 1; /* and never let go */
	pthread_mutex_unlock(&f.lock);
	CHECK(write(fd, "last words", 10) == 10);
	CHECK(await_count(&f, &f.out_n, 1) == 1);
	close(fd);
	/* what the board says meanwhile goes nowhere, harmlessly */
	CHECK(fake_device_write(&f, (const uint8_t *)"late", 4, 1) == 0);
	CHECK(await_end(b, NULL, 0) == USB_BRIDGE_CLOSED);
	usb_bridge_free(b);
	CHECK(f.out_n == 0 && f.out_len == 0); /* the stuck transfer was cancelled */
	CHECK(f.closes == 1);
	fake_fini(&f);
}

static void test_stop_ends_a_bridge_at_once(void)
{
	struct fake f;
	int fd = -1;
	struct usb_bridge *b = start_fake(&f, &fd);
	CHECK(b != NULL);
	uint64_t start = timing_now_ms();
	usb_bridge_stop(b);
	usb_bridge_free(b);
	CHECK(timing_now_ms() - start < 1000);
	CHECK(await_eof(fd) == 0);
	close(fd);
	CHECK(f.closes == 1 && f.in_n == 0);
	fake_fini(&f);
}

/* ---- the listener, with no board attached ----------------------------------------------- */

static void test_listener_without_a_board(void)
{
	err_clear();
	CHECK(usb_link_open("usb:nope") == NULL);
	CHECK(mentions(err_msg(), "'nope' is not VID:PID"));
	/* an id nothing has, so a board on this host does not interfere */
	struct usb_link *l = usb_link_open("usb:fff0:fff1");
	CHECK(l != NULL);
	int fd = usb_link_fd(l);
	CHECK(fd >= 0);
	timing_sleep_ms(2 * USB_LINK_RESCAN_MS);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	int conn = -1, r = 0;
	char name[64];
	if (poll(&pf, 1, 0) == 1) {
		/* the one thing it may have to say here: no USB to enumerate at all */
		r = usb_link_accept(l, &conn, name, sizeof(name));
		if (r < 0)
			printf("# %s\n", err_msg());
	}
	CHECK(r == 0 || (r < 0 && mentions(err_msg(), "cannot enumerate USB devices")));
	CHECK(usb_link_accept(l, &conn, name, sizeof(name)) == 0);
	uint64_t start = timing_now_ms();
	usb_link_close(l);
	CHECK(timing_now_ms() - start < 2000);
}

static void test_serve_on_a_usb_link_waits_for_boards(void)
{
	char dir[] = "/tmp/test_link_usb.XXXXXX", pkg_path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(pkg_path, sizeof(pkg_path), "%s/p.sfpkg", dir);
	/* a package as far as the host looks: a valid header over zeros */
	static uint8_t package[PKG_PREFIX_SIZE + 8192];
	struct pkg_header ph = { .version = PKG_FORMAT_VERSION, .manifest_size = 4096 };
	ph.data_size = sizeof(package) - PKG_PREFIX_SIZE - ph.manifest_size;
	ph.package_size = sizeof(package);
	pkg_header_encode(&ph, package);
	FILE *pf = fopen(pkg_path, "wb");
	int written = pf && fwrite(package, 1, sizeof(package), pf) == sizeof(package);
	if (pf)
		fclose(pf);
	static char events[8192];
	FILE *out = fmemopen(events, sizeof(events), "w");
	static struct report rep;
	report_init(&rep, REPORT_JSON, out, dir);
	struct serve_opts o = { .package = pkg_path, .links = { "usb:fff0:fff1" }, .nlinks = 1,
				.boards = 1, .idle_timeout_s = 5, .wait_timeout_s = 1, .report = &rep };
	uint64_t start = timing_now_ms();
	err_clear();
	int rc = serve_run(&o);
	uint64_t took = timing_now_ms() - start;
	report_close(&rep);
	if (out)
		fclose(out);
	unlink(pkg_path);
	rmdir(dir);
	CHECK(written && out);
	/* it waited for the whole timeout, then said there was no result */
	CHECK(rc == 3);
	CHECK(mentions(err_msg(), "no result from 1 board within 1 s"));
	CHECK(took >= 950);
}

int main(void)
{
	RUN(test_spec_forms_accepted);
	RUN(test_spec_forms_refused);
	RUN(test_socket_bytes_become_bulk_out_transfers);
	RUN(test_several_transfers_in_flight);
	RUN(test_bulk_in_arrives_in_order);
	RUN(test_bytes_in_an_unfinished_in_transfer_are_passed_on);
	RUN(test_device_gone_ends_the_bridge);
	RUN(test_failing_endpoint_ends_the_bridge);
	RUN(test_closing_the_socket_ends_the_bridge);
	RUN(test_what_was_written_before_closing_still_goes_out);
	RUN(test_a_board_that_stopped_reading_does_not_hold_a_closed_bridge);
	RUN(test_stop_ends_a_bridge_at_once);
	RUN(test_listener_without_a_board);
	RUN(test_serve_on_a_usb_link_waits_for_boards);
	return CHECK_EXIT();
}
