/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the Tegra RCM backend: bundles generated in temporary directories, sent to
 * a simulated recovery-mode device behind the usb_transport ops. As a T234 the device behaves
 * as DESIGN.md §6 says and refuses anything else (a zero-length packet, a bulk UID read, a
 * status read, a file out of order, a piece over 16 KiB, a file without "NVDA", a wrong
 * timeout or control request). As a T194 it answers from a script. It records every
 * transfer; each test compares the record with the sequence it expects, built here
 * independently (pieces, zero-length packets, status reads, nv3p frames with their checksums
 * and numbers).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/rcm_tegra.h"
#include "usb/usb_transport.h"
#include "check.h"
#include "error.h"

/* ---- the simulated device ------------------------------------------------------------- */

enum xfer_dir { X_OUT, X_IN, X_ZLP, X_REOPEN, X_CTRL };

struct xfer {
	enum xfer_dir dir;
	size_t len; /* OUT: bytes sent; IN: bytes asked for */
	uint8_t *data; /* OUT: a copy */
	char what[300];
};

#define SIM_LOG_MAX 256
#define SIM_REPLY_MAX 32

struct sim {
	struct xfer log[SIM_LOG_MAX];
	size_t n;
	struct {
		uint8_t data[64];
		size_t len;
	} reply[SIM_REPLY_MAX];
	size_t n_replies, next_reply;
	size_t outs;          /* OUT transfers so far */
	long short_write_at;  /* this OUT (0-based) takes half its bytes; -1: none */
	int absent;           /* every transfer fails as if unplugged */
	/* T234 mode (DESIGN.md §6): the device runs the sequence itself */
	int t234;
	enum { T_CID, T_BOOTROM, T_VERSION, T_MB1, T_DONE } state;
	const uint8_t *file_data[6]; /* what it must receive: 4 bootrom files, then 2 MB1 files */
	size_t file_len[6];
	int file;
	size_t file_off;
	size_t cid_reply_len;  /* bytes of the string descriptor it answers (66: all) */
	size_t version_len;    /* bytes of MB1's answer (68) */
	uint32_t boot_error;   /* MB1's last_boot_error */
	int reopens;
	char violation[200];   /* the first thing it refused; "" if none */
};

static struct sim *sim_of(struct usb_transport *t)
{
	return t->priv;
}

static struct xfer *sim_record(struct sim *s, enum xfer_dir dir, size_t len, const char *what)
{
	if (s->n >= SIM_LOG_MAX)
		abort();
	struct xfer *x = &s->log[s->n++];
	x->dir = dir;
	x->len = len;
	x->data = NULL;
	snprintf(x->what, sizeof(x->what), "%s", what ? what : "");
	return x;
}

/* The T234 refuses: remembers the first reason and fails the transfer (a stall). */
static int sim_refuse(struct sim *s, const char *why, const char *what)
{
	if (!s->violation[0])
		snprintf(s->violation, sizeof(s->violation), "%s", why);
	return err_set("USB sim (T234) refused %s: %s", what, why);
}

/* The T234 taking n bytes of a file: they must be the next bytes of the expected file. */
static int sim_t234_take(struct sim *s, const uint8_t *buf, size_t n, unsigned timeout_ms,
			 const char *what)
{
	if (s->state != T_BOOTROM && s->state != T_MB1)
		return sim_refuse(s, "bulk OUT outside a download stage", what);
	if (n > 16384)
		return sim_refuse(s, "piece over 16 KiB", what);
	if (timeout_ms != 5000)
		return sim_refuse(s, "timeout other than 5 s", what);
	size_t left = s->file_len[s->file] - s->file_off;
	if (s->file_off == 0 && s->file >= 1 && s->file <= 3 &&
	    (n < 4 || memcmp(buf, "NVDA", 4) != 0))
		return sim_refuse(s, "file without NVDA", what);
	if (n > left || memcmp(buf, s->file_data[s->file] + s->file_off, n) != 0)
		return sim_refuse(s, "not the next bytes of the expected file (out of order?)",
				  what);
	s->file_off += n;
	if (s->file_off == s->file_len[s->file]) {
		s->file++;
		s->file_off = 0;
		if (s->file == 4)
			s->state = T_VERSION;
		else if (s->file == 6)
			s->state = T_DONE;
	}
	return 0;
}

static int sim_bulk_out(struct usb_transport *t, const void *buf, size_t len,
			unsigned timeout_ms, size_t *sent, const char *what)
{
	struct sim *s = sim_of(t);
	if (s->absent)
		return err_set("USB sim: bulk OUT %s: the device went away", what);
	struct xfer *x = sim_record(s, X_OUT, len, what);
	x->data = malloc(len);
	if (!x->data)
		abort();
	memcpy(x->data, buf, len);
	*sent = (long)s->outs++ == s->short_write_at ? len / 2 : len;
	if (s->t234 && sim_t234_take(s, buf, *sent, timeout_ms, what) != 0) {
		*sent = 0;
		return -1;
	}
	return 0;
}

/* The version answer MB1 gives to --pollbl: 64-byte string, u32 last_boot_error. */
static const char sim_mb1_version[] = "1.4.0.1-t234-54845784-08e631ca";

static int sim_t234_in(struct sim *s, void *buf, size_t len, unsigned timeout_ms,
		       size_t *received, const char *what)
{
	if (s->state == T_CID)
		return sim_refuse(s, "bulk IN before the UID request (bulk UID read)", what);
	if (s->state == T_BOOTROM || s->state == T_MB1 || s->state == T_DONE)
		return sim_refuse(s, "bulk IN after a file (status read)", what);
	if (len != 96 || timeout_ms != 5000)
		return sim_refuse(s, "version read not of 96 bytes with 5 s", what);
	uint8_t answer[96] = { 0 };
	memcpy(answer, sim_mb1_version, sizeof(sim_mb1_version));
	answer[64] = (uint8_t)s->boot_error;
	answer[65] = (uint8_t)(s->boot_error >> 8);
	answer[66] = (uint8_t)(s->boot_error >> 16);
	answer[67] = (uint8_t)(s->boot_error >> 24);
	memcpy(buf, answer, s->version_len);
	*received = s->version_len;
	s->state = T_MB1;
	return 0;
}

static int sim_bulk_in(struct usb_transport *t, void *buf, size_t len, unsigned timeout_ms,
		       size_t *received, const char *what)
{
	struct sim *s = sim_of(t);
	if (s->absent)
		return err_set("USB sim: bulk IN %s: the device went away", what);
	sim_record(s, X_IN, len, what);
	if (s->t234)
		return sim_t234_in(s, buf, len, timeout_ms, received, what);
	if (s->next_reply >= s->n_replies)
		return err_set("USB sim: bulk IN %s: no answer within %u ms", what, timeout_ms);
	size_t n = s->reply[s->next_reply].len;
	if (n > len)
		return err_set("USB sim: bulk IN %s: the device sent more than %zu bytes", what,
			       len);
	memcpy(buf, s->reply[s->next_reply++].data, n);
	*received = n;
	return 0;
}

