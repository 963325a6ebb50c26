/* SPDX-License-Identifier: MIT */
/* ESRT last_attempt_status codes in words (capsule_status.h). */
#include "capsule_status.h"

#include <stdio.h>

/* MdePkg/Include/Guid/SystemResourceTable.h:36-44 */
static const char *const uefi_codes[] = {
	"success: the capsule was applied",
	"unsuccessful (LAST_ATTEMPT_STATUS_ERROR_UNSUCCESSFUL)",
	"insufficient resources (LAST_ATTEMPT_STATUS_ERROR_INSUFFICIENT_RESOURCES)",
	"incorrect version: older than the lowest supported (LAST_ATTEMPT_STATUS_ERROR_INCORRECT_VERSION)",
	"invalid format (LAST_ATTEMPT_STATUS_ERROR_INVALID_FORMAT)",
	"authentication error: the capsule's signature is not trusted (LAST_ATTEMPT_STATUS_ERROR_AUTH_ERROR)",
	"refused on AC power state (LAST_ATTEMPT_STATUS_ERROR_PWR_EVT_AC)",
	"refused on battery state (LAST_ATTEMPT_STATUS_ERROR_PWR_EVT_BATT)",
	"unsatisfied dependencies (LAST_ATTEMPT_STATUS_ERROR_UNSATISFIED_DEPENDENCIES)",
};

/* TegraFmp.c:50-76@r36.4.3 (LAS_ERROR_*, from LAST_ATTEMPT_STATUS_DEVICE_LIBRARY_MIN_ERROR_
 * CODE_VALUE = 0x1800 = 6144); r35.4.1 has the first 20 (TegraFmp.c:50-72@r35.4.1) */
#define NVIDIA_FIRST 6144u
#define NVIDIA_R35_COUNT 20u
static const char *const nvidia_codes[] = {
	"bad image pointer (LAS_ERROR_BAD_IMAGE_POINTER)",
	"invalid package header: not an NVIDIA update package (LAS_ERROR_INVALID_PACKAGE_HEADER)",
	"unsupported package type (LAS_ERROR_UNSUPPORTED_PACKAGE_TYPE)",
	"invalid package image info array (LAS_ERROR_INVALID_PACKAGE_IMAGE_INFO_ARRAY)",
	"an image is bigger than its partition (LAS_ERROR_IMAGE_TOO_BIG)",
	"package size error: an image goes past the capsule (LAS_ERROR_PACKAGE_SIZE_ERROR)",
	"not updatable (LAS_ERROR_NOT_UPDATABLE)",
	"a required image is not in the package for this board: its TnSpec matches none of the "
	"capsule's entries (LAS_ERROR_IMAGE_NOT_IN_PACKAGE)",
	"could not invalidate mb1 of the inactive chain (LAS_ERROR_MB1_INVALIDATE_ERROR)",
	"single-image capsules not supported (LAS_ERROR_SINGLE_IMAGE_NOT_SUPPORTED)",
	"image index missing (LAS_ERROR_IMAGE_INDEX_MISSING; deprecated in r36)",
	"no protocol for a required image (LAS_ERROR_NO_PROTOCOL_FOR_IMAGE)",
	"image attributes error (LAS_ERROR_IMAGE_ATTRIBUTES_ERROR)",
	"BR-BCT update to the new chain failed (LAS_ERROR_BCT_UPDATE_FAILED)",
	"writing the images failed (LAS_ERROR_WRITE_IMAGES_FAILED)",
	"writing mb1 failed (LAS_ERROR_MB1_WRITE_ERROR)",
	"verifying the written images failed (LAS_ERROR_VERIFY_IMAGES_FAILED)",
	"single-image update failed (LAS_ERROR_SET_SINGLE_IMAGE_FAILED)",
	"the FMP library was not initialised (LAS_ERROR_FMP_LIB_UNINITIALIZED)",
	"cancelled: BootChainFwNext or BootChainFwStatus existed; delete both and stage it again "
	"(LAS_ERROR_BOOT_CHAIN_UPDATE_CANCELED)",
	"GPT metadata update of the inactive chain failed (LAS_ERROR_GPT_METADATA_UPDATE_FAILED)",
	"GPT verify failed (LAS_ERROR_GPT_VERIFY_FAILED)",
	"GPT invalidate failed (LAS_ERROR_GPT_INVALIDATE_FAILED)",
	"GPT write failed (LAS_ERROR_GPT_WRITE_FAILED)",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *capsule_status_text(uint32_t code, char *out, size_t size)
{
	if (code < COUNT(uefi_codes)) {
		snprintf(out, size, "%s", uefi_codes[code]);
	} else if (code >= NVIDIA_FIRST && code - NVIDIA_FIRST < COUNT(nvidia_codes)) {
		uint32_t i = code - NVIDIA_FIRST;
		snprintf(out, size, "NVIDIA: %s [edk2-nvidia %s]", nvidia_codes[i],
			 i < NVIDIA_R35_COUNT ? "r35.4.1 and r36.4.3" : "r36.4.3; not in r35.4.1");
	} else if (code >= 0x1000 && code <= 0x107F) {
		snprintf(out, size, "edk2 FmpDxe error 0x%x (0x1000-0x107f: the capsule was refused "
			 "before NVIDIA's code saw it: authentication, version, header)", code);
	} else if (code >= 0x1080 && code <= 0x109F) {
		snprintf(out, size, "edk2 FMP dependency library error 0x%x (0x1080-0x109f)", code);
	} else if (code >= 0x10A0 && code <= 0x10BF) {
		snprintf(out, size, "edk2 FMP dependency check error 0x%x (0x10a0-0x10bf)", code);
	} else if (code >= 0x10C0 && code <= 0x17FF) {
		snprintf(out, size, "edk2 FMP reserved range 0x%x (0x10c0-0x17ff), not defined", code);
	} else if (code >= 0x1800 && code <= 0x1FFF) {
		snprintf(out, size, "device library error %u (0x%x), not one NVIDIA defines in "
			 "r35.4.1 or r36.4.3", code, code);
	} else if (code >= 0x2000 && code <= 0x3FFF) {
		snprintf(out, size, "vendor error 0x%x (the UEFI spec's vendor range)", code);
	} else {
		snprintf(out, size, "unknown status %u (0x%x), not in the UEFI spec", code, code);
	}
	return out;
}
