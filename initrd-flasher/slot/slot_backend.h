/* SPDX-License-Identifier: MIT */
/*
 * Slot backends: how a board boots one of two slots (A/B) on trial, how the running system
 * confirms it, and how the board falls back by itself when it does not (DESIGN.md section 9).
 * One const table (slot_backend.c), chosen by the board's config (`slot-backend NAME`):
 *
 *   systemd-boot  Boot Loader Specification boot counting on the ESP (the QEMU board): each
 *                 slot has a loader entry; a new one is written NAME+TRIES.conf and sorts
 *                 first; systemd-boot counts tries down in the file name, and an entry with
 *                 none left sorts last, so the other slot boots again.
 *   tegra         the T234 firmware's variables (BootChainFwNext/Status/Current,
 *                 RootfsStatusSlotA/B): the new rootfs slot set to normal and its boot chain
 *                 requested; the firmware counts the tries and switches back itself.
 *
 * The update (update.c) calls, in this order and never otherwise:
 *   read -> check -> disarm(target) -> [writes, read-back] -> install(target) -> arm(target)
 * so that a power cut at any moment leaves the running slot the one that boots: the target
 * slot is unbootable from disarm until arm, and arm is the last write. `mark_good` is run by
 * the new system once it is healthy. Every function returns 0, or -1 with err_msg() naming
 * what failed; none of them touches the running slot's boot files or state except mark_good.
 *
 * The first flash (flash.c), from recovery mode, writes both slots and calls:
 *   check_first(A) -> [GPT, writes, read-back of both slots] -> select_first(A)
 * check_first writes nothing and refuses what would make select_first fail, before the flash
 * writes its first byte; select_first runs only once every image was read back, and is the
 * flash's last write, so the board boots slot A only when both slots are complete. A first
 * flash is not power-safe as an update is (it rewrites both slots): a cut before
 * select_first means flashing again; each single write of select_first still leaves a board
 * that boots a complete slot, since both are complete by then.
 *
 * `status` (update_status.c) calls describe after read, to tell the firmware's own state.
 */
#ifndef SELFFLASH_SLOT_BACKEND_H
#define SELFFLASH_SLOT_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a slot holds, as far as booting it goes. */
enum slot_health {
	SLOT_UNKNOWN = 0, /* the backend has no record of it (never installed by an update) */
	SLOT_GOOD,        /* confirmed: boots, and is a fallback */
	SLOT_TRIAL,       /* armed, not confirmed yet: tries_left boots before falling back */
	SLOT_BAD,         /* its tries ran out (tries_done of them), or the firmware gave up */
	SLOT_UNBOOTABLE,  /* disarmed: being written, or an update stopped halfway */
};

struct slot_view {
	enum slot_health health;
	int tries_left; /* SLOT_TRIAL; -1 when not known */
	int tries_done; /* SLOT_TRIAL, SLOT_BAD: boots tried so far; -1 when not known */
	int has_version;
	uint64_t version; /* the package's system version the slot was armed with */
};

/* What a backend needs from the board's config; the strings outlive the call. */
struct slot_env {
	const char *esp;     /* systemd-boot: the directory where the ESP is mounted */
	const char *efivars; /* tegra: the efivarfs directory */
	const char *esrt;    /* tegra: the ESRT in sysfs (/sys/firmware/efi/esrt); NULL: none, or
			      * below sysfs for the firmware release */
	/* tegra: the memory device the rootfs tries register is reached through (NULL:
	 * /dev/mem), the sysfs root bios_version and the ESRT are read from (NULL: /sys), and
	 * the firmware release when the board's own word is missing or wrong ("35.4.1"; NULL:
	 * read it) */
	const char *mem_device;
	const char *sysfs;
	const char *firmware_release;
	/* tegra: the release (the ESRT's form, 0x230401 = 35.4.1) of boot firmware the update
	 * stages with the slot (a capsule), which then boots it; 0 when it stages none */
	uint32_t staged_firmware_version;
	const uint8_t *staged_capsule; /* tegra: that capsule, checked against the board by check */
	size_t staged_capsule_len;
	int restore_other;   /* mark_good: the other slot made bootable again (asked for) */
	/* mark_good: the file the running system's image says its own version in (NULL:
	 * /etc/selfflash/system-version, slot_version.h), recorded where no update did */
	const char *system_version_file;
	int tries;           /* boots on trial before falling back (1..3 on tegra; default 3) */
	FILE *log;           /* a line per change made; never NULL */
};