/* The chip UID as NVIDIA's tools print it, and the string descriptor the T234 sends. */
static const char test_cid[] = "0x80012344705DF1975C000000110300C0";

static int sim_control_in(struct usb_transport *t, uint8_t request_type, uint8_t request,
			  uint16_t value, uint16_t index, void *buf, size_t len,
			  unsigned timeout_ms, size_t *received, const char *what)
{
	struct sim *s = sim_of(t);
	if (s->absent)
		return err_set("USB sim: control IN %s: the device went away", what);
	sim_record(s, X_CTRL, len, what);
	if (!s->t234)
		return err_set("USB sim (T194): control IN %s: not expected", what);
	if (s->state != T_CID)
		return sim_refuse(s, "control request after the UID", what);
	if (request_type != 0x80 || request != 6 || value != 0x0303 || index != 0 ||
	    len != 0x82 || timeout_ms != 5000)
		return sim_refuse(s, "not GET_DESCRIPTOR string 3 (0x80, 6, 0x0303, 0, 0x82, 5 s)",
				  what);
	if (s->cid_reply_len == 0)
		return err_set("USB sim: control IN %s: no answer within %u ms", what, timeout_ms);
	uint8_t desc[66] = { 66, 3 };
	for (int i = 0; i < 32; i++) /* the characters backwards, as the bootrom keeps them */
		desc[2 + 2 * i] = (uint8_t)test_cid[2 + 31 - i];
	memcpy(buf, desc, s->cid_reply_len);
	*received = s->cid_reply_len;
	s->state = T_BOOTROM;
	return 0;
}

static int sim_send_zlp(struct usb_transport *t, unsigned timeout_ms, const char *what)
{
	(void)timeout_ms;
	if (sim_of(t)->absent)
		return err_set("USB sim: zero-length packet: the device went away");
	sim_record(sim_of(t), X_ZLP, 0, what);
	if (sim_of(t)->t234)
		return sim_refuse(sim_of(t), "zero-length packet", what);
	return 0;
}

static int sim_reopen(struct usb_transport *t, unsigned timeout_ms)
{
	struct sim *s = sim_of(t);
	(void)timeout_ms;
	sim_record(s, X_REOPEN, 0, "reopen");
	s->reopens++;
	if (s->t234 && s->state != T_VERSION)
		return sim_refuse(s, "reopen outside the pause between the stages", "reopen");
	return 0;
}

static void sim_close(struct usb_transport *t)
{
	struct sim *s = sim_of(t);
	for (size_t i = 0; i < s->n; i++)
		free(s->log[i].data);
	s->n = 0;
}

static const struct usb_transport_ops sim_ops = {
	.bulk_out = sim_bulk_out,
	.bulk_in = sim_bulk_in,
	.control_in = sim_control_in,
	.send_zlp = sim_send_zlp,
	.reopen = sim_reopen,
	.close = sim_close,
};
static const struct usb_transport_ops sim_ops_no_reopen = {
	.bulk_out = sim_bulk_out,
	.bulk_in = sim_bulk_in,
	.control_in = sim_control_in,
	.send_zlp = sim_send_zlp,
	.close = sim_close,
};

static struct sim sim;

static void sim_open(struct usb_transport *t, uint16_t product, int with_reopen)
{
	sim_close(&(struct usb_transport){ .priv = &sim });
	memset(&sim, 0, sizeof(sim));
	sim.short_write_at = -1;
	memset(t, 0, sizeof(*t));
	t->ops = with_reopen ? &sim_ops : &sim_ops_no_reopen;
	t->priv = &sim;
	snprintf(t->path, sizeof(t->path), "sim-1");
	t->vendor = 0x0955;
	t->product = product;
	t->max_packet = 512;
	sim.t234 = product != 0x7019 && product != 0x7e19;
	sim.cid_reply_len = 66;
	sim.version_len = 68;
}

static void sim_reply(const void *data, size_t len)
{
	if (sim.n_replies >= SIM_REPLY_MAX || len > sizeof(sim.reply[0].data))
		abort();
	memcpy(sim.reply[sim.n_replies].data, data, len);
	sim.reply[sim.n_replies++].len = len;
}

/* ---- encoding the device's answers and the expected frames, independently --------------- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The value that makes the 32-bit sum of the bytes plus itself zero. */
static uint32_t negated_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return (uint32_t)((1ull << 32) - (s & 0xffffffffu));
}

static const uint8_t test_uid[16] = { 0x80, 0x01, 0x23, 0x44, 0x70, 0x5d, 0xf0, 0xd7,
				      0x78, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 };

static void reply_uid(void)
{
	sim_reply(test_uid, sizeof(test_uid));
}

static void reply_status(uint32_t status)
{
	uint8_t b[4];
	put32(b, status);
	sim_reply(b, 4);
}

/* ACK (type 4) or NACK (type 5, with code) for packet seq; `damage` breaks the checksum. */
static size_t nv3p_reply(uint8_t *p, uint32_t type, uint32_t seq, uint32_t code, int damage)
{
	put32(p, 1);
	put32(p + 4, type);
	put32(p + 8, seq);
	size_t n = 12;
	if (type == 5) {
		put32(p + 12, code);
		n = 16;
	}
	put32(p + n, negated_sum(p, n) + (damage ? 1u : 0u));
	return n + 4;
}

static void reply_ack(uint32_t seq)
{
	uint8_t b[16];
	size_t b_len = nv3p_reply(b, 4, seq, 0, 0);
	sim_reply(b, b_len);
}

/* ---- expected transcripts ------------------------------------------------------------- */

struct expect {
	enum xfer_dir dir;
	size_t len;
	const uint8_t *data; /* OUT: what must have been sent (NULL: not compared) */
	uint8_t frame[64];   /* OUT: small frames are kept here */
};

#define EXPECT_MAX 256
static struct expect expect[EXPECT_MAX];
static size_t n_expect;

static struct expect *expect_add(enum xfer_dir dir, size_t len, const uint8_t *data)
{
	if (n_expect >= EXPECT_MAX)
		abort();
	struct expect *e = &expect[n_expect++];
	e->dir = dir;
	e->len = len;
	e->data = data;
	return e;
}

/* A bootrom-stage file: 16 KiB pieces, a ZLP when len % 512 == 0, a 4-byte status read. */
static void expect_bootrom_file(const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len; off += 16384)
		expect_add(X_OUT, len - off < 16384 ? len - off : 16384, data + off);
	if (len % 512 == 0)
		expect_add(X_ZLP, 0, NULL);
	expect_add(X_IN, 4, NULL);
}

