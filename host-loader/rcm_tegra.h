/* SPDX-License-Identifier: MIT */
/*
 * Tegra recovery-mode (RCM) boot of a Jetson over USB: the bootrom stage (BR BCT, MB1,
 * PSC BL1, MB1 BCT, as NVIDIA's tools signed them) and then the nv3p stage MB1 speaks (memory
 * BCT, blob). Which parts rest on documents and which on reverse engineering is written at
 * the top of rcm_tegra.c. Nothing here has been tried on hardware yet.
 *
 * Use: open a usb_transport, rcm_tegra_identify() its vendor/product, rcm_tegra_load_bundle()
 * for that chip, rcm_tegra_boot().
 */
#ifndef SELFFLASH_RCM_TEGRA_H
#define SELFFLASH_RCM_TEGRA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "usb_transport.h"

/* Chips, by the id NVIDIA's tools take as `--chip`. */
enum rcm_tegra_chip {
	RCM_TEGRA_T194 = 0x19,
	RCM_TEGRA_T234 = 0x23,
};

#define RCM_TEGRA_VENDOR 0x0955
#define RCM_TEGRA_UID_LEN 16
/* Largest bulk OUT transfer; NVIDIA's tegrarcm_v2 writes in pieces of this size. */
#define RCM_TEGRA_PIECE_MAX 16384
/* Hard limits on bundle files, checked before anything is sent. Bootrom-stage images load
 * into on-chip SRAM (the real ones are 4 KiB to 400 KiB); the memory BCT holds a few RAM
 * code sets; the blob (MB2, firmware, UEFI, kernel, initrd) was 80-170 MiB in public logs. */
#define RCM_TEGRA_BOOTROM_FILE_MAX (1u << 20)
#define RCM_TEGRA_BCT_MEM_MAX (4u << 20)
#define RCM_TEGRA_BLOB_MAX (1u << 30)
/* Default payload of one nv3p DATA packet (NVIDIA's nvflash sends 1 MiB at a time). */
#define RCM_TEGRA_NV3P_DATA_MAX (1u << 20)

/* The file that overrides the bundle's file list, one "KIND FILE" per line in send order. */
#define RCM_TEGRA_LIST_NAME "selfflash-rcm.txt"
/* The command file NVIDIA's tegraflash leaves in rcmboot_blob/; read when there is no list. */
#define RCM_TEGRA_CMD_NAME "rcmbootcmd.txt"

#define RCM_TEGRA_FILES_MAX 8
#define RCM_TEGRA_NAME_MAX 256
#define RCM_TEGRA_DIR_MAX 4096

enum rcm_tegra_stage {
	RCM_TEGRA_STAGE_BOOTROM, /* raw pieces + status word, to the bootrom */
	RCM_TEGRA_STAGE_MB1,     /* nv3p command + data packets, to MB1 */
};

struct rcm_tegra_file {
	char kind[16]; /* bct_br, mb1, psc_bl1, bct_mb1, rcm (bootrom); bct_mem, blob (MB1) */
	char name[RCM_TEGRA_NAME_MAX]; /* inside the bundle directory */
	enum rcm_tegra_stage stage;
	uint64_t size;
};

/* A bundle directory resolved to its files, bootrom stage first, each in send order. */
struct rcm_tegra_bundle {
	char dir[RCM_TEGRA_DIR_MAX];
	enum rcm_tegra_chip chip;
	const char *source; /* where the list came from (static string): the list file's name,
			     * "rcmbootcmd.txt" or "NVIDIA's default names" */
	unsigned count;
	struct rcm_tegra_file files[RCM_TEGRA_FILES_MAX];
};

struct rcm_tegra_options {
	FILE *log;                /* one line per step ("sending mb1 (123 bytes)"), or NULL */
	unsigned mb1_settle_ms;   /* pause after the bootrom stage, before MB1 is addressed */
	unsigned mb1_wait_ms;     /* how long transport reopen() may wait for MB1's device */
	unsigned timeout_ms;      /* per bulk transfer */
	uint32_t nv3p_data_max;   /* payload per nv3p DATA packet, 1..RCM_TEGRA_NV3P_DATA_MAX */
};

/* Fills in the defaults: no log, 1 s settle, 30 s wait, 10 s timeout, 1 MiB data packets. */
void rcm_tegra_options_init(struct rcm_tegra_options *o);

/* The recovery-mode USB ids this backend knows (DESIGN.md §6), `kind` = enum rcm_tegra_chip;
 * static storage, *count set to the number of entries. */
const struct usb_id *rcm_tegra_usb_ids(size_t *count);

/* The entry for vendor:product, or NULL with err_msg() listing what was expected. */
const struct usb_id *rcm_tegra_identify(uint16_t vendor, uint16_t product);

/* "T234" or "T194" (static string; "T??" for anything else). */
const char *rcm_tegra_chip_name(enum rcm_tegra_chip chip);

/*
 * Resolves the bundle directory for chip: the list file RCM_TEGRA_LIST_NAME if present, else
 * NVIDIA's rcmbootcmd.txt (every "--download KIND FILE" and "--rcm FILE", in order), else
 * NVIDIA's default file names for the chip (rcm_tegra.c). Checks every file exists, is a
 * regular file, is not empty and is within its limit; that the kinds are known, fit the chip
 * and appear once (except `rcm`), and that the bootrom stage is not empty and the MB1 stage
 * holds bct_mem then blob. b needs no cleanup. 0 or -1 with err_msg().
 */
int rcm_tegra_load_bundle(struct rcm_tegra_bundle *b, const char *dir, enum rcm_tegra_chip chip);

/* Prints the resolved plan (stage, kind, size, name) to out, one line per file. */
void rcm_tegra_print_bundle(FILE *out, const struct rcm_tegra_bundle *b);

/*
 * Reads the 16-byte chip UID the bootrom sends on bulk IN when it is connected. A short read
 * or a timeout is an error that says how to recover (re-enter recovery mode). Under a dry run
 * uid is zeroed. 0 or -1 with err_msg().
 */
int rcm_tegra_read_uid(struct usb_transport *t, const struct rcm_tegra_options *o,
		       uint8_t uid[RCM_TEGRA_UID_LEN]);

/*
 * The bootrom stage: every bootrom-stage file of b, verbatim, in bulk OUT pieces of at most
 * RCM_TEGRA_PIECE_MAX bytes, a zero-length packet when the file's length is a multiple of the
 * packet size, then a 4-byte little-endian status word that must be 0. Errors name the stage,
 * kind, file and what the device answered. 0 or -1 with err_msg().
 */
int rcm_tegra_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				 const struct rcm_tegra_options *o);

/*
 * The MB1 stage, nv3p v1: per file a command packet (bct_mem: DownloadBct with its length;
 * blob: DownloadBootloader with its length, load address and entry 0) and then its data in
 * DATA packets of at most o->nv3p_data_max bytes; every packet must be ACKed with its
 * sequence number. A NACK, a bad checksum or a wrong sequence is an error naming the file.
 * 0 or -1 with err_msg().
 */
int rcm_tegra_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_options *o);

/*
 * The whole boot: checks t's vendor:product is a b->chip device, reads the UID into uid,
 * sends the bootrom stage, waits o->mb1_settle_ms, reopens the transport if it can (MB1 may
 * re-enumerate), sends the MB1 stage. 0 or -1 with err_msg().
 */
int rcm_tegra_boot(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		   const struct rcm_tegra_options *o, uint8_t uid[RCM_TEGRA_UID_LEN]);

#endif
