/* SPDX-License-Identifier: MIT */
/* A UEFI capsule and the NVIDIA update package in it, checked as hostile bytes (capsule.h). */
#include "capsule.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "le.h"

/* EFI_CAPSULE_HEADER: CapsuleGuid[16], HeaderSize u32, Flags u32, CapsuleImageSize u32 */
#define CAP_HEADER_MIN 28
/* EFI_FIRMWARE_MANAGEMENT_CAPSULE_HEADER: Version u32 (1), EmbeddedDriverCount u16,
 * PayloadItemCount u16, then u64 ItemOffsetList[] (offsets from this header) */
#define FMP_HEADER_SIZE 8
#define FMP_MAX_ITEMS 64
/* EFI_FIRMWARE_MANAGEMENT_CAPSULE_IMAGE_HEADER: 32 bytes (v1), 40 (v2), 48 (v3) */
#define FMP_ITEM_HEADER_V1 32
/* EFI_FIRMWARE_IMAGE_AUTHENTICATION: MonotonicCount u64, WIN_CERTIFICATE_UEFI_GUID (dwLength
 * u32, wRevision u16 0x0200, wCertificateType u16 0x0EF1, CertType[16], data) */
#define WIN_CERT_REVISION 0x0200u
#define WIN_CERT_TYPE_EFI_GUID 0x0EF1u
/* FMP_PAYLOAD_HEADER (FmpDevicePkg): Signature "MSS1", HeaderSize u32, ... */
#define FMP_PAYLOAD_SIGNATURE "MSS1"
/* FW_PACKAGE_HEADER up to ImageCount..UncompressedSize: 16 + 6 * 4 */
#define BUP_HEADER_MIN 40