/* An nv3p command packet: header, argument length, command, arguments, checksum. */
static void expect_nv3p_command(uint32_t seq, uint32_t command, const uint8_t *args,
				size_t args_len)
{
	struct expect *e = expect_add(X_OUT, 12 + 8 + args_len + 4, NULL);
	put32(e->frame, 1);
	put32(e->frame + 4, 1);
	put32(e->frame + 8, seq);
	put32(e->frame + 12, (uint32_t)args_len);
	put32(e->frame + 16, command);
	memcpy(e->frame + 20, args, args_len);
	put32(e->frame + 20 + args_len, negated_sum(e->frame, 20 + args_len));
	e->data = e->frame;
	expect_add(X_IN, 512, NULL);
}

/* nv3p DATA packets of at most `max` bytes, each: header+length, pieces, checksum, ACK read. */
static uint32_t expect_nv3p_data(uint32_t seq, const uint8_t *data, size_t len, size_t max)
{
	for (size_t off = 0; off < len; off += max) {
		size_t n = len - off < max ? len - off : max;
		struct expect *h = expect_add(X_OUT, 16, NULL);
		put32(h->frame, 1);
		put32(h->frame + 4, 2);
		put32(h->frame + 8, seq);
		put32(h->frame + 12, (uint32_t)n);
		h->data = h->frame;
		for (size_t p = 0; p < n; p += 16384)
			expect_add(X_OUT, n - p < 16384 ? n - p : 16384, data + off + p);
		struct expect *c = expect_add(X_OUT, 4, NULL);
		/* the checksum covers header, length and data */
		uint64_t s = 0;
		for (size_t i = 0; i < 16; i++)
			s += h->frame[i];
		for (size_t i = 0; i < n; i++)
			s += data[off + i];
		put32(c->frame, (uint32_t)(0 - (uint32_t)s));
		c->data = c->frame;
		expect_add(X_IN, 512, NULL);
		seq++;
	}
	return seq;
}

static const char *dir_name(enum xfer_dir d)
{
	return d == X_OUT ? "OUT" : d == X_IN ? "IN" : d == X_ZLP ? "ZLP" : d == X_CTRL ? "CTRL"
												: "REOPEN";
}

/* 1 if the recorded transfers are exactly the expected ones; prints the first difference. */
static int transcript_matches(void)
{
	size_t n = sim.n < n_expect ? sim.n : n_expect;
	for (size_t i = 0; i < n; i++) {
		const struct xfer *x = &sim.log[i];
		const struct expect *e = &expect[i];
		if (x->dir != e->dir || x->len != e->len ||
		    (e->data && memcmp(x->data, e->data, e->len) != 0)) {
			fprintf(stderr, "  transfer %zu: expected %s %zu bytes, got %s %zu bytes "
				"(%s)%s\n", i, dir_name(e->dir), e->len, dir_name(x->dir), x->len,
				x->what,
				x->dir == e->dir && x->len == e->len ? ", contents differ" : "");
			return 0;
		}
	}
	if (sim.n != n_expect) {
		fprintf(stderr, "  expected %zu transfers, got %zu\n", n_expect, sim.n);
		if (sim.n > n_expect)
			fprintf(stderr, "  first extra: %s %zu (%s)\n",
				dir_name(sim.log[n].dir), sim.log[n].len, sim.log[n].what);
		return 0;
	}
	return 1;
}

/* Every nv3p frame the host sent sums to zero with its checksum (property, not bytes). */
static int host_frames_sum_to_zero(void)
{
	for (size_t i = 0; i < sim.n; i++) {
		const struct xfer *x = &sim.log[i];
		if (x->dir != X_OUT || x->len < 16 || get32(x->data) != 1)
			continue;
		uint32_t type = get32(x->data + 4);
		if (type == 1) {
			uint32_t s = 0;
			for (size_t k = 0; k < x->len - 4; k++)
				s += x->data[k];
			if (s + get32(x->data + x->len - 4) != 0)
				return 0;
		} else if (type == 2 && x->len == 16 && strstr(x->what, "header")) {
			uint32_t s = 0;
			size_t k;
			for (size_t b = 0; b < 16; b++)
				s += x->data[b];
			for (k = i + 1; k < sim.n && !strstr(sim.log[k].what, "checksum"); k++)
				for (size_t b = 0; b < sim.log[k].len; b++)
					s += sim.log[k].data[b];
			if (k == sim.n || s + get32(sim.log[k].data) != 0)
				return 0;
		}
	}
	return 1;
}

/* ---- bundles in temporary directories ------------------------------------------------- */

static char bundle_dir[256];