/* What boots the target slot, taken from its verified kernel partition (a boot image). */
struct slot_boot {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *ramdisk; /* NULL when the boot image has none */
	size_t ramdisk_len;
	const char *cmdline;        /* the boot image's command line ("" when empty) */
	const char *root_partition; /* the target slot's rootfs partition name (GPT), e.g. APP_b */
	uint64_t version;           /* the package's system version */
	/* tegra: a UEFI capsule for the target chain's firmware (the package's file partition,
	 * every chunk's SHA-256 checked, capsule_parse'd), staged by install on the ESP
	 * (e->esp) and requested by arm; the firmware applies it at the next boot and switches
	 * the chain itself (docs/t234-firmware-facts.md section 3.1). NULL: none. */
	const uint8_t *capsule;
	size_t capsule_len;
};

struct slot_backend_ops {
	const char *name;
	/* 1: install places the kernel and ramdisk (systemd-boot), so an update needs the target
	 * slot's kernel partition; 0: the slot's own partitions boot it (tegra). */
	int install_needs_kernel;
	/*
	 * Both slots' state (v[0] slot A, v[1] slot B) and, where the backend can tell, which
	 * slot runs now (PKG_SLOT_A/PKG_SLOT_B, or 0 when it cannot: systemd-boot leaves that to
	 * the root partition's name).
	 */
	int (*read)(const struct slot_env *e, struct slot_view v[2], uint8_t *running);
	/* Before anything is written: refuses what would make the switch fail later (tegra:
	 * a UEFI BootNext; a running slot that is not the one the firmware booted). */
	int (*check)(const struct slot_env *e, uint8_t target);
	/* The target slot can no longer be chosen to boot: before its first byte is written. */
	int (*disarm)(const struct slot_env *e, uint8_t target);
	/* The files that boot the target slot placed where the boot loader finds them (the ESP:
	 * new file, fsync, rename), after every image was read back; NULL where the slot's own
	 * partitions already hold them. Changes nothing that belongs to the other slot. tegra: the
	 * capsule (b->capsule) staged on the ESP, after the firmware's capsule request was taken
	 * back and stale capsules removed; nothing without one. */
	int (*install)(const struct slot_env *e, uint8_t target, const struct slot_boot *b);
	/* The last write: the target slot boots next, on trial, with e->tries tries; records
	 * b->version for anti-rollback. */
	int (*arm)(const struct slot_env *e, uint8_t target, const struct slot_boot *b);
	/* The running slot confirmed: its trial ends, it is the slot that boots from now on.
	 * Anti-rollback: the slot's version recorded where nothing recorded it yet (a first
	 * flash's slot: from e->system_version_file), and the floor raised to it. */
	int (*mark_good)(const struct slot_env *e, uint8_t running);
	/* Anti-rollback's floor: the largest system version ever confirmed on this board (both
	 * slots; mark_good raises it, nothing lowers it). *known 0 when none was recorded yet.
	 * Writes nothing. 0 or -1. */
	int (*read_floor)(const struct slot_env *e, int *known, uint64_t *floor);
	/* First flash, before anything is written: refuses what would make select_first fail
	 * (tegra: a UEFI BootNext, a variable the firmware left malformed). Writes nothing. */
	int (*check_first)(const struct slot_env *e, uint8_t slot);
	/* First flash, the last write after every read-back passed: `slot` boots next, not on
	 * trial (there is no older system to fall back to). Logs what it did. */
	int (*select_first)(const struct slot_env *e, uint8_t slot);
	/* The firmware's own boot state in words to out, a line per fact, for `status`; NULL
	 * where read's view says all there is (systemd-boot). Writes nothing. */
	int (*describe)(const struct slot_env *e, FILE *out);
	/* `doctor`: every fact that would make an update fail without a word, checked, one
	 * line each to out ("ok: ..." or "PROBLEM: ... fix: ..."); *problems counts the
	 * latter. NULL where the backend has none. Writes nothing. 0, or -1 when the state
	 * cannot be read at all. */
	int (*doctor)(const struct slot_env *e, FILE *out, int *problems);
};

/* The backend called name, or NULL (err_msg() lists the names there are). */
const struct slot_backend_ops *slot_backend_find(const char *name);

/* PKG_SLOT_A/B as 0/1 (slot A, slot B: the index of a slot_view, the firmware's chain) in
 * *index; 0, or -1 naming a slot that is neither. */
int slot_index(uint8_t slot, int *index);

/* "good", "on trial", "bad", "unbootable", "unknown". */
const char *slot_health_name(enum slot_health h);

extern const struct slot_backend_ops slot_backend_systemd_boot;
extern const struct slot_backend_ops slot_backend_tegra;

#endif
