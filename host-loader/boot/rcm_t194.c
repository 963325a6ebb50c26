/* SPDX-License-Identifier: MIT */
/*
 * T194 recovery-mode boot (products 0x7019 AGX Xavier, 0x7e19 Xavier NX), the older path, kept
 * as it was built: the UID on bulk IN, a status word after each bootrom file, nv3p to MB1.
 *
 * Where each fact comes from (none of this has been tried on a board):
 * - A public forum log of a pre-signed Xavier NX rcm boot sends "--rcm rcm_1_encrypt.rcm
 *   --rcm rcm_2_encrypt.rcm" to the bootrom, then bct_mem and blob. The T186/T194 bootrom
 *   sends a 16-byte UID on bulk IN at connect (DESIGN.md §6); after each file a zero-length
 *   packet when its length is a multiple of the packet size and a 4-byte status word
 *   (NVIDIA's open-source tegrarcm reads one after an RCM message). T194 has no PSC.
 * - nv3p v1 framing to MB1, from NVIDIA's open-source tegrarcm (src/nv3p.c, for the
 *   T20..T124 miniloader): 12-byte header (version 1, type, sequence; CMD 1, DATA 2, ACK 4,
 *   NACK 5), all little-endian u32; CMD = header, argument length, command, arguments,
 *   checksum; DATA = header, length, data, checksum; ACK = header, checksum; NACK = header,
 *   code, checksum; checksum = two's complement of the byte sum of everything before it;
 *   packets numbered from 0, each ACK repeating the number. DownloadBct = 4,
 *   DownloadBootloader = 6 from NVIDIA's nvflash nv3p.h (Android sources). That T194's MB1
 *   speaks it for bct_mem and blob is an assumption, not confirmed.
 */
#include "rcm_internal.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "le.h"

int rcm_tegra_read_uid(struct usb_transport *t, const struct rcm_tegra_options *o,
		       uint8_t uid[RCM_TEGRA_UID_LEN])
{
	size_t got = 0;
	memset(uid, 0, RCM_TEGRA_UID_LEN);
	if (t->ops->bulk_in(t, uid, RCM_TEGRA_UID_LEN, o->timeout_ms, &got, "chip UID") != 0)
		return err_prefix("%s: no chip UID from the bootrom (it sends one when connected; "
				  "if another program talked to the board since it entered "
				  "recovery mode, put it into recovery mode again)", t->path);
	if (t->dry_run)
		return 0;
	if (got != RCM_TEGRA_UID_LEN)
		return err_set("%s: expected the %d-byte chip UID the bootrom sends when connected, "
			       "got %zu bytes", t->path, RCM_TEGRA_UID_LEN, got);
	return 0;
}

static int bootrom_send_file(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_file *f, const struct rcm_tegra_options *o)
{
	if (rcm_send_file(t, b, f, o, o->timeout_ms) != 0)
		return -1;
	char what[RCM_TEGRA_NAME_MAX + 64];
	if (f->size % rcm_packet_size(t) == 0) {
		snprintf(what, sizeof(what), "end of %s %s", f->kind, f->name);
		if (t->ops->send_zlp(t, o->timeout_ms, what) != 0)
			return err_prefix("bootrom stage");
	}
	uint8_t status[4] = { 0 };
	size_t got = 0;
	snprintf(what, sizeof(what), "status after %s %s", f->kind, f->name);
	if (t->ops->bulk_in(t, status, sizeof(status), o->timeout_ms, &got, what) != 0)
		return err_prefix("bootrom stage: %s (%s)", f->kind, f->name);
	if (t->dry_run)
		return 0;
	if (got != sizeof(status))
		return err_set("bootrom stage: %s (%s): expected a 4-byte status word, got %zu "
			       "bytes", f->kind, f->name, got);
	uint32_t word = le32_load(status);
	if (word != 0)
		return err_set("bootrom stage: %s (%s): the bootrom answered status 0x%08x, "
			       "expected 0 (file rejected: signed for another chip, board or key?)",
			       f->kind, f->name, word);
	return 0;
}

int rcm_t194_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				const struct rcm_tegra_options *o)
{
	for (unsigned i = 0; i < b->count; i++)
		if (b->files[i].stage == RCM_TEGRA_STAGE_BOOTROM &&
		    bootrom_send_file(t, b, &b->files[i], o) != 0)
			return -1;
	return 0;
}

