/* SPDX-License-Identifier: MIT */
/*
 * What selfflash did to a T234 slot, kept where the firmware keeps nothing of the kind: the
 * variable SelfflashSlotA / SelfflashSlotB under selfflash's own vendor GUID (attributes
 * NV|BS|RT; value: u32 state, u32 flags, u64 system version, little-endian). It is how the
 * tegra backend tells a slot it disarmed (being written) from one the firmware gave up on,
 * and how anti-rollback knows a slot's version. Shared by slot_tegra.c and tegra_confirm.c.
 */
#ifndef SELFFLASH_TEGRA_RECORD_H
#define SELFFLASH_TEGRA_RECORD_H

#include <stdint.h>

/* RootfsStatusSlotX values: NVIDIA_OS_STATUS_NORMAL / _UNBOOTABLE (edk2-nvidia
 * Silicon/NVIDIA/Include/NVIDIAConfiguration.h:23-27 @r35.3.1, @r36.4.3) */
#define TEGRA_ROOTFS_NORMAL 0x0u
#define TEGRA_ROOTFS_UNBOOTABLE 0xffu

/* BootChainFwStatus STATUS_IN_PROGRESS (BootChainDxePrivate.h) */
#define TEGRA_BOOTCHAIN_IN_PROGRESS 1u

enum record_state {
	RECORD_NONE = 0,        /* no record: never touched by an update */
	RECORD_WRITING = 1,     /* disarmed, being written */
	RECORD_ARMED = 2,       /* written, verified, its chain requested */
	RECORD_CONFIRMED = 3,   /* its system ran mark_good */
	RECORD_ROLLED_BACK = 4, /* armed, but the board came back on the other slot */
};

struct slot_record {
	enum record_state state;
	int has_version;
	uint64_t version;
};

/* "RootfsStatusSlotA" / "RootfsStatusSlotB", "SelfflashSlotA" / "SelfflashSlotB" */
extern const char *const tegra_rootfs_var[2];
extern const char *const tegra_record_var[2];

/* "SelfflashFloor": anti-rollback's floor, the largest system version ever confirmed on the
 * board (u64, little-endian; same GUID and attributes). A variable of its own, not a field of
 * a slot's record: a slot's record is rewritten whole at disarm, and the floor must outlive
 * every slot's. */
extern const char *const tegra_floor_var;

/* Slot i's record from the efivarfs at dir (none: state RECORD_NONE). 0 or -1. */
int tegra_record_read(const char *dir, int i, struct slot_record *r);
int tegra_record_write(const char *dir, int i, const struct slot_record *r);

/* The floor (*known 0 when never recorded). 0 or -1. */
int tegra_floor_read(const char *dir, int *known, uint64_t *floor);
/* The floor raised to v; never lowered; *raised 1 when it was written. 0 or -1. */
int tegra_floor_raise(const char *dir, uint64_t v, int *raised);

#endif