static void bundle_remove(void)
{
	if (!bundle_dir[0])
		return;
	DIR *d = opendir(bundle_dir);
	if (d) {
		const struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[512];
			snprintf(p, sizeof(p), "%s/%s", bundle_dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(bundle_dir);
	bundle_dir[0] = '\0';
}

static void bundle_new(void)
{
	bundle_remove();
	snprintf(bundle_dir, sizeof(bundle_dir), "/tmp/selfflash-rcm-XXXXXX");
	if (!mkdtemp(bundle_dir))
		abort();
}

static void put_bytes(const char *name, const void *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", bundle_dir, name);
	FILE *f = fopen(p, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

static void put_text(const char *name, const char *text)
{
	put_bytes(name, text, strlen(text));
}

/* Deterministic contents, different per seed. */
static uint8_t *pattern(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		abort();
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

/* The T234 test bundle: sizes chosen to hit every rule (see the comments). */
enum { F_BCT_BR, F_MB1, F_PSC, F_BCT_MB1, F_BCT_MEM, F_BLOB, F_COUNT };
static const char *const t234_names[F_COUNT] = {
	"br_bct_BR.bct",
	"mb1_t234_prod_aligned_sigheader.bin.encrypt",
	"psc_bl1_t234_prod_aligned_sigheader.bin.encrypt",
	"mb1_bct_MB1_sigheader.bct.encrypt",
	"mem_rcm_sigheader.bct.encrypt",
	"blob.bin",
};
static const size_t t234_sizes[F_COUNT] = {
	4096,  /* one piece, a multiple of 512 (T194 would add a ZLP; T234 must not) */
	40000, /* 16384 + 16384 + 7232 */
	32768, /* two full pieces */
	1000,  /* one short piece */
	3000,  /* one piece (T194: one nv3p data packet) */
	70000, /* five pieces (T194: three data packets of at most 32768) */
};
static uint8_t *content[F_COUNT];

/* Writes the T234 bundle (mb1, psc_bl1, bct_mb1 start with NVDA) and tells the simulated
 * T234 what it must receive. */
static void t234_bundle(void)
{
	bundle_new();
	for (int i = 0; i < F_COUNT; i++) {
		free(content[i]);
		content[i] = pattern(t234_sizes[i], (uint32_t)i + 1);
		if (i >= F_MB1 && i <= F_BCT_MB1)
			memcpy(content[i], "NVDA", 4);
		put_bytes(t234_names[i], content[i], t234_sizes[i]);
	}
}

static void sim_expect_t234_files(void)
{
	for (int i = 0; i < F_COUNT; i++) {
		sim.file_data[i] = content[i];
		sim.file_len[i] = t234_sizes[i];
	}
}

/* The T194 test bundle: two RCM messages for the bootrom, then the same bct_mem and blob. */
static void t194_bundle(void)
{
	t234_bundle();
	char p[512];
	for (int i = F_BCT_BR; i <= F_BCT_MB1; i++) {
		snprintf(p, sizeof(p), "%s/%s", bundle_dir, t234_names[i]);
		unlink(p);
	}
	put_bytes("rcm_1_encrypt.rcm", content[F_BCT_BR], t234_sizes[F_BCT_BR]);
	put_bytes("rcm_2_encrypt.rcm", content[F_MB1], t234_sizes[F_MB1]);
}

#define DATA_MAX 32768

static void options(struct rcm_tegra_options *o)
{
	rcm_tegra_options_init(o);
	o->mb1_settle_ms = 0;
	o->nv3p_data_max = DATA_MAX;
}

/* The T194 device answers a whole boot correctly. */
static void script_t194_success(void)
{
	reply_uid();
	reply_status(0);
	reply_status(0);
	for (uint32_t seq = 0; seq < 6; seq++)
		reply_ack(seq);
}

/* What a whole T234 boot sends, in order (DESIGN.md §6). */
static void expect_t234_boot(int with_reopen)
{
	n_expect = 0;
	expect_add(X_CTRL, 0x82, NULL);
	for (int i = F_BCT_BR; i <= F_BLOB; i++) {
		if (i == F_BCT_MEM) {
			if (with_reopen)
				expect_add(X_REOPEN, 0, NULL);
			expect_add(X_IN, 96, NULL);
		}
		for (size_t off = 0; off < t234_sizes[i]; off += 16384)
			expect_add(X_OUT, t234_sizes[i] - off < 16384 ? t234_sizes[i] - off : 16384,
				   content[i] + off);
	}
}

/* What a whole T194 boot sends, in order. */
static void expect_t194_boot(void)
{
	n_expect = 0;
	expect_add(X_IN, 16, NULL);
	expect_bootrom_file(content[F_BCT_BR], t234_sizes[F_BCT_BR]);
	expect_bootrom_file(content[F_MB1], t234_sizes[F_MB1]);
	uint8_t args[16] = { 0 };
	put32(args, (uint32_t)t234_sizes[F_BCT_MEM]);
	expect_nv3p_command(0, 4, args, 4);
	uint32_t seq = expect_nv3p_data(1, content[F_BCT_MEM], t234_sizes[F_BCT_MEM], DATA_MAX);
	memset(args, 0, sizeof(args));
	put32(args, (uint32_t)t234_sizes[F_BLOB]);
	expect_nv3p_command(seq, 6, args, 16);
	expect_nv3p_data(seq + 1, content[F_BLOB], t234_sizes[F_BLOB], DATA_MAX);
}

static int mentions(const char *text, const char *part)
{
	if (strstr(text, part))
		return 1;
	fprintf(stderr, "  \"%s\" does not mention \"%s\"\n", text, part);
	return 0;
}

static size_t outs_recorded(void)
{
	size_t n = 0;
	for (size_t i = 0; i < sim.n; i++)
		n += sim.log[i].dir == X_OUT;
	return n;
}

/* ---- tests: identification ------------------------------------------------------------ */

static void test_identify_maps_every_recovery_product_to_its_chip(void)
{
	static const struct {
		uint16_t product;
		enum rcm_tegra_chip chip;
	} want[] = { { 0x7023, RCM_TEGRA_T234 }, { 0x7223, RCM_TEGRA_T234 },
		     { 0x7323, RCM_TEGRA_T234 }, { 0x7423, RCM_TEGRA_T234 },
		     { 0x7523, RCM_TEGRA_T234 }, { 0x7623, RCM_TEGRA_T234 },
		     { 0x7019, RCM_TEGRA_T194 }, { 0x7e19, RCM_TEGRA_T194 } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct usb_id *id = rcm_tegra_identify(0x0955, want[i].product);
		CHECK(id != NULL);
		CHECK(id->kind == (int)want[i].chip);
	}
	size_t n = 0;
	CHECK(rcm_tegra_usb_ids(&n) != NULL && n == 8);
	CHECK_STR_EQ(rcm_tegra_identify(0x0955, 0x7023)->name, "Jetson AGX Orin 64GB");
	CHECK_STR_EQ(rcm_tegra_chip_name(RCM_TEGRA_T194), "T194");
}

static void test_identify_rejects_unknown_ids(void)
{
	CHECK(rcm_tegra_identify(0x0955, 0x7020) == NULL); /* a normally booted Jetson */
	CHECK(mentions(err_msg(), "0955:7020"));
	CHECK(rcm_tegra_identify(0x1d6b, 0x7023) == NULL);
	CHECK(mentions(err_msg(), "1d6b:7023"));
}

/* ---- tests: a full boot --------------------------------------------------------------- */

/* Loads the test bundle for the device's chip and boots it into the simulated device t. */
static int run_boot_id(struct usb_transport *t, char id[RCM_TEGRA_ID_TEXT])
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	enum rcm_tegra_chip chip = sim.t234 ? RCM_TEGRA_T234 : RCM_TEGRA_T194;
	if (rcm_tegra_load_bundle(&b, bundle_dir, chip) != 0)
		return 99;
	options(&o);
	return rcm_tegra_boot(t, &b, &o, id);
}

static int run_boot(struct usb_transport *t)
{
	char id[RCM_TEGRA_ID_TEXT];
	return run_boot_id(t, id);
}

static void test_t234_boot_sends_the_expected_sequence(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	CHECK_STR_EQ(b.source, "NVIDIA's default names");
	CHECK(b.count == 6);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	options(&o);
	int rc = rcm_tegra_boot(&t, &b, &o, id);
	if (rc != 0)
		fprintf(stderr, "  %s (device: %s)\n", err_msg(), sim.violation);
	CHECK(rc == 0);
	CHECK(sim.violation[0] == '\0');
	CHECK(sim.state == T_DONE);
	CHECK_STR_EQ(id, test_cid);
	expect_t234_boot(1);
	CHECK(transcript_matches());
	for (size_t i = 0; i < sim.n; i++) /* no ZLP, one read, no piece over 16 KiB */
		CHECK(sim.log[i].dir != X_ZLP && sim.log[i].len <= 16384);
}

static void test_t234_boot_without_reopen_keeps_the_handle(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7323, 0);
	sim_expect_t234_files();
	CHECK(run_boot(&t) == 0);
	CHECK(sim.state == T_DONE && sim.reopens == 0);
	expect_t234_boot(0);
	CHECK(transcript_matches());
}

static void test_t234_boot_logs_cid_and_mb1_version(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	static char text[8192];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	options(&o);
	o.log = fmemopen(text, sizeof(text), "w");
	CHECK(o.log != NULL);
	CHECK(rcm_tegra_boot(&t, &b, &o, id) == 0);
	fclose(o.log);
	CHECK(mentions(text, "rcm: BR_CID 0x80012344705DF1975C000000110300C0\n"));
	CHECK(mentions(text, "rcm: MB1: version 1.4.0.1-t234-54845784-08e631ca, "
			     "last_boot_error 0\n"));
}

/* NVIDIA's tegrarcm_v2 prints a non-zero last_boot_error and goes on (DESIGN.md §13): so does
 * hostload, with a line that gives the value in decimal and hex */
static void test_t234_nonzero_last_boot_error_is_told_and_the_boot_goes_on(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	static char text[8192];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.boot_error = 0x1234;
	options(&o);
	o.log = fmemopen(text, sizeof(text), "w");
	CHECK(o.log != NULL);
	CHECK(rcm_tegra_boot(&t, &b, &o, id) == 0);
	fclose(o.log);
	CHECK(mentions(text, "rcm: MB1: version 1.4.0.1-t234-54845784-08e631ca, "
			     "last_boot_error 4660\n"));
	CHECK(mentions(text, "rcm: warning: MB1 (version 1.4.0.1-t234-54845784-08e631ca) reports "
			     "last_boot_error 4660 (0x00001234), not 0; NVIDIA's tegrarcm_v2 prints "
			     "it and carries on, and so does hostload"));
	CHECK(mentions(text, "boot files sent"));
	CHECK(sim.state == T_DONE); /* bct_mem and the blob were sent */
}

static void test_t234_short_version_answer(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.version_len = 64;
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "MB1 answered 64 bytes, expected 68"));
}

static void test_t234_cid_descriptor_is_checked(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.cid_reply_len = 8;
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "expected string descriptor 3 of 66 bytes holding 32 hex "
				  "digits, got 8 bytes"));
	CHECK(outs_recorded() == 0);
}

