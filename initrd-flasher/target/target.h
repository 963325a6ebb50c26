/* SPDX-License-Identifier: MIT */
/*
 * A storage target the flasher writes: QSPI NOR through MTD, a disk, or a file standing in
 * for either in tests. One small ops struct (U-Boot's sparse_storage, RAUC's image writers);
 * what differs between NOR and disks lives in the writer chosen for the target's kind.
 */
#ifndef SELFFLASH_TARGET_H
#define SELFFLASH_TARGET_H

#include <stddef.h>
#include <stdint.h>

struct target;
struct target_model;

struct target_ops {
	/* Each returns 0, or -1 with err_msg() naming the target, offset and length. */
	int (*read)(struct target *t, uint64_t off, void *buf, size_t len);
	int (*write)(struct target *t, uint64_t off, const void *buf, size_t len);
	/* Erases [off, off + len), both multiples of erase_size; NULL on targets without erase. */
	int (*erase)(struct target *t, uint64_t off, uint64_t len);
	int (*flush)(struct target *t);
	void (*close)(struct target *t);
	/*
	 * Reads from the medium itself, around the kernel's page cache (O_DIRECT), so that a
	 * read-back checks what the device holds and not the pages the writer has just filled.
	 * off, len and buf are multiples of TARGET_DIRECT_ALIGN; *got is len except where the
	 * device ends first. NULL where plain reads already reach the medium (MTD, NOR files) or
	 * the device refused O_DIRECT (target.direct_error says why).
	 */
	int (*read_direct)(struct target *t, uint64_t off, void *buf, size_t len, size_t *got);
	/*
	 * Optional: 1 when [off, off + len) is known to hold no data (a hole of a sparse file,
	 * which reads as zeros), 0 when it may hold data or cannot be told. Lets delta pass over
	 * an empty target without reading it.
	 */
	int (*is_hole)(struct target *t, uint64_t off, uint64_t len);
	/*
	 * Optional: makes [off, off + len) read as zeros without sending zeros down to it
	 * (BLKZEROOUT on a block device, a hole punched into a file); off and len are multiples
	 * of TARGET_DIRECT_ALIGN. 0 done; 1 when this device or file system cannot (the caller
	 * writes zeros); -1 with err_msg() on an error.
	 */
	int (*zero)(struct target *t, uint64_t off, uint64_t len);
};

/* Alignment of O_DIRECT reads: a multiple of every logical block size in use (512, 4096). */
#define TARGET_DIRECT_ALIGN 4096u

struct target {
	const struct target_ops *ops;
	void *priv;
	char name[256];
	uint64_t size;
	uint32_t erase_size; /* NOR erase block; 0 for disks */
	uint32_t write_size; /* smallest write unit (NOR 1, disks 512) */
	int fd;
	int direct_fd;          /* the same device opened O_DIRECT for read_direct, or -1 */
	char direct_error[128]; /* why a disk has no read_direct, for the log; "" otherwise */
	struct target_model *model; /* its timing model (target_model.h), or NULL: none */
};

/*
 * A file that behaves like NOR flash: a write may only clear bits (setting one is an error,
 * as on real NOR), erase sets a block to 0xFF. `flip_bit_at` (or UINT64_MAX) makes the
 * target flip one bit of whatever is written there, to prove read-back catches it.
 * Returns 0 or -1.
 */
int target_open_nor_file(struct target *t, const char *path, uint32_t erase_size,
			 uint64_t flip_bit_at);

/* A file or block device written as a disk (no erase). */
int target_open_block(struct target *t, const char *path);

/* An MTD character device (/dev/mtdN) through libmtd. */
int target_open_mtd(struct target *t, const char *dev_path);

/* Narrows an open target to [base, base + size) of itself (erase-block aligned); 0 or -1. */
int target_window(struct target *t, uint64_t base, uint64_t size);

/* A byte range of a target. */
struct target_range {
	uint64_t offset, size;
};

#define TARGET_GUARD_MAX 64

/*
 * From now on t refuses (naming the range) every write and erase that does not lie inside one
 * of `ranges`; reads pass. Closing t closes what it wrapped. 0 or -1.
 */
int target_guard_writes(struct target *t, const struct target_range *ranges, size_t count);

/*
 * Opens a target from a spec: "mtd:/dev/mtdN[@BASE]", "block:PATH",
 * "nor-file:PATH:ERASE_SIZE" (tests). With @BASE the target is a window of `size` bytes.
 * File kinds take a timing model for benches after ';' (target_model.h):
 * "nor-file:PATH:ERASE_SIZE;erase-ms=F;page-us=F;page=N;read-mbps=F",
 * "block:PATH;write-mbps=F;read-mbps=F". A path holding ';' cannot be named.
 */
int target_open_spec(struct target *t, const char *spec, uint64_t size);

/* Told each piece of a range read from the medium: n bytes at offset `at` in the range. */
typedef int (*target_piece_fn)(void *ctx, const uint8_t *p, size_t n, uint64_t at);

/*
 * Reads device bytes [off, off + len) of t from the medium (O_DIRECT, around the page cache,
 * when t has read_direct; buf aligned to TARGET_DIRECT_ALIGN then) through buf (buf_size
 * bytes), handing each piece to fn in order: what the read-back and the delta check trust.
 * 0, or -1 with err_msg() (fn's failure, a read error, a short read, a range past the end).
 */
int target_read_medium(struct target *t, uint64_t off, uint64_t len, uint8_t *buf,
		       size_t buf_size, target_piece_fn fn, void *ctx);

/*
 * Makes device bytes [off, off + len) of t zeros, as cheaply as t allows: the aligned middle
 * with ops->zero where t has it and it works, the rest (and everything, without it) written
 * from zero_buf (zero_buf_size bytes, all zero, which the caller keeps so). *cheaply (may be
 * NULL) gets the bytes zeroed without writing them. Trusts nothing: the caller reads the range
 * back. 0 or -1 with err_msg().
 */
int target_zero(struct target *t, uint64_t off, uint64_t len, const uint8_t *zero_buf,
		size_t zero_buf_size, uint64_t *cheaply);

static inline void target_close(struct target *t)
{
	if (t->ops)
		t->ops->close(t);
	t->ops = NULL;
}

#endif
