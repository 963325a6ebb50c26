/* SPDX-License-Identifier: MIT */
/* Building a flash package: layout + files + variants + key -> one signed file. */
#ifndef SELFFLASH_BUILD_H
#define SELFFLASH_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "chunker.h"
#include "layout.h"
#include "variants.h"

struct build_opts {
	const char *output;
	const char *key_path;      /* NULL with allow_unsigned: an unsigned package */
	int allow_unsigned;
	const struct layout *layout;
	int from_flash_idx;        /* check file sizes and SHA-1s that flash.idx recorded */
	const char *file_dir;      /* where literal file names are looked up */
	const struct layout_set *files; /* KEY=PATH, KEY a placeholder or partition name */
	size_t nfiles;
	const char *const *no_file; /* partitions or placeholders deliberately left empty */
	size_t n_no_file;
	const struct variant *variants; /* NULL: one variant that matches any board */
	size_t nvariants;
	const char *const *zero_holes; /* disk partitions whose holes must be written as zeros */
	size_t n_zero_holes;
	const struct layout_set *replicate; /* PART=STRIDE: copy the file into every slot */
	size_t nreplicate;
	uint32_t chunk_size;
	struct chunk_codec codec;  /* id 0: BUILD_DEFAULT_CODEC at its default level */
	uint64_t system_version;   /* the manifest's system version (anti-rollback), 0: none */
	unsigned jobs;             /* chunk workers; 0: one per online CPU; 1: no threads */
	const char *capsule;       /* the boot firmware's UEFI capsule, staged by an update on
				    * the ESP (a PKG_PART_FILE partition on the ESP's disk); NULL */
	int quiet;
};

/* The codec a build uses unless told (--codec): see the measurement in chunker.c. */
#define BUILD_DEFAULT_CODEC PKG_COMP_ZSTD

/* Builds the package; 0, or -1 with err_msg() set and no output file left behind. */
int pkg_build(const struct build_opts *o);

/* The options build and l4t share: --jobs N (1..CHUNKER_MAX_JOBS), --system-version N
 * (1..2^64-1). 0, or -1 with err_msg() naming the option and the value. */
int build_parse_jobs(const char *text, unsigned *jobs);
/* --codec zstd[:LEVEL]|zlib: the codec and zstd's level (1..19), or -1 with err_msg() naming
 * the value */
int build_parse_codec(const char *text, struct chunk_codec *codec);
int build_parse_system_version(const char *text, uint64_t *version);

/* Parses a GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" into GPT byte order; 0 or -1. */
int guid_parse(const char *text, uint8_t out[16]);

#endif
