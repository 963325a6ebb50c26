/* SPDX-License-Identifier: MIT */
/*
 * Tegra recovery-mode (RCM) boot of a Jetson over USB with the files NVIDIA's tools signed.
 * T234 (DESIGN.md §6): chip UID by a GET_DESCRIPTOR control request; BR BCT, MB1, PSC BL1,
 * MB1 BCT raw to the bootrom; MB1's version and last_boot_error; memory BCT and blob raw to
 * MB1. T194 (products 0x7019, 0x7e19 only): the older path (bulk UID read, zero-length
 * packets and status words, nv3p to MB1). Where each step comes from is written at the top
 * of rcm_t234.c and rcm_t194.c. Nothing here has been tried on hardware yet.
 *
 * Use: open a usb_transport, rcm_tegra_identify() its vendor/product, rcm_tegra_load_bundle()
 * for that chip, optionally rcm_tegra_bundle_set_blob(), rcm_tegra_boot().
 */
#ifndef SELFFLASH_RCM_TEGRA_H
#define SELFFLASH_RCM_TEGRA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "usb/usb_transport.h"

/* Chips, by the id NVIDIA's tools take as `--chip`. */
enum rcm_tegra_chip {
	RCM_TEGRA_T194 = 0x19,
	RCM_TEGRA_T234 = 0x23,
};

#define RCM_TEGRA_VENDOR 0x0955
/* T194: the UID the bootrom sends on bulk IN at connect */
#define RCM_TEGRA_UID_LEN 16
/* Largest bulk OUT transfer; NVIDIA's tegrarcm_v2 writes in pieces of this size. */
#define RCM_TEGRA_PIECE_MAX 16384
/* T234 (DESIGN.md §6 steps 3-6): every transfer's timeout; the chip UID request
 * (GET_DESCRIPTOR, string descriptor 3); MB1's answer to --pollbl. */
#define RCM_TEGRA_T234_TIMEOUT_MS 5000u
#define RCM_TEGRA_CID_REQUEST_TYPE 0x80u
#define RCM_TEGRA_CID_REQUEST 6u
#define RCM_TEGRA_CID_VALUE 0x0303u
#define RCM_TEGRA_CID_INDEX 0u
#define RCM_TEGRA_CID_LENGTH 0x82u
#define RCM_TEGRA_CID_DIGITS 32
#define RCM_TEGRA_MB1_VERSION_ASK 96u
#define RCM_TEGRA_MB1_VERSION_LEN 68u
#define RCM_TEGRA_MB1_VERSION_TEXT 64u
/* The chip id as text: "0x" and 32 hex digits (T234 BR_CID, T194 UID), NUL. */
#define RCM_TEGRA_ID_TEXT (2 + 2 * RCM_TEGRA_UID_LEN + 1)
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
	RCM_TEGRA_STAGE_BOOTROM, /* to the bootrom: raw pieces (T194: + ZLP and status word) */
	RCM_TEGRA_STAGE_MB1,     /* to MB1: raw pieces (T194: nv3p command + data packets) */
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
	/* Sent instead of the blob file when set (rcm_tegra_bundle_set_blob()); the caller's
	 * memory, kept until the boot is done. */
	const uint8_t *blob;
	uint64_t blob_size;
};

