/* SPDX-License-Identifier: MIT */
/*
 * An ESRT last_attempt_status in words (docs/t234-firmware-facts.md sections 3 and 3.1): 0 and
 * the UEFI spec's LAST_ATTEMPT_STATUS_ERROR_* (MdePkg Guid/SystemResourceTable.h), edk2
 * FmpDxe's and its dependency libraries' ranges (FmpDevicePkg Include/LastAttemptStatus.h),
 * and NVIDIA's TegraFmp codes 6144..6167 with the releases that have them (edk2-nvidia
 * Silicon/NVIDIA/Library/FmpDeviceLib/TegraFmp.c, r35.4.1 and r36.4.3).
 */
#ifndef SELFFLASH_CAPSULE_STATUS_H
#define SELFFLASH_CAPSULE_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* NVIDIA's refusal when BootChainFwNext or BootChainFwStatus exists (BootChainCheckAndCancel-
 * Update): LAS_ERROR_BOOT_CHAIN_UPDATE_CANCELED */
#define CAPSULE_LAS_BOOT_CHAIN_CANCELED 6163u

/* code in words into out (always terminated; a code nobody defines says so); returns out. */
const char *capsule_status_text(uint32_t code, char *out, size_t size);

#endif