static void guid_text(const uint8_t *g, char out[37])
{
	snprintf(out, 37, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 le32_load(g), le16_load(g + 4), le16_load(g + 6), g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

/* A NUL inside the field (C string within it). */
static int terminated(const uint8_t *p, size_t n)
{
	return memchr(p, 0, n) != NULL;
}

static int parse_bup(const uint8_t *b, uint64_t avail, struct capsule_info *ci)
{
	uint32_t size = le32_load(b + 20), hsize = le32_load(b + 24), count = le32_load(b + 28);
	uint32_t type = le32_load(b + 32);
	if (size > avail)
		return err_set("BUP: package size %" PRIu32 " is past the capsule payload (%" PRIu64
			       " bytes)", size, avail);
	if (hsize < BUP_HEADER_MIN || hsize > size)
		return err_set("BUP: header size %" PRIu32 " (expected %d..%" PRIu32 ")", hsize,
			       BUP_HEADER_MIN, size);
	if (type != 0)
		return err_set("BUP: type %" PRIu32 " is not a firmware package (0)", type);
	if (count == 0 || count > CAPSULE_BUP_MAX_ENTRIES)
		return err_set("BUP: %" PRIu32 " entries (expected 1..%d)", count,
			       CAPSULE_BUP_MAX_ENTRIES);
	uint64_t total = (uint64_t)hsize + (uint64_t)count * CAPSULE_BUP_ENTRY_SIZE;
	if (total > size)
		return err_set("BUP: %" PRIu32 " entries do not fit its %" PRIu32 " bytes", count,
			       size);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = b + hsize + (uint64_t)i * CAPSULE_BUP_ENTRY_SIZE;
		uint32_t off = le32_load(e + 40), bytes = le32_load(e + 44), mode = le32_load(e + 52);
		if (!terminated(e, CAPSULE_BUP_NAME_LEN) ||
		    !terminated(e + 56, CAPSULE_BUP_TNSPEC_LEN))
			return err_set("BUP entry %" PRIu32 ": name or TnSpec not terminated", i);
		if (mode > 2)
			return err_set("BUP entry %" PRIu32 " (%s): update mode %" PRIu32
				       " (expected 0..2)", i, (const char *)e, mode);
		if ((uint64_t)off + bytes > size)
			return err_set("BUP entry %" PRIu32 " (%s): bytes [%" PRIu32 ", +%" PRIu32
				       ") past the package's %" PRIu32, i, (const char *)e, off,
				       bytes, size);
		total += bytes;
	}
	/* FwPackageValidateImageInfoArray: header + entries + every image's bytes, exactly */
	if (total != size)
		return err_set("BUP: header, entries and images make %" PRIu64 " bytes, its header "
			       "says %" PRIu32, total, size);
	ci->has_bup = 1;
	ci->bup = b;
	ci->bup_size = size;
	ci->bup_header_size = hsize;
	ci->bup_count = count;
	return 0;
}

/* The BUP in the payload p of n bytes: after an authentication and an FMP payload header. */
static int find_bup(const uint8_t *p, uint64_t n, struct capsule_info *ci)
{
	if (n >= 16 + 8 && le16_load(p + 12) == WIN_CERT_REVISION &&
	    le16_load(p + 14) == WIN_CERT_TYPE_EFI_GUID) {
		uint64_t skip = 8 + (uint64_t)le32_load(p + 8);
		if (le32_load(p + 8) < 24 || skip > n)
			return err_set("capsule: authentication header of %" PRIu32 " bytes in a %"
				       PRIu64 "-byte payload", le32_load(p + 8), n);
		p += skip;
		n -= skip;
	}
	if (n >= 16 && memcmp(p, FMP_PAYLOAD_SIGNATURE, 4) == 0) {
		uint32_t h = le32_load(p + 4);
		if (h < 16 || h > n)
			return err_set("capsule: FMP payload header of %" PRIu32 " bytes", h);
		ci->has_fw_version = 1;
		ci->fw_version = le32_load(p + 8);
		p += h;
		n -= h;
	}
	if (n < BUP_HEADER_MIN || memcmp(p, CAPSULE_BUP_MAGIC, 16) != 0) {
		snprintf(ci->no_bup, sizeof(ci->no_bup), "no %s package where the payload's data "
			 "starts", CAPSULE_BUP_MAGIC);
		return 0;
	}
	return parse_bup(p, n, ci);
}

int capsule_parse(const uint8_t *buf, uint64_t len, struct capsule_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	char guid[37];
	if (len < CAP_HEADER_MIN)
		return err_set("capsule: %" PRIu64 " bytes, shorter than a capsule header", len);
	if (len > CAPSULE_MAX_SIZE)
		return err_set("capsule: %" PRIu64 " bytes, more than %u MiB", len,
			       CAPSULE_MAX_SIZE >> 20);
	guid_text(buf, guid);
	if (strcmp(guid, CAPSULE_FMP_GUID) != 0)
		return err_set("capsule GUID %s is not the FMP capsule's (%s): not a firmware "
			       "capsule", guid, CAPSULE_FMP_GUID);
	uint32_t hs = le32_load(buf + 16), image = le32_load(buf + 24);
	ci->flags = le32_load(buf + 20);
	if (image != len)
		return err_set("capsule header says %" PRIu32 " bytes, the file has %" PRIu64, image,
			       len);
	if (hs < CAP_HEADER_MIN || (uint64_t)hs + FMP_HEADER_SIZE > len)
		return err_set("capsule header size %" PRIu32 " in a %" PRIu64 "-byte capsule", hs,
			       len);
	const uint8_t *fmp = buf + hs;
	uint64_t fmp_len = len - hs;
	uint32_t drivers = le16_load(fmp + 4), payloads = le16_load(fmp + 6);
	if (le32_load(fmp) != 1)
		return err_set("FMP capsule header version %" PRIu32 " (expected 1)", le32_load(fmp));
	if (payloads == 0 || drivers + payloads > FMP_MAX_ITEMS)
		return err_set("FMP capsule: %" PRIu32 " drivers and %" PRIu32 " payloads (expected "
			       "1..%d payloads)", drivers, payloads, FMP_MAX_ITEMS);
	if (FMP_HEADER_SIZE + 8 * (uint64_t)(drivers + payloads) > fmp_len)
		return err_set("FMP capsule: item list past the end");
	uint64_t item = le64_load(fmp + FMP_HEADER_SIZE + 8 * (uint64_t)drivers);
	if (item > fmp_len || fmp_len - item < FMP_ITEM_HEADER_V1)
		return err_set("FMP capsule: payload at %" PRIu64 " past the end", item);
	const uint8_t *it = fmp + item;
	uint32_t version = le32_load(it);
	if (version < 1 || version > 3)
		return err_set("FMP payload header version %" PRIu32 " (expected 1..3)", version);
	uint64_t ihs = FMP_ITEM_HEADER_V1 + 8 * (uint64_t)(version - 1);
	guid_text(it + 4, ci->image_type);
	ci->payload_size = le32_load(it + 24);
	uint64_t vendor = le32_load(it + 28);
	if (item + ihs + ci->payload_size + vendor > fmp_len)
		return err_set("FMP payload of %" PRIu32 " bytes past the capsule's end",
			       ci->payload_size);
	return find_bup(it + ihs, ci->payload_size, ci);
}

void capsule_bup_entry(const struct capsule_info *ci, uint32_t i, struct capsule_bup_entry *e)
{
	const uint8_t *p = ci->bup + ci->bup_header_size + (uint64_t)i * CAPSULE_BUP_ENTRY_SIZE;
	memset(e, 0, sizeof(*e));
	memcpy(e->name, p, CAPSULE_BUP_NAME_LEN);
	e->offset = le32_load(p + 40);
	e->bytes = le32_load(p + 44);
	e->version = le32_load(p + 48);
	e->update_mode = le32_load(p + 52);
	memcpy(e->tnspec, p + 56, CAPSULE_BUP_TNSPEC_LEN);
}

/* Field k of a '-' separated spec into out (empty when it has fewer); the field count. */
static size_t field(const char *s, size_t k, char *out, size_t size)
{
	size_t n = 0;
	out[0] = 0;
	for (const char *p = s;; n++) {
		size_t len = strcspn(p, "-");
		if (n == k)
			snprintf(out, size, "%.*s", (int)len, p);
		if (!p[len])
			return n + 1;
		p += len + 1;
	}
}

int capsule_tnspec_match(const char *spec, const char *entry_spec)
{
	size_t n = field(spec, 0, (char[2]){0}, 1);
	if (n != field(entry_spec, 0, (char[2]){0}, 1))
		return 0;
	for (size_t k = 0; k < n; k++) {
		char a[CAPSULE_BUP_TNSPEC_LEN + 1], b[CAPSULE_BUP_TNSPEC_LEN + 1];
		field(spec, k, a, sizeof(a));
		field(entry_spec, k, b, sizeof(b));
		if (a[0] && b[0] && strcmp(a, b) != 0)
			return 0;
	}
	return 1;
}

/* board id (field 0) and SKU (field 2) of entry_spec against the given ones */
static int board_match(const char *entry_spec, const char *board, const char *sku)
{
	char b[CAPSULE_BUP_TNSPEC_LEN + 1], s[CAPSULE_BUP_TNSPEC_LEN + 1];
	field(entry_spec, 0, b, sizeof(b));
	field(entry_spec, 2, s, sizeof(s));
	return (!board || !board[0] || !b[0] || strcmp(board, b) == 0) &&
	       (!sku || !sku[0] || !s[0] || strcmp(sku, s) == 0);
}

int capsule_bup_names_board(const struct capsule_info *ci, const char *spec, const char *board,
			    const char *sku, char *seen, size_t seen_size)
{
	int with_spec = 0;
	if (seen_size)
		seen[0] = 0;
	for (uint32_t i = 0; ci->has_bup && i < ci->bup_count; i++) {
		struct capsule_bup_entry e;
		capsule_bup_entry(ci, i, &e);
		if (!e.tnspec[0])
			continue;
		if (!with_spec++ && seen_size)
			snprintf(seen, seen_size, "%s", e.tnspec);
		if (spec ? capsule_tnspec_match(spec, e.tnspec) : board_match(e.tnspec, board, sku))
			return 1;
	}
	return with_spec == 0;
}
