/* SPDX-License-Identifier: MIT */
/* The package's firmware capsule found, refused where it cannot go, read verified (update_capsule.h). */
#include "update_capsule.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capsule.h"
#include "error.h"
#include "source/source.h"

int update_capsule_find(const struct run *r, const char *backend, int *part)
{
	const struct pkg_manifest *m = &r->pkg.manifest;
	*part = -1;
	for (uint32_t k = 0; k < m->image_count; k++) {
		struct pkg_image im;
		pkg_manifest_image(m, k, &im);
		if (!pkg_image_in_variant(&im, (uint32_t)r->variant) ||
		    r->parts[im.partition].kind != PKG_PART_FILE)
			continue;
		if (*part >= 0)
			return err_set("the package carries two firmware files (%s, %s) for this "
				       "board; an update stages one capsule",
				       r->parts[*part].name, r->parts[im.partition].name);
		*part = (int)im.partition;
	}
	if (*part >= 0 && strcmp(backend, "tegra") != 0)
		return err_set("the package carries a UEFI capsule (%s), which only the tegra slot "
			       "backend stages; this board's backend is %s: build the package "
			       "without --capsule", r->parts[*part].name, backend);
	return 0;
}

int update_capsule_read(struct run *r, uint32_t part, uint8_t **buf, size_t *len,
			uint32_t *fw_version)
{
	const struct pkg_manifest *m = &r->pkg.manifest;
	struct pkg_image im = { 0 };
	for (uint32_t k = 0; k < m->image_count; k++) {
		pkg_manifest_image(m, k, &im);
		if (im.partition == part && pkg_image_in_variant(&im, (uint32_t)r->variant))
			break;
	}
	/* pkg_manifest_decode kept it within PKG_MAX_FILE_SIZE (the partition's size) */
	uint8_t *data = calloc(1, (size_t)im.size + 1);
	if (!data)
		return err_set("out of memory for the capsule (%" PRIu64 " bytes)", im.size);
	struct chunk_source *src = r->source->ops->chunks(
		r->source, PKG_MANIFEST_OFFSET + r->pkg.header.manifest_size);
	for (uint32_t i = 0; i < im.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(m, im.first_chunk + i, &c);
		/* r->stored holds any chunk (alloc_buffers: the package's largest) */
		if (chunk_source_fetch_unpacked(src, &c, im.first_chunk + i, r->stored,
						data + c.offset) != 0) {
			free(data);
			return err_prefix("capsule %s", r->parts[part].name);
		}
		src->bytes_fetched += c.stored_size;
	}
	struct capsule_info ci;
	if (capsule_parse(data, im.size, &ci) != 0) {
		free(data);
		return err_prefix("capsule %s", r->parts[part].name);
	}
	fprintf(r->c->log, "update: capsule %s: %" PRIu64 " bytes, payload %s%s, %s\n",
		r->parts[part].name, im.size, ci.image_type,
		strcmp(ci.image_type, CAPSULE_T234_IMAGE_GUID) == 0 ? " (T234)" : "",
		ci.has_bup ? "NVIDIA update package checked" : ci.no_bup);
	*buf = data;
	*len = (size_t)im.size;
	*fw_version = ci.has_fw_version ? ci.fw_version : 0;
	return 0;
}