/* ---- nv3p v1 -------------------------------------------------------------------------- */

#define NV3P_VERSION 1u
#define NV3P_TYPE_CMD 1u
#define NV3P_TYPE_DATA 2u
#define NV3P_TYPE_ACK 4u
#define NV3P_TYPE_NACK 5u
#define NV3P_HEADER 12u
#define NV3P_CMD_DOWNLOAD_BCT 4u
#define NV3P_CMD_DOWNLOAD_BOOTLOADER 6u
/* Room for a few packets of the largest bulk size the reply could come in. */
#define NV3P_RX_MAX 4096u

struct nv3p {
	struct usb_transport *t;
	const struct rcm_tegra_bundle *b;
	const struct rcm_tegra_options *o;
	const struct rcm_tegra_file *f;
	uint32_t seq; /* number of the next packet the host sends */
};

static uint32_t byte_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void nv3p_header(uint8_t *p, uint32_t type, uint32_t seq)
{
	le32_store(p, NV3P_VERSION);
	le32_store(p + 4, type);
	le32_store(p + 8, seq);
}

static const char *nack_name(uint32_t code)
{
	switch (code) {
	case 1:
		return "success";
	case 2:
		return "bad command";
	case 3:
		return "bad data";
	}
	return "unknown code";
}

/* One nv3p packet's bytes (part names them in messages: "a data header"); the device must take
 * them all. */
static int nv3p_write(struct nv3p *s, const uint8_t *p, size_t n, const char *what,
		      const char *part)
{
	size_t sent = 0;
	if (s->t->ops->bulk_out(s->t, p, n, s->o->timeout_ms, &sent, what) != 0)
		return err_prefix("MB1 stage");
	if (sent != n)
		return err_set("MB1 stage: %s (%s): the device took %zu of %zu bytes of %s",
			       s->f->kind, s->f->name, sent, n, part);
	return 0;
}

/* Reads the ACK for packet `seq`; a NACK, bad checksum, other number or type is an error. */
static int nv3p_wait_ack(struct nv3p *s, uint32_t seq, const char *packet)
{
	const struct rcm_tegra_file *f = s->f;
	uint8_t buf[NV3P_RX_MAX];
	size_t have = 0, need = NV3P_HEADER + 4;
	uint32_t want = rcm_packet_size(s->t);
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p ACK of %s %u (%s)", packet, seq, f->kind);
	if (want > NV3P_RX_MAX / 2)
		want = NV3P_RX_MAX / 2;
	while (have < need) {
		size_t got = 0;
		if (have + want > sizeof(buf))
			return err_set("MB1 stage: %s (%s): reply to %s %u is not a complete "
				       "ACK/NACK after %zu bytes", f->kind, f->name, packet, seq,
				       have);
		if (s->t->ops->bulk_in(s->t, buf + have, want, s->o->timeout_ms, &got, what) != 0)
			return err_prefix("MB1 stage: %s (%s)", f->kind, f->name);
		if (s->t->dry_run)
			return 0;
		if (got == 0)
			return err_set("MB1 stage: %s (%s): empty reply to %s %u, expected an nv3p "
				       "ACK", f->kind, f->name, packet, seq);
		have += got;
		if (have >= NV3P_HEADER && le32_load(buf + 4) == NV3P_TYPE_NACK)
			need = NV3P_HEADER + 8;
	}
	uint32_t version = le32_load(buf), type = le32_load(buf + 4), rseq = le32_load(buf + 8);
	if (version != NV3P_VERSION || (type != NV3P_TYPE_ACK && type != NV3P_TYPE_NACK))
		return err_set("MB1 stage: %s (%s): expected an nv3p v1 ACK (version 1, type 4) for "
			       "%s %u, got version %u type %u (is MB1 running and speaking nv3p "
			       "v1?)", f->kind, f->name, packet, seq, version, type);
	size_t body = need - 4;
	if (byte_sum(buf, body) + le32_load(buf + body) != 0)
		return err_set("MB1 stage: %s (%s): reply to %s %u has a bad checksum "
			       "(0x%08x, bytes sum to 0x%08x)", f->kind, f->name, packet, seq,
			       le32_load(buf + body), byte_sum(buf, body));
	if (type == NV3P_TYPE_NACK) {
		uint32_t code = le32_load(buf + 12);
		return err_set("MB1 stage: %s (%s): MB1 sent NACK code %u (%s) for %s %u",
			       f->kind, f->name, code, nack_name(code), packet, seq);
	}
	if (rseq != seq)
		return err_set("MB1 stage: %s (%s): ACK is for packet %u, expected %u", f->kind,
			       f->name, rseq, seq);
	return 0;
}