/* The old (T186/T194) sequence meets a T234: its bulk UID read, then its ZLP and status
 * reads, are refused. */
static void test_old_sequence_is_refused_by_a_t234(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	uint8_t uid[16];
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	options(&o);
	CHECK(rcm_tegra_read_uid(&t, &o, uid) == -1);
	CHECK(mentions(sim.violation, "bulk UID read"));
	/* a fresh device, the right UID request, then the old bootrom stage */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	b.chip = RCM_TEGRA_T194;
	o.timeout_ms = 5000; /* so that nothing but the old steps themselves differ */
	CHECK(rcm_tegra_send_bootrom_stage(&t, &b, &o) == -1);
	/* bct_br is 4096 bytes, a multiple of 512: the old path ends it with a ZLP */
	CHECK(mentions(sim.violation, "zero-length packet"));
	CHECK(mentions(err_msg(), "refused"));
	CHECK(sim.file == 1); /* bct_br itself arrived whole */
}

static void test_t234_device_refuses_zlp_status_order_and_big_pieces(void)
{
	struct usb_transport t;
	size_t sent;
	uint8_t buf[16385];
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	/* zero-length packet after a file */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == 0);
	CHECK(t.ops->send_zlp(&t, 5000, "end of bct_br") == -1);
	CHECK(mentions(sim.violation, "zero-length packet"));
	/* a status read after a file */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == 0);
	CHECK(t.ops->bulk_in(&t, buf, 4, 5000, &sent, "status") == -1);
	CHECK(mentions(sim.violation, "status read"));
	/* psc_bl1 before mb1 */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == 0);
	CHECK(t.ops->bulk_out(&t, content[F_PSC], 16384, 5000, &sent, "psc_bl1") == -1);
	CHECK(mentions(sim.violation, "out of order"));
	/* a piece over 16 KiB */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == 0);
	memcpy(buf, content[F_MB1], sizeof(buf));
	CHECK(t.ops->bulk_out(&t, buf, sizeof(buf), 5000, &sent, "mb1") == -1);
	CHECK(mentions(sim.violation, "piece over 16 KiB"));
	/* mb1 without NVDA */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(rcm_tegra_read_cid(&t, id) == 0);
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == 0);
	memcpy(buf, "ELF!", 4);
	CHECK(t.ops->bulk_out(&t, buf, 16384, 5000, &sent, "mb1") == -1);
	CHECK(mentions(sim.violation, "without NVDA"));
	/* a data transfer before the UID request */
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	CHECK(t.ops->bulk_out(&t, content[F_BCT_BR], 4096, 5000, &sent, "bct_br") == -1);
	CHECK(mentions(sim.violation, "outside a download stage"));
}

static void test_file_losing_nvda_after_loading_is_not_sent(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	memcpy(content[F_PSC], "XXXX", 4);
	put_bytes(t234_names[F_PSC], content[F_PSC], t234_sizes[F_PSC]);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	options(&o);
	CHECK(rcm_tegra_boot(&t, &b, &o, id) == -1);
	CHECK(mentions(err_msg(), "psc_bl1 file psc_bl1_t234_prod_aligned_sigheader.bin.encrypt "
				  "does not start with \"NVDA\""));
	CHECK(sim.violation[0] == '\0'); /* the device never saw it */
	CHECK(sim.file == 2 && sim.file_off == 0);
}

static void test_swapped_blob_is_sent_instead_of_the_file(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	uint8_t *other = pattern(20000, 77);
	CHECK(rcm_tegra_bundle_set_blob(&b, other, 20000) == 0);
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.file_data[F_BLOB] = other;
	sim.file_len[F_BLOB] = 20000;
	options(&o);
	CHECK(rcm_tegra_boot(&t, &b, &o, id) == 0);
	CHECK(sim.state == T_DONE);
	CHECK(mentions(sim.log[sim.n - 1].what, "blob blob.bin (kernel swapped) @16384"));
	free(other);
}

static void test_t194_boot_sends_rcm_messages_then_nv3p(void)
{
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	t194_bundle();
	sim_open(&t, 0x7e19, 0);
	script_t194_success();
	int rc = run_boot_id(&t, id);
	if (rc != 0)
		fprintf(stderr, "  %s\n", err_msg());
	CHECK(rc == 0);
	expect_t194_boot();
	CHECK(transcript_matches());
	CHECK(host_frames_sum_to_zero());
	CHECK(sim.next_reply == sim.n_replies); /* every answer was asked for */
	CHECK_STR_EQ(id, "0x80012344705DF0D77800000001000000");
}

