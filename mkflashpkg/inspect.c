/* SPDX-License-Identifier: MIT */
/* Package inspection on the host: open, show, verify. */
#include "inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunk.h"
#include "error.h"

static void guid_format(const uint8_t g[16], char out[37])
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	char *p = out;
	for (int i = 0; i < 16; i++) {
		p += sprintf(p, "%02X", g[order[i]]);
		if (i == 3 || i == 5 || i == 7 || i == 9)
			*p++ = '-';
	}
	*p = '\0';
}

static int nonzero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

void pkg_file_show(const struct pkg_file *f, FILE *out, int chunks)
{
	const struct pkg_header *h = &f->header;
	const struct pkg_manifest *m = &f->manifest;
	char id[2 * PKG_KEY_ID_LEN + 1];
	pkg_key_id_hex(h->key_id, id);
	fprintf(out, "package: format %" PRIu32 ", %" PRIu64 " bytes (manifest %" PRIu64
		     ", data %" PRIu64 "), chunk size %" PRIu32 "\n",
		h->version, h->package_size, h->manifest_size, h->data_size, m->chunk_size);
	if (m->system_version)
		fprintf(out, "system version: %" PRIu64 "\n", m->system_version);
	else
		fprintf(out, "system version: none (no anti-rollback)\n");
	if (h->flags & PKG_FLAG_SIGNED)
		fprintf(out, "signature: ECDSA P-256, key id %s\n", id);
	else
		fprintf(out, "signature: none (UNSIGNED, development only)\n");
	for (uint32_t i = 0; i < m->variant_count; i++) {
		struct pkg_variant v;
		pkg_manifest_variant(m, i, &v);
		fprintf(out, "variant %" PRIu32 ": %s board=%s sku=%s fab=%s chip=%s\n", i, v.name,
			v.board[0] ? v.board : "*", v.sku[0] ? v.sku : "*", v.fab[0] ? v.fab : "*",
			v.chip_sku[0] ? v.chip_sku : "*");
	}
	for (uint32_t t = 0; t < m->target_count; t++) {
		struct pkg_target tg;
		pkg_manifest_target(m, t, &tg);
		fprintf(out, "target %" PRIu32 ": %s:%" PRIu32 " (%s) %" PRIu64
			     " bytes, sector %" PRIu32 "\n",
			t, tg.type, tg.instance, pkg_target_kind_name(tg.kind), tg.size, tg.sector_size);
		for (uint32_t i = 0; i < m->partition_count; i++) {
			struct pkg_partition p;
			pkg_manifest_partition(m, i, &p);
			if (p.target != t)
				continue;
			fprintf(out, "  partition %-24s offset %12" PRIu64 " (%#11" PRIx64 ") size %12" PRIu64
				     " (%#10" PRIx64 ") slot %s %s",
				p.name, p.offset, p.offset, p.size, p.size, pkg_slot_name(p.slot),
				pkg_part_kind_name(p.kind));
			if (p.flags & PKG_PART_FILL_TO_END)
				fprintf(out, " fill-to-end");
			if (p.flags & PKG_PART_AT_END)
				fprintf(out, " at-end");
			if (p.flags & PKG_PART_REPLICATED)
				fprintf(out, " replicated");
			if (p.flags & PKG_PART_HEADER_FIRST)
				fprintf(out, " header-first");
			char g[37];
			if (nonzero(p.type_guid, 16)) {
				guid_format(p.type_guid, g);
				fprintf(out, " type-guid %s", g);
			}
			if (nonzero(p.unique_guid, 16)) {
				guid_format(p.unique_guid, g);
				fprintf(out, " guid %s", g);
			}
			fputc('\n', out);
			for (uint32_t k = 0; k < m->image_count; k++) {
				struct pkg_image im;
				pkg_manifest_image(m, k, &im);
				if (im.partition != i)
					continue;
				uint64_t data = 0, stored = 0;
				for (uint32_t c = im.first_chunk; c < im.first_chunk + im.chunk_count; c++) {
					struct pkg_chunk ch;
					pkg_manifest_chunk(m, c, &ch);
					data += ch.raw_size;
					stored += ch.stored_size;
				}
				fprintf(out, "    image: %" PRIu64 " bytes, %" PRIu64 " in %" PRIu32
					     " chunks (stored %" PRIu64 "), holes %s, variants",
					im.size, data, im.chunk_count, stored,
					(im.flags & PKG_IMAGE_ZERO_HOLES) ? "zeroed" : "skipped");
				for (uint32_t v = 0; v < m->variant_count; v++) {
					if (pkg_image_in_variant(&im, v)) {
						struct pkg_variant var;
						pkg_manifest_variant(m, v, &var);
						fprintf(out, " %s", var.name);
					}
				}
				fputc('\n', out);
				for (uint32_t c = im.first_chunk; chunks && c < im.first_chunk + im.chunk_count;
				     c++) {
					struct pkg_chunk ch;
					char hex[2 * SHA256_LEN + 1];
					pkg_manifest_chunk(m, c, &ch);
					sha256_hex(ch.sha256, hex);
					fprintf(out, "      chunk %" PRIu32 ": offset %" PRIu64 " raw %" PRIu32
						     " stored %" PRIu32 " %s sha256 %s\n",
						c, ch.offset, ch.raw_size, ch.stored_size,
						pkg_compression_name(ch.compression), hex);
				}
			}
		}
	}
}

int pkg_file_verify(struct pkg_file *f, const struct pkg_pubkey *key, FILE *out)
{
	const struct pkg_manifest *m = &f->manifest;
	if ((key ? pkg_file_authenticate(f, key) : pkg_file_decode_unverified(f)) != 0)
		return -1;
	uint32_t largest = 1;
	for (uint32_t c = 0; c < m->chunk_count; c++) {
		struct pkg_chunk ch;
		pkg_manifest_chunk(m, c, &ch);
		if (ch.raw_size > largest)
			largest = ch.raw_size; /* bounded by PKG_MAX_CHUNK_SIZE; stored <= raw */
	}
	uint8_t *stored = malloc(largest), *raw = malloc(largest);
	if (!stored || !raw) {
		free(stored);
		free(raw);
		return err_set("out of memory");
	}
	uint64_t data_start = PKG_MANIFEST_OFFSET + f->header.manifest_size, raw_total = 0;
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < m->image_count; i++) {
		struct pkg_image im;
		struct pkg_partition p;
		pkg_manifest_image(m, i, &im);
		pkg_manifest_partition(m, im.partition, &p);
		for (uint32_t c = im.first_chunk; rc == 0 && c < im.first_chunk + im.chunk_count; c++) {
			struct pkg_chunk ch;
			pkg_manifest_chunk(m, c, &ch);
			rc = pkg_file_read(f, stored, ch.stored_size, data_start + ch.stored_offset);
			if (rc == 0)
				rc = pkg_chunk_unpack(&ch, stored, raw);
			if (rc != 0)
				err_prefix("partition %s, chunk %" PRIu32, p.name, c);
			raw_total += ch.raw_size;
		}
	}
	free(stored);
	free(raw);
	if (rc == 0) {
		char id[2 * PKG_KEY_ID_LEN + 1], sig[64];
		pkg_key_id_hex(f->header.key_id, id);
		snprintf(sig, sizeof(sig), key ? "signature valid (key id %s)" : "UNSIGNED%.0s", id);
		fprintf(out, "OK: %s, %" PRIu32 " partitions, %" PRIu32 " images, %" PRIu32
			     " chunks, %" PRIu64 " bytes verified\n",
			sig, m->partition_count, m->image_count, m->chunk_count, raw_total);
	}
	return rc;
}