struct rcm_tegra_options {
	FILE *log;                /* one line per step ("sending mb1 (123 bytes)"), or NULL */
	unsigned mb1_settle_ms;   /* pause after the bootrom stage, before MB1 is addressed */
	unsigned mb1_wait_ms;     /* how long transport reopen() may wait for MB1's device */
	unsigned timeout_ms;      /* per bulk transfer on T194 (T234: RCM_TEGRA_T234_TIMEOUT_MS) */
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
 * NVIDIA's default file names for the chip (rcm_chip.c). Checks every file exists, is a
 * regular file, is not empty and is within its limit; that the kinds are known, fit the chip
 * and appear once (except `rcm`), and that the bootrom stage is not empty and the MB1 stage
 * holds bct_mem then blob. On T234 the bootrom stage must be exactly bct_br, mb1, psc_bl1,
 * bct_mb1 in that order, and mb1, psc_bl1 and bct_mb1 must start with "NVDA".
 * b needs no cleanup. 0 or -1 with err_msg().
 */
int rcm_tegra_load_bundle(struct rcm_tegra_bundle *b, const char *dir, enum rcm_tegra_chip chip);

/*
 * Makes the boot send data[0..size) in place of the bundle's blob file (a blob whose kernel
 * was swapped, rcm_blob.h); the caller keeps data alive until the boot returns. The size
 * limit is the blob file's. 0 or -1 with err_msg().
 */
int rcm_tegra_bundle_set_blob(struct rcm_tegra_bundle *b, const uint8_t *data, uint64_t size);

/* Prints the resolved plan (stage, kind, size, name) to out, one line per file. */
void rcm_tegra_print_bundle(FILE *out, const struct rcm_tegra_bundle *b);

/*
 * T234: reads the chip UID with GET_DESCRIPTOR for string descriptor 3 (bmRequestType 0x80,
 * bRequest 6, wValue 0x0303, wIndex 0, wLength 0x82, 5 s) and writes its UTF-16 characters
 * in reverse order into text as "0x" and 32 hex digits (the BR_CID NVIDIA's tools print).
 * A descriptor that is short, of another type or not 32 hex digits is an error. Under a dry
 * run text is "(dry run)". 0 or -1 with err_msg().
 */
int rcm_tegra_read_cid(struct usb_transport *t, char text[RCM_TEGRA_ID_TEXT]);

/*
 * T234, once MB1 runs: one bulk IN of up to 96 bytes that must bring exactly 68: a 64-byte
 * version string (copied to version, NUL-terminated, non-printable bytes as '?') and a
 * u32 last_boot_error (into *error). A non-zero error is not judged here. Under a dry run
 * version is "(dry run)" and *error 0. 0 or -1 with err_msg().
 */
int rcm_tegra_read_mb1_version(struct usb_transport *t,
			       char version[RCM_TEGRA_MB1_VERSION_TEXT + 1], uint32_t *error);

/*
 * T194: reads the 16-byte chip UID the bootrom sends on bulk IN when it is connected. A short
 * read or a timeout is an error that says how to recover (re-enter recovery mode). Under a
 * dry run uid is zeroed. 0 or -1 with err_msg().
 */
int rcm_tegra_read_uid(struct usb_transport *t, const struct rcm_tegra_options *o,
		       uint8_t uid[RCM_TEGRA_UID_LEN]);

/*
 * The bootrom stage: every bootrom-stage file of b, verbatim, in bulk OUT pieces of at most
 * RCM_TEGRA_PIECE_MAX bytes. T234: nothing else (5 s per piece; the NVDA files are checked
 * again before their first piece). T194: then a zero-length packet when the file's length is
 * a multiple of the packet size, then a 4-byte little-endian status word that must be 0.
 * Errors name the stage, kind, file and what the device answered. 0 or -1 with err_msg().
 */
int rcm_tegra_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				 const struct rcm_tegra_options *o);

/*
 * The MB1 stage. T234: bct_mem and the blob raw, exactly like the T234 bootrom stage.
 * T194, nv3p v1: per file a command packet (bct_mem: DownloadBct with its length;
 * blob: DownloadBootloader with its length, load address and entry 0) and then its data in
 * DATA packets of at most o->nv3p_data_max bytes; every packet must be ACKed with its
 * sequence number. A NACK, a bad checksum or a wrong sequence is an error naming the file.
 * 0 or -1 with err_msg().
 */
int rcm_tegra_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_options *o);

/*
 * The whole boot: checks t's vendor:product is a b->chip device, reads the chip id into id
 * (text, RCM_TEGRA_ID_TEXT bytes), sends the bootrom stage, waits o->mb1_settle_ms, reopens
 * the transport at the same port if it can (MB1 may re-enumerate; either is fine), on T234
 * reads MB1's version and last_boot_error (a non-zero one is printed to o->log, or stderr,
 * and the boot goes on, as NVIDIA's tegrarcm_v2 does), sends the MB1 stage.
 * 0 or -1 with err_msg().
 */
int rcm_tegra_boot(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		   const struct rcm_tegra_options *o, char id[RCM_TEGRA_ID_TEXT]);

#endif