static void test_nv3p_command_known_answer(void)
{
	/* DownloadBct of 3000 bytes as packet 0: the byte sum of the first 24 bytes is 0xcd */
	static const uint8_t want[28] = { 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
					  4, 0, 0, 0, 0xb8, 0x0b, 0, 0, 0x33, 0xff, 0xff, 0xff };
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	t194_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T194) == 0);
	sim_open(&t, 0x7e19, 0);
	reply_ack(0);
	reply_ack(1);
	reply_ack(2);
	options(&o);
	/* the MB1 stage alone: bct_mem's command is the first transfer */
	CHECK(rcm_tegra_send_mb1_stage(&t, &b, &o) != 0); /* blob's data gets no ACK */
	CHECK(sim.n > 0 && sim.log[0].len == sizeof(want));
	CHECK(memcmp(sim.log[0].data, want, sizeof(want)) == 0);
}

static void test_ack_split_over_two_reads_and_padded_is_accepted(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	t194_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T194) == 0);
	sim_open(&t, 0x7e19, 0);
	uint8_t ack[24];
	nv3p_reply(ack, 4, 0, 0, 0);
	sim_reply(ack, 8); /* first half */
	sim_reply(ack + 8, 8);
	nv3p_reply(ack, 4, 1, 0, 0);
	memset(ack + 16, 0xee, 8); /* padding after the ACK, as tegrarcm saw targets send */
	sim_reply(ack, 24);
	for (uint32_t seq = 2; seq < 6; seq++)
		reply_ack(seq);
	options(&o);
	int rc = rcm_tegra_send_mb1_stage(&t, &b, &o);
	if (rc != 0)
		fprintf(stderr, "  %s\n", err_msg());
	CHECK(rc == 0);
	CHECK(sim.next_reply == sim.n_replies);
}

/* ---- tests: failures during a boot ---------------------------------------------------- */

static void test_device_absent(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7023, 1);
	sim.absent = 1;
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "no chip UID"));
	CHECK(mentions(err_msg(), "went away"));
	CHECK(sim.n == 0);
}

static void test_short_uid_read(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	sim_reply(test_uid, 8);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "expected the 16-byte chip UID"));
	CHECK(mentions(err_msg(), "got 8 bytes"));
	CHECK(outs_recorded() == 0);
}

static void test_missing_uid_says_how_to_recover(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.cid_reply_len = 0; /* no answer */
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "recovery mode again"));
	CHECK(mentions(err_msg(), "no answer"));
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "recovery mode again"));
	CHECK(mentions(err_msg(), "no answer"));
}

static void test_short_write_stops_the_boot(void)
{
	struct usb_transport t;
	t234_bundle();
	sim_open(&t, 0x7023, 1);
	sim_expect_t234_files();
	sim.short_write_at = 2; /* bct_br, mb1 piece 1, mb1 piece 2 (at 16384) */
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "mb1"));
	CHECK(mentions(err_msg(), "took 8192 of 16384 bytes at offset 16384"));
	CHECK(outs_recorded() == 3);
	CHECK(sim.log[sim.n - 1].dir == X_OUT);
}

static void test_bad_status_word_names_stage_and_file(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	reply_status(0);
	reply_status(4); /* the second RCM message rejected */
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "bootrom stage: rcm (rcm_2_encrypt.rcm)"));
	CHECK(mentions(err_msg(), "status 0x00000004"));
	/* nothing after its status read: the MB1 stage was not started */
	CHECK(sim.log[sim.n - 1].dir == X_IN && sim.log[sim.n - 1].len == 4);
	CHECK(strstr(sim.log[sim.n - 1].what, "rcm_2") != NULL);
}

static void test_short_status_word(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	sim_reply("\0\0", 2);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "expected a 4-byte status word, got 2 bytes"));
}

static void test_nack_stops_the_mb1_stage(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	reply_status(0);
	reply_status(0);
	reply_ack(0);
	uint8_t nack[20];
	size_t nack_len = nv3p_reply(nack, 5, 1, 3, 0); /* bct_mem data: bad data */
	sim_reply(nack, nack_len);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "MB1 stage: bct_mem"));
	CHECK(mentions(err_msg(), "NACK code 3 (bad data)"));
	for (size_t i = 0; i < sim.n; i++)
		CHECK(strstr(sim.log[i].what, "blob") == NULL);
}

static void test_bad_ack_checksum(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	reply_status(0);
	reply_status(0);
	uint8_t ack[16];
	size_t ack_len = nv3p_reply(ack, 4, 0, 0, 1);
	sim_reply(ack, ack_len);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "bad checksum"));
}

static void test_ack_for_the_wrong_packet(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	reply_status(0);
	reply_status(0);
	reply_ack(0);
	reply_ack(5);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "ACK is for packet 5, expected 1"));
}

static void test_reply_that_is_not_nv3p(void)
{
	struct usb_transport t;
	t194_bundle();
	sim_open(&t, 0x7e19, 1);
	reply_uid();
	reply_status(0);
	reply_status(0);
	reply_status(0x55);
	reply_status(0x66);
	reply_status(0x77);
	reply_status(0x88);
	CHECK(run_boot(&t) == -1);
	CHECK(mentions(err_msg(), "expected an nv3p v1 ACK"));
}

static void test_device_of_another_chip_is_refused(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	sim_open(&t, 0x7019, 1);
	script_t194_success();
	options(&o);
	CHECK(rcm_tegra_boot(&t, &b, &o, id) == -1);
	CHECK(mentions(err_msg(), "Jetson AGX Xavier (T194)"));
	CHECK(mentions(err_msg(), "is for T234"));
	CHECK(sim.n == 0);
}

/* ---- tests: bundles ------------------------------------------------------------------- */

static void test_missing_file_is_named(void)
{
	struct rcm_tegra_bundle b;
	char path[512];
	t234_bundle();
	snprintf(path, sizeof(path), "%s/%s", bundle_dir, t234_names[F_PSC]);
	CHECK(unlink(path) == 0);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt (psc_bl1)"));
}

static void test_empty_bundle(void)
{
	struct rcm_tegra_bundle b;
	bundle_new();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "found no selfflash-rcm.txt, no rcmbootcmd.txt"));
	CHECK(mentions(err_msg(), "rcmboot_blob"));
	put_text("selfflash-rcm.txt", "# nothing yet\n\n");
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "selfflash-rcm.txt names no files"));
}

static void test_not_a_directory(void)
{
	struct rcm_tegra_bundle b;
	CHECK(rcm_tegra_load_bundle(&b, "/nonexistent/selfflash", RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "/nonexistent/selfflash"));
}

static void test_file_too_large_names_the_limit(void)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	uint8_t *big = pattern(RCM_TEGRA_BOOTROM_FILE_MAX + 1, 9);
	put_bytes(t234_names[F_MB1], big, RCM_TEGRA_BOOTROM_FILE_MAX + 1);
	free(big);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "mb1 file mb1_t234_prod_aligned_sigheader.bin.encrypt is "
				  "1048577 bytes"));
	CHECK(mentions(err_msg(), "limit for mb1 is 1048576 bytes"));
}

