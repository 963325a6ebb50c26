/* SPDX-License-Identifier: MIT */
/*
 * A UEFI capsule as NVIDIA makes it for a Jetson's boot firmware (TEGRA_BL.Cap), read as
 * hostile bytes with no I/O: the EFI_CAPSULE_HEADER (UEFI spec, FMP capsule GUID), the FMP
 * capsule header and its first payload item, and inside it NVIDIA's update package ("BUP",
 * edk2-nvidia Silicon/NVIDIA/Include/Library/FwPackageLib.h): a header with magic
 * NVIDIA__BLOB__V3 and 184-byte entries (name, offset, bytes, version, update mode, TnSpec).
 * The firmware takes, for each image it needs, an entry whose TnSpec matches the board's
 * (FwPackageGetImageIndex, FwPackageCheckTnSpec; docs/t234-firmware-facts.md section 3.1), so
 * a capsule for another board is refused only at the next boot (6151): these functions let
 * mkflashpkg and the flasher refuse it first.
 */
#ifndef SELFFLASH_CAPSULE_H
#define SELFFLASH_CAPSULE_H

#include <stddef.h>
#include <stdint.h>

/* the UEFI spec's EFI_FIRMWARE_MANAGEMENT_CAPSULE_ID_GUID */
#define CAPSULE_FMP_GUID "6dcbd5ed-e82d-4c44-bda1-7194199ad92a"
/* FMP_SYSTEM_IMAGE_TYPE_ID_GUID_T234 (edk2-nvidia Platform/NVIDIA/Jetson/Jetson.dsc.inc@r35.4.1) */
#define CAPSULE_T234_IMAGE_GUID "bf0d4599-20d4-414e-b2c5-3595b1cda402"
/* what a package may carry and a board stages; NVIDIA's capsules are tens of MiB */
#define CAPSULE_MAX_SIZE (256u << 20)
#define CAPSULE_BUP_MAGIC "NVIDIA__BLOB__V3"
#define CAPSULE_BUP_ENTRY_SIZE 184
#define CAPSULE_BUP_NAME_LEN 40
#define CAPSULE_BUP_TNSPEC_LEN 128
#define CAPSULE_BUP_MAX_ENTRIES 4096

struct capsule_info {
	uint32_t flags;               /* EFI_CAPSULE_HEADER.Flags */
	char image_type[37];          /* the first FMP payload's UpdateImageTypeId */
	uint32_t payload_size;        /* its UpdateImageSize */
	int has_fw_version;           /* an FMP payload header ("MSS1") was there */
	uint32_t fw_version;          /* its FwVersion: NVIDIA's l4t_generate_soc_capsule.sh
				       * passes the BSP's Version32, (35 << 16) | (4 << 8) | 1
				       * (generate_capsule/l4t_generate_soc_capsule.sh:145-163
				       * @R35.3.1), the ESRT's form */
	int has_bup;                  /* 1: a BUP was found and all of it checked */
	char no_bup[120];             /* has_bup 0: why not (the BUP was not checked) */
	const uint8_t *bup;           /* has_bup: the BUP inside the caller's buffer */
	uint32_t bup_size, bup_header_size, bup_count;
};

struct capsule_bup_entry {
	char name[CAPSULE_BUP_NAME_LEN + 1];
	uint32_t offset, bytes, version, update_mode;
	char tnspec[CAPSULE_BUP_TNSPEC_LEN + 1];
};

/*
 * Checks len bytes of buf as an FMP capsule: header sizes consistent with len, the FMP
 * capsule GUID, an FMP item inside it; then looks for the BUP in the first payload (after an
 * authentication header and an FMP payload header, as GenerateCapsule.py writes them) and
 * checks it as FwPackageValidateHeader/ValidateImageInfoArray do. A capsule whose BUP cannot
 * be found is valid (has_bup 0, no_bup says why); a BUP found but broken is not.
 * 0 with ci filled, or -1 with err_msg() naming the problem.
 */
int capsule_parse(const uint8_t *buf, uint64_t len, struct capsule_info *ci);

/* Entry i (< ci->bup_count) of a checked BUP. */
void capsule_bup_entry(const struct capsule_info *ci, uint32_t i, struct capsule_bup_entry *e);

/*
 * FwPackageCheckTnSpec: both specs split at '-', the same number of fields, each field equal
 * unless one of the two is empty. 1 match, 0 not.
 */
int capsule_tnspec_match(const char *spec, const char *entry_spec);

/*
 * Whether the BUP names a board: 1 when it has no entry with a TnSpec (it is for any board) or
 * one whose TnSpec matches. Either a board's spec (spec != NULL: capsule_tnspec_match, as the
 * firmware does with TegraPlatformCompatSpec/TegraPlatformSpec), or a board id and SKU (the
 * spec's 1st and 3rd fields; an empty one matches any). On 0, seen gets the first TnSpec found,
 * for the message.
 */
int capsule_bup_names_board(const struct capsule_info *ci, const char *spec, const char *board,
			    const char *sku, char *seen, size_t seen_size);

#endif
