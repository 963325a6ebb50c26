/* SPDX-License-Identifier: MIT */
/*
 * Partition layouts as Jetson users have them: NVIDIA's partition layout XML and the
 * flash.idx that `flash.sh --no-flash` writes. Both become one model: devices, and per device
 * partitions with offsets computed by NVIDIA's rules (DESIGN.md §6). What cannot be known
 * yet (a size given as a placeholder such as APPSIZE) stays marked unresolved.
 */
#ifndef SELFFLASH_LAYOUT_H
#define SELFFLASH_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LAYOUT_TEXT_MAX 256
#define LAYOUT_MAX_DEVICES 8
#define LAYOUT_MAX_PARTS 512

/* NVIDIA's allocation_attribute bit for "fill to the end of the device" (0x808) */
#define LAYOUT_ALLOC_FILL_TO_END 0x800u

struct layout_part {
	char name[LAYOUT_TEXT_MAX];
	char type[LAYOUT_TEXT_MAX];
	char filename[LAYOUT_TEXT_MAX]; /* "" = no file (reserved space) */
	char size_text[LAYOUT_TEXT_MAX]; /* as written, for unresolved sizes */
	char type_guid[LAYOUT_TEXT_MAX];
	char unique_guid[LAYOUT_TEXT_MAX];
	uint64_t size, offset, align, start;
	int size_known, offset_known, has_start;
	uint32_t alloc_attr;
	uint8_t kind;   /* enum pkg_part_kind */
	uint8_t slot;   /* enum pkg_slot */
	int fill_to_end, at_end;
	uint64_t file_size; /* flash.idx only: the size it recorded */
	char sha1[41];      /* flash.idx only: the SHA-1 it recorded, "" if none */
	unsigned line;
};

struct layout_device {
	char type[32]; /* spi, sdmmc_boot, sdmmc_user, nvme, external, sdcard */
	uint32_t instance;
	uint32_t sector_size;
	uint64_t size;
	size_t first, count; /* its partitions in layout.parts */
};

struct layout {
	struct layout_device dev[LAYOUT_MAX_DEVICES];
	size_t ndev;
	struct layout_part *parts; /* owned; layout_free() */
	size_t nparts;
};

/* A placeholder's value: a field whose whole text is `key` is read as `value`. */
struct layout_set {
	const char *key;
	const char *value;
};

/*
 * Reads NVIDIA partition layout XML and computes offsets. Unknown elements and attributes
 * are errors (a layout we half understand must not be flashed). Returns 0, or -1 with
 * err_msg() set.
 */
int layout_from_xml(const char *text, size_t len, const struct layout_set *sets, size_t nsets,
		    struct layout *l);

/* Reads a flash.idx (CSV: part#, dev:inst:name, start, size, file, filesize, attrs, sha1). */
int layout_from_flash_idx(const char *text, size_t len, struct layout *l);

/* Prints one line per partition: device, name, offset and size in decimal and hex. */
void layout_print(FILE *out, const struct layout *l);

/* The device's name as printed, e.g. "spi:0". */
void layout_device_name(const struct layout_device *d, char *out, size_t size);

void layout_free(struct layout *l);

/* Parses "123" or "0x7b" (surrounding white space allowed); 0 or -1. */
int layout_parse_u64(const char *text, uint64_t *value);

#endif