static void test_empty_file_is_refused(void)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	put_bytes(t234_names[F_BCT_MB1], "", 0);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "bct_mb1 file mb1_bct_MB1_sigheader.bct.encrypt is empty"));
}

static void test_rcmbootcmd_names_the_files(void)
{
	struct rcm_tegra_bundle b;
	bundle_new();
	/* a secure-boot bundle: NVIDIA's tool renamed the signed files */
	put_text("rcmbootcmd.txt",
		 "./tegrarcm_v2 --new_session --chip 0x23 0 --uid --download bct_br br_bct_BR.bct "
		 "--download mb1 mb1_t234_prod_aligned_sigheader_encrypt.bin.signed --download "
		 "psc_bl1 psc_bl1_t234_prod_aligned_sigheader_encrypt.bin.signed --download bct_mb1 "
		 "mb1_bct_MB1_sigheader_encrypt.bct.signed\n"
		 "./tegrarcm_v2 --chip 0x23 0 --pollbl --download bct_mem "
		 "mem_rcm_sigheader_encrypt.bct.signed --download blob ./blob.bin\n");
	static const char *const names[] = { "br_bct_BR.bct",
					     "mb1_t234_prod_aligned_sigheader_encrypt.bin.signed",
					     "psc_bl1_t234_prod_aligned_sigheader_encrypt.bin.signed",
					     "mb1_bct_MB1_sigheader_encrypt.bct.signed",
					     "mem_rcm_sigheader_encrypt.bct.signed", "blob.bin" };
	static const char *const kinds[] = { "bct_br", "mb1", "psc_bl1", "bct_mb1", "bct_mem",
					     "blob" };
	static const char data[16] = "NVDA contents"; /* mb1, psc_bl1, bct_mb1 need it */
	for (int i = 0; i < 6; i++)
		put_bytes(names[i], data, 4 + (size_t)i);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	CHECK_STR_EQ(b.source, "rcmbootcmd.txt");
	CHECK(b.count == 6);
	for (unsigned i = 0; i < 6; i++) {
		CHECK_STR_EQ(b.files[i].name, names[i]);
		CHECK_STR_EQ(b.files[i].kind, kinds[i]);
		CHECK(b.files[i].size == 4 + i);
		CHECK(b.files[i].stage == (i < 4 ? RCM_TEGRA_STAGE_BOOTROM : RCM_TEGRA_STAGE_MB1));
	}
}

static void test_rcmbootcmd_with_an_unknown_download(void)
{
	struct rcm_tegra_bundle b;
	bundle_new();
	put_text("rcmbootcmd.txt", "tegrarcm_v2 --download applet applet_t234.bin\n");
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "rcmbootcmd.txt line 1: --download applet"));
	CHECK(mentions(err_msg(), "selfflash-rcm.txt"));
}

static void test_list_file_overrides_names(void)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	put_text("rcmbootcmd.txt", "tegrarcm_v2 --download mb1 not-there.bin\n");
	put_text("first.bct", "abc");
	put_text("selfflash-rcm.txt",
		 "# my names\n"
		 "bct_br   first.bct\n"
		 "mb1      mb1_t234_prod_aligned_sigheader.bin.encrypt   # as NVIDIA names it\n"
		 "psc_bl1  psc_bl1_t234_prod_aligned_sigheader.bin.encrypt\n"
		 "bct_mb1  mb1_bct_MB1_sigheader.bct.encrypt\n"
		 "bct_mem  mem_rcm_sigheader.bct.encrypt\n"
		 "blob     blob.bin\n");
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	CHECK_STR_EQ(b.source, "selfflash-rcm.txt");
	CHECK(b.count == 6);
	CHECK_STR_EQ(b.files[0].name, "first.bct");
	CHECK(b.files[0].size == 3);
	CHECK_STR_EQ(b.files[2].kind, "psc_bl1");
}

static void test_t234_order_is_fixed(void)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	put_text("selfflash-rcm.txt",
		 "bct_br   br_bct_BR.bct\n"
		 "psc_bl1  psc_bl1_t234_prod_aligned_sigheader.bin.encrypt\n"
		 "mb1      mb1_t234_prod_aligned_sigheader.bin.encrypt\n"
		 "bct_mb1  mb1_bct_MB1_sigheader.bct.encrypt\n"
		 "bct_mem  mem_rcm_sigheader.bct.encrypt\n"
		 "blob     blob.bin\n");
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "mb1 is file 3 of the bootrom stage"));
	CHECK(mentions(err_msg(), "bct_br, mb1, psc_bl1, bct_mb1 in that order"));
}

static void test_t234_file_without_nvda_is_refused(void)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	uint8_t *plain = pattern(t234_sizes[F_BCT_MB1], 5);
	memcpy(plain, "\x7f" "ELF", 4);
	put_bytes(t234_names[F_BCT_MB1], plain, t234_sizes[F_BCT_MB1]);
	free(plain);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == -1);
	CHECK(mentions(err_msg(), "bct_mb1 file mb1_bct_MB1_sigheader.bct.encrypt starts with "
				  "7f 45 4c 46, expected \"NVDA\""));
	/* bct_br carries no signed header: anything goes */
	t234_bundle();
	put_bytes(t234_names[F_BCT_BR], "plain", 5);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
}

static void list_error(const char *list, enum rcm_tegra_chip chip, const char *part)
{
	struct rcm_tegra_bundle b;
	t234_bundle();
	put_text("selfflash-rcm.txt", list);
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, chip) == -1);
	CHECK(mentions(err_msg(), part));
}

static void test_list_file_errors(void)
{
	list_error("bct_br\n", RCM_TEGRA_T234, "line 1: expected \"KIND FILE\"");
	list_error("bct_br a b\n", RCM_TEGRA_T234, "more than two words");
	list_error("kernel Image\n", RCM_TEGRA_T234, "unknown kind \"kernel\"");
	list_error("bct_br br_bct_BR.bct\nbct_br br_bct_BR.bct\n", RCM_TEGRA_T234,
		   "line 2: bct_br is listed twice");
	list_error("psc_bl1 x\n", RCM_TEGRA_T194, "psc_bl1 is not part of a T194 boot");
	list_error("mb1 ../mb1.bin\n", RCM_TEGRA_T234, "expected a plain file name");
	list_error("bct_mem a\nmb1 b\n", RCM_TEGRA_T234,
		   "line 2: mb1 (bootrom stage) comes after bct_mem (MB1 stage)");
	list_error("bct_br br_bct_BR.bct\nmb1 mb1_t234_prod_aligned_sigheader.bin.encrypt\n"
		   "bct_mb1 mb1_bct_MB1_sigheader.bct.encrypt\nbct_mem "
		   "mem_rcm_sigheader.bct.encrypt\nblob blob.bin\n",
		   RCM_TEGRA_T234, "psc_bl1 is missing");
	list_error("bct_br br_bct_BR.bct\nmb1 mb1_t234_prod_aligned_sigheader.bin.encrypt\n"
		   "psc_bl1 psc_bl1_t234_prod_aligned_sigheader.bin.encrypt\n"
		   "bct_mb1 mb1_bct_MB1_sigheader.bct.encrypt\nblob blob.bin\n",
		   RCM_TEGRA_T234, "MB1 stage must be bct_mem then blob, found blob");
	list_error("bct_br br_bct_BR.bct\nmb1 mb1_t234_prod_aligned_sigheader.bin.encrypt\n"
		   "psc_bl1 psc_bl1_t234_prod_aligned_sigheader.bin.encrypt\n"
		   "bct_mb1 mb1_bct_MB1_sigheader.bct.encrypt\nbct_mem nope.bct\nblob blob.bin\n",
		   RCM_TEGRA_T234, "bct_mem file nope.bct (from selfflash-rcm.txt): missing");
}

