/* SPDX-License-Identifier: MIT */
/*
 * What the files of the Tegra RCM backend share (not for other modules). Layers, each calling
 * only those below it:
 *   rcm_tegra.c   the whole boot: options, the device check, waiting for MB1, each chip's order
 *   rcm_t234.c    T234 (DESIGN.md §6): chip UID by control request, raw stages, MB1's version
 *   rcm_t194.c    T194: bulk UID, a status word after each bootrom file, nv3p to MB1
 *   rcm_send.c    a bundle file's bytes out in bulk pieces; the step log
 *   rcm_bundle.c  a bundle directory resolved to its files and checked
 *   rcm_chip.c    the chips, their USB ids, the kinds of file and NVIDIA's default names
 * The public calls are in rcm_tegra.h; where each fact comes from is written at the top of
 * rcm_t234.c and rcm_t194.c.
 */
#ifndef SELFFLASH_RCM_INTERNAL_H
#define SELFFLASH_RCM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rcm_tegra.h"
#include "usb/usb_transport.h"

/* rcm_chip.c */

/* A kind of file a bundle may hold: its stage, size limit, chips, and whether it may appear
 * more than once (T194's `rcm` files). */
struct rcm_kind {
	const char *kind;
	enum rcm_tegra_stage stage;
	uint64_t max;
	unsigned chips; /* a mask of rcm_chip_bit() values */
	int repeatable;
};
#define RCM_KIND_LIST "bct_br, mb1, psc_bl1, bct_mb1, rcm, bct_mem, blob"

/* NVIDIA's file name for a kind, as tegraflash's rcm boot leaves it in rcmboot_blob/. */
struct rcm_default_file {
	const char *kind;
	const char *name;
};

/* The T234 bootrom stage, in the only order tegraflash sends it (DESIGN.md §6 step 4). */
#define RCM_T234_BOOTROM_FILES 4u
extern const char *const rcm_t234_bootrom_order[RCM_T234_BOOTROM_FILES];
/* The first bytes of the T234 files that carry NVIDIA's signed header (§6 step 4). */
#define RCM_NVDA_MAGIC "NVDA"

/* The kind called `kind`, or NULL. */
const struct rcm_kind *rcm_kind_find(const char *kind);
/* 1 if a T234 file of this kind must start with RCM_NVDA_MAGIC. */
int rcm_kind_wants_nvda(const char *kind);
/* chip's bit in struct rcm_kind.chips; 0 for a chip this backend does not know. */
unsigned rcm_chip_bit(enum rcm_tegra_chip chip);
/* NVIDIA's default names for chip, in send order (static storage); *count set. */
const struct rcm_default_file *rcm_chip_default_files(enum rcm_tegra_chip chip, size_t *count);
/* "bootrom stage" or "MB1 stage" (static string), for messages and the log. */
const char *rcm_stage_name(enum rcm_tegra_stage stage);

/* rcm_bundle.c */

/* "DIR/NAME" of a file in b's directory into out (size bytes); 0 or -1 with err_msg(). */
int rcm_bundle_path(const struct rcm_tegra_bundle *b, const char *name, char *out, size_t size);

/* rcm_send.c */

/* One line "rcm: ..." to o->log, when there is one. */
void rcm_log_step(const struct rcm_tegra_options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* t's bulk OUT packet size (512 when the transport does not know it). */
uint32_t rcm_packet_size(const struct usb_transport *t);

/* Where a file's bytes come from: the bundle file, or memory (a swapped blob). */
struct rcm_source {
	int fd;
	const uint8_t *mem;
};
/* 1 if f is the blob and b sends a swapped one from memory instead. */
int rcm_is_replaced_blob(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f);
/* Opens f's bytes, checking a bundle file still has the size the bundle was checked with;
 * 0 or -1 with err_msg(). rcm_source_close() releases it. */
int rcm_source_open(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f,
		    struct rcm_source *src);
void rcm_source_close(struct rcm_source *src);

/*
 * Sends len bytes of src at off in pieces of at most RCM_TEGRA_PIECE_MAX; adds them to *sum
 * when sum is not NULL. With nvda set, the first piece must start with "NVDA" (checked again
 * here: the file may have changed since the bundle was loaded). 0 or -1 with err_msg().
 */
int rcm_send_pieces(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		    unsigned timeout_ms, const struct rcm_source *src,
		    const struct rcm_tegra_file *f, uint64_t off, uint64_t len, uint32_t *sum,
		    int nvda);
/*
 * One whole file of b, raw, in pieces of timeout_ms each, logged as "STAGE: sending KIND
 * NAME (N bytes)": a T234 transfer (§6 steps 4 and 6; files of the NVDA kinds must start
 * with "NVDA") and the data of a T194 bootrom-stage file. 0 or -1 with err_msg().
 */
int rcm_send_file(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		  const struct rcm_tegra_file *f, const struct rcm_tegra_options *o,
		  unsigned timeout_ms);

/* rcm_t234.c */

/* Every file of b in stage, raw (§6 steps 4 and 6). 0 or -1 with err_msg(). */
int rcm_t234_send_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			const struct rcm_tegra_options *o, enum rcm_tegra_stage stage);

/* rcm_t194.c: the two stages as rcm_tegra_send_bootrom_stage() and
 * rcm_tegra_send_mb1_stage() describe them for T194; the MB1 stage expects o checked
 * (o->nv3p_data_max in range). */
int rcm_t194_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				const struct rcm_tegra_options *o);
int rcm_t194_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			    const struct rcm_tegra_options *o);

#endif
