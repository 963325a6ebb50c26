/* SPDX-License-Identifier: MIT */
/*
 * Capsule on disk as edk2-nvidia does it at BDS on a normal boot (test code; facts and lines
 * in docs/t234-firmware-facts.md section 3.1): PlatformBm.c's CoDCheckCapsuleOnDiskFlag ->
 * CoDRelocateCapsule (OsIndications bit 0x4 cleared, BootNext deleted, every file of
 * <ESP>/EFI/UpdateCapsule loaded and deleted) -> TegraFmp (CheckAndCancelUpdate: status 3,
 * LAS 6163 while BootChainFwNext/BootChainFwStatus exist; the board's TnSpec: 6151; else the
 * inactive chain written and the BR-BCT rewritten to it, LAS 0) -> a cold reset.
 */
#ifndef SELFFLASH_T234_MODEL_CAPSULE_H
#define SELFFLASH_T234_MODEL_CAPSULE_H

#include <stdint.h>

#include "t234_model.h"

/* What the model needs beside struct t234_model, and what it leaves. */
struct model_capsule {
	const char *esp;        /* the ESP directory (EFI/UpdateCapsule under it) */
	const char *board_spec; /* TegraPlatformCompatSpec; NULL or "": matches any capsule */
	const char *esrt;       /* NULL, or a directory where entries/entry0/ is written */
	int las_present;        /* the ESRT's last_attempt_status, once a capsule was seen */
	uint32_t las;
	int applied;            /* capsules applied so far */
	int files_loaded;       /* files the last run loaded (and deleted) */
};

/*
 * One BDS pass on a board running `chain` (0 A, 1 B): no OsIndications bit 0x4 -> 0, nothing
 * changed. Else the bit cleared, BootNext deleted, each capsule file loaded, deleted and
 * processed; a successful one sets m->br_bct_chain to the other chain. Returns 1: the
 * firmware resets (PlatformBm sets NeedReset even when no file was found); -1 on a test
 * set-up error.
 */
int model_capsule_on_disk(struct t234_model *m, uint32_t chain, struct model_capsule *c);

#endif