/* ---- tests: the dry run --------------------------------------------------------------- */

static size_t count_lines(const char *text, const char *part)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part))
		n++;
	return n;
}

static void test_dry_run_prints_every_transfer_and_sends_nothing(void)
{
	struct rcm_tegra_bundle b;
	struct rcm_tegra_options o;
	struct usb_transport t;
	char id[RCM_TEGRA_ID_TEXT];
	static char text[32768];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	FILE *out = fmemopen(text, sizeof(text), "w");
	CHECK(out != NULL);
	usb_dryrun_open(&t, out, 0x0955, 0x7023);
	CHECK(t.dry_run == 1);
	options(&o);
	o.mb1_settle_ms = 60000; /* a dry run must not wait */
	int rc = rcm_tegra_boot(&t, &b, &o, id);
	usb_transport_close(&t);
	fclose(out);
	if (rc != 0)
		fprintf(stderr, "  %s\n", err_msg());
	CHECK(rc == 0);
	/* the same plan as the simulated device saw: count transfers by direction */
	expect_t234_boot(1);
	size_t outs = 0, ins = 0;
	for (size_t i = 0; i < n_expect; i++) {
		outs += expect[i].dir == X_OUT;
		ins += expect[i].dir == X_IN;
	}
	CHECK(count_lines(text, "\nOUT ") + (strncmp(text, "OUT ", 4) == 0) == outs);
	CHECK(count_lines(text, "\nIN  ") == ins);
	CHECK(count_lines(text, "CTRL IN ") == 1);
	CHECK(count_lines(text, "zero-length") == 0);
	CHECK(count_lines(text, "status") == 0);
	CHECK(strncmp(text, "CTRL IN   130 bytes  bmRequestType 0x80 bRequest 6 wValue 0x0303 "
			    "wIndex 0, 5000 ms: GET_DESCRIPTOR string 3", 87) == 0);
	CHECK(mentions(text, "OUT     16384 bytes  mb1 mb1_t234_prod_aligned_sigheader.bin.encrypt "
			     "@16384, 5000 ms\n"));
	CHECK(mentions(text, "OUT      7232 bytes  mb1 mb1_t234_prod_aligned_sigheader.bin.encrypt "
			     "@32768, 5000 ms\n"));
	CHECK(mentions(text, "--- close dry-run, wait up to"));
	CHECK(mentions(text, "IN         96 bytes  MB1 version and last_boot_error"));
	CHECK(mentions(text, "OUT      3000 bytes  bct_mem mem_rcm_sigheader.bct.encrypt @0"));
	CHECK(mentions(text, "OUT      4464 bytes  blob blob.bin @65536"));
	CHECK(strstr(text, "--- close") < strstr(text, "IN         96"));
	CHECK(strstr(text, "IN         96") < strstr(text, "bct_mem mem_rcm"));
	CHECK_STR_EQ(id, "(dry run)");
}

static void test_print_bundle(void)
{
	struct rcm_tegra_bundle b;
	static char text[4096];
	t234_bundle();
	CHECK(rcm_tegra_load_bundle(&b, bundle_dir, RCM_TEGRA_T234) == 0);
	FILE *out = fmemopen(text, sizeof(text), "w");
	CHECK(out != NULL);
	rcm_tegra_print_bundle(out, &b);
	fclose(out);
	CHECK(mentions(text, "for T234 (files from NVIDIA's default names)"));
	CHECK(mentions(text, "bootrom stage bct_br         4096  br_bct_BR.bct\n"));
	CHECK(mentions(text, "MB1 stage     blob          70000  blob.bin\n"));
}

int main(void)
{
	RUN(test_identify_maps_every_recovery_product_to_its_chip);
	RUN(test_identify_rejects_unknown_ids);
	RUN(test_t234_boot_sends_the_expected_sequence);
	RUN(test_t234_boot_without_reopen_keeps_the_handle);
	RUN(test_t234_boot_logs_cid_and_mb1_version);
	RUN(test_t234_nonzero_last_boot_error_is_told_and_the_boot_goes_on);
	RUN(test_t234_short_version_answer);
	RUN(test_t234_cid_descriptor_is_checked);
	RUN(test_old_sequence_is_refused_by_a_t234);
	RUN(test_t234_device_refuses_zlp_status_order_and_big_pieces);
	RUN(test_file_losing_nvda_after_loading_is_not_sent);
	RUN(test_swapped_blob_is_sent_instead_of_the_file);
	RUN(test_t194_boot_sends_rcm_messages_then_nv3p);
	RUN(test_nv3p_command_known_answer);
	RUN(test_ack_split_over_two_reads_and_padded_is_accepted);
	RUN(test_device_absent);
	RUN(test_short_uid_read);
	RUN(test_missing_uid_says_how_to_recover);
	RUN(test_short_write_stops_the_boot);
	RUN(test_bad_status_word_names_stage_and_file);
	RUN(test_short_status_word);
	RUN(test_nack_stops_the_mb1_stage);
	RUN(test_bad_ack_checksum);
	RUN(test_ack_for_the_wrong_packet);
	RUN(test_reply_that_is_not_nv3p);
	RUN(test_device_of_another_chip_is_refused);
	RUN(test_missing_file_is_named);
	RUN(test_empty_bundle);
	RUN(test_not_a_directory);
	RUN(test_file_too_large_names_the_limit);
	RUN(test_empty_file_is_refused);
	RUN(test_rcmbootcmd_names_the_files);
	RUN(test_rcmbootcmd_with_an_unknown_download);
	RUN(test_list_file_overrides_names);
	RUN(test_t234_order_is_fixed);
	RUN(test_t234_file_without_nvda_is_refused);
	RUN(test_list_file_errors);
	RUN(test_dry_run_prints_every_transfer_and_sends_nothing);
	RUN(test_print_bundle);
	sim_close(&(struct usb_transport){ .priv = &sim });
	bundle_remove();
	for (int i = 0; i < F_COUNT; i++)
		free(content[i]);
	return CHECK_EXIT();
}
