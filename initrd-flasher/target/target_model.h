/* SPDX-License-Identifier: MIT */
/*
 * Timing models for file targets, so that a bench drives the real flasher at the pace of a
 * real part: a NOR file that takes a QSPI NOR's erase and page-program times, a block file
 * that takes an SSD's sustained rates. Models for the bench only: a real device sets its own
 * pace. The spec syntax (target_spec.c) is the kind's spec with ";KEY=VALUE" after it:
 *   nor-file:PATH:ERASE_SIZE;erase-ms=F;page-us=F;page=N;read-mbps=F
 *   block:PATH;write-mbps=F;read-mbps=F
 * A device is one queue: one "busy until" time per target, shared by every thread that uses
 * it (the writer and the read-back threads), each operation waiting for its absolute end.
 */
#ifndef SELFFLASH_TARGET_MODEL_H
#define SELFFLASH_TARGET_MODEL_H

#include <stdint.h>

#include "target.h"

/* The keys of a model; a spec kind says which of them it takes. */
enum target_model_key {
	TARGET_MODEL_ERASE_MS = 1u << 0,   /* milliseconds per erase block */
	TARGET_MODEL_PAGE_US = 1u << 1,    /* microseconds per program page started */
	TARGET_MODEL_PAGE = 1u << 2,       /* program page in bytes (default 256) */
	TARGET_MODEL_READ_MBPS = 1u << 3,  /* reads, MB/s (1e6 bytes a second) */
	TARGET_MODEL_WRITE_MBPS = 1u << 4, /* writes and zeroing, MB/s */
};

#define TARGET_MODEL_NOR_KEYS                                                                 \
	(TARGET_MODEL_ERASE_MS | TARGET_MODEL_PAGE_US | TARGET_MODEL_PAGE | TARGET_MODEL_READ_MBPS)
#define TARGET_MODEL_BLOCK_KEYS (TARGET_MODEL_WRITE_MBPS | TARGET_MODEL_READ_MBPS)

/* The NOR program page when the spec names none: the page of the QSPI NOR parts in use. */
#define TARGET_MODEL_DEFAULT_PAGE 256u

/* A model's figures; 0 where the spec gave none (that kind of operation takes no time). */
struct target_model_params {
	double erase_ms, page_us, read_mbps, write_mbps;
	uint32_t page; /* bytes, a power of two */
	unsigned given; /* the target_model_key bits the spec named */
};

/* What a modelled device did, as the model counted it. */
struct target_model_stats {
	uint64_t bytes_written; /* programmed (NOR) or written, zeroing included (disks) */
	uint64_t bytes_read;
	uint64_t blocks_erased;
	uint64_t busy_ns; /* the sum of the modelled times: the part's own time */
};

/*
 * Parses text (the spec after its first ';', NUL-terminated) into p: KEY=VALUE pairs
 * separated by ';', each key at most once and one of `allowed` (target_model_key bits),
 * values plain decimals (digits, at most one '.') within each key's bounds. spec and kind
 * ("nor-file:") are for messages. 0, or -1 with err_msg() naming the spec and the key.
 */
int target_model_parse(const char *spec, const char *kind, const char *text, unsigned allowed,
		       struct target_model_params *p);

/*
 * From now on every operation on t takes the time p gives it (t must be open, and a page of
 * p no larger than t's erase block). Closing t closes what it wrapped. 0 or -1.
 */
int target_model_wrap(struct target *t, const struct target_model_params *p);

/* 1 with *st filled when t is modelled, 0 when it is not. Safe while others use t. */
int target_model_read_stats(const struct target *t, struct target_model_stats *st);

/* The modelled nanoseconds of each kind of operation (0 where p has no figure for it). */
uint64_t target_model_read_ns(const struct target_model_params *p, uint64_t len);
uint64_t target_model_write_ns(const struct target_model_params *p, uint64_t off, uint64_t len);
uint64_t target_model_erase_ns(const struct target_model_params *p, uint64_t blocks);

#endif