static int nv3p_send_command(struct nv3p *s, uint32_t command, const uint8_t *args,
			     uint32_t args_len)
{
	uint8_t pkt[NV3P_HEADER + 8 + 16 + 4];
	if (args_len > 16)
		return err_set("nv3p: command arguments of %u bytes, expected at most 16", args_len);
	nv3p_header(pkt, NV3P_TYPE_CMD, s->seq);
	le32_store(pkt + NV3P_HEADER, args_len);
	le32_store(pkt + NV3P_HEADER + 4, command);
	memcpy(pkt + NV3P_HEADER + 8, args, args_len);
	size_t body = NV3P_HEADER + 8 + args_len;
	le32_store(pkt + body, 0u - byte_sum(pkt, body));
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p command %u #%u for %s %s", command, s->seq, s->f->kind,
		 s->f->name);
	if (nv3p_write(s, pkt, body + 4, what, "the nv3p command") != 0)
		return -1;
	return nv3p_wait_ack(s, s->seq++, "command");
}

static int nv3p_send_data(struct nv3p *s, const struct rcm_source *src, uint64_t off,
			  uint32_t len)
{
	uint8_t head[NV3P_HEADER + 4];
	nv3p_header(head, NV3P_TYPE_DATA, s->seq);
	le32_store(head + NV3P_HEADER, len);
	uint32_t sum = byte_sum(head, sizeof(head));
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p data #%u header for %s %s @%llu", s->seq, s->f->kind,
		 s->f->name, (unsigned long long)off);
	if (nv3p_write(s, head, sizeof(head), what, "a data header") != 0)
		return -1;
	if (rcm_send_pieces(s->t, s->b, s->o->timeout_ms, src, s->f, off, len, &sum, 0) != 0)
		return -1;
	uint8_t check[4];
	le32_store(check, 0u - sum);
	snprintf(what, sizeof(what), "nv3p data #%u checksum for %s %s", s->seq, s->f->kind,
		 s->f->name);
	if (nv3p_write(s, check, sizeof(check), what, "a data checksum") != 0)
		return -1;
	return nv3p_wait_ack(s, s->seq++, "data packet");
}

static int mb1_send_file(struct nv3p *s, const struct rcm_tegra_bundle *b)
{
	const struct rcm_tegra_file *f = s->f;
	uint8_t args[16];
	uint32_t command, args_len;
	if (strcmp(f->kind, "bct_mem") == 0) {
		/* bundle limits keep this far below 4 GiB */
		command = NV3P_CMD_DOWNLOAD_BCT;
		le32_store(args, (uint32_t)f->size);
		args_len = 4;
	} else {
		command = NV3P_CMD_DOWNLOAD_BOOTLOADER;
		le64_store(args, f->size);
		le32_store(args + 8, 0); /* load address: MB1 knows where the blob goes */
		le32_store(args + 12, 0); /* entry point: likewise */
		args_len = 16;
	}
	struct rcm_source src;
	if (rcm_source_open(b, f, &src) != 0)
		return -1;
	rcm_log_step(s->o, "MB1 stage: sending %s %s (%llu bytes)", f->kind, f->name,
		     (unsigned long long)f->size);
	int rc = nv3p_send_command(s, command, args, args_len);
	for (uint64_t off = 0; rc == 0 && off < f->size;) {
		uint64_t left = f->size - off;
		uint32_t n = left < s->o->nv3p_data_max ? (uint32_t)left : s->o->nv3p_data_max;
		rc = nv3p_send_data(s, &src, off, n);
		off += n;
	}
	rcm_source_close(&src);
	return rc;
}

int rcm_t194_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			    const struct rcm_tegra_options *o)
{
	struct nv3p s = { t, b, o, NULL, 0 };
	for (unsigned i = 0; i < b->count; i++) {
		if (b->files[i].stage != RCM_TEGRA_STAGE_MB1)
			continue;
		s.f = &b->files[i];
		if (mb1_send_file(&s, b) != 0)
			return -1;
	}
	return 0;
}
