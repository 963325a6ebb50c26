/* SPDX-License-Identifier: MIT */
/*
 * The tegra backend on the running system's side: mark_good on every healthy boot, the first
 * flash's boot slot, status and doctor (slot_tegra.c has the update's side).
 *
 * What confirms a boot on a T234 (docs/t234-firmware-facts.md section 1): L4TLauncher takes a
 * try from the SR_RF scratch register on every boot and refills every bootable slot's tries
 * (RootfsRetryCountMax) only when the register's magic is gone; edk2-nvidia has no variable
 * for it in r35.3.1, r35.4.1 or r36.4.3. NVIDIA's `nvbootctrl verify` (R35.3.1, run by
 * nv-l4t-bootloader-config.service on every boot) clears the register through /dev/mem and
 * deletes BootChainFwStatus. mark_good does the same, so a confirmed system keeps its slot
 * for as many reboots as it likes; without it the board falls to the other slot, and then to
 * the recovery kernel, after RootfsRetryCountMax boots.
 */
#include <string.h>

#include "bootslot.h"
#include "error.h"
#include "pkg.h"
#include "slot_version.h"
#include "tegra_backend.h"
#include "tegra_record.h"
#include "tegra_release.h"
#include "tegra_scratch.h"

/* NVIDIA_OS_REDUNDANCY_BOOT_ROOTFS (NVIDIAConfiguration.h:23-27 @r35.3.1): only then does
 * ValidateRootfsStatus boot rootfs B with chain B. It is a locked default of the UEFI image's
 * device tree (L4TConfiguration.dts:34-43 @r35.3.1), set by NVIDIA's tools when the images
 * are made with ROOTFS_AB=1 (DESIGN.md section 12): the OS cannot change it. */
int tegra_redundancy_problem(const struct tegra_state *s, char *out, size_t size)
{
	if (s->redundancy.present && s->redundancy.value == 1)
		return 0;
	char level[48] = "missing";
	if (s->redundancy.present)
		snprintf(level, sizeof(level), "%u", s->redundancy.value);
	snprintf(out, size,
		 "RootfsRedundancyLevel is %s, not 1: the firmware was built without rootfs A/B, "
		 "so chain B would still boot rootfs A; it is fixed in the UEFI image, not from "
		 "Linux: make NVIDIA's images again with ROOTFS_AB=1 (ROOTFS_AB=1 "
		 "tools/kernel_flash/l4t_initrd_flash.sh --no-flash ..., with an A/B layout), "
		 "then `mkflashpkg l4t` and flash the board in recovery mode",
		 level);
	return 1;
}

static void release_text(const struct tegra_release *r, char *out, size_t size)
{
	if (r->known) {
		char name[32];
		snprintf(out, size, "%s (from %s)", tegra_release_name(r, name, sizeof(name)),
			 r->source);
	} else {
		snprintf(out, size, "unknown (bios_version \"%s\"%s)", r->bios_version,
			 r->esrt_present ? ", ESRT fw_version not a release" : ", no ESRT entry");
	}
}

int tegra_release_problem(const struct slot_env *e, const struct tegra_release *r, char *out,
			   size_t size)
{
	char text[200];
	release_text(r, text, sizeof(text));
	if (!r->known) {
		snprintf(out, size, "the boot firmware's release is %s: its rollback rules are not "
				    "known; set firmware-release in the config to the L4T release the "
				    "boot firmware was flashed from (nv_tegra/bsp_version), e.g. 35.4.1",
			 text);
		return 1;
	}
	if (tegra_release_rollback_ends(r->major, r->minor, r->patch))
		return 0;
	const uint32_t staged = e->staged_firmware_version;
	if (staged && tegra_release_rollback_ends(staged >> 16, (staged >> 8) & 0xff, staged & 0xff))
		return 0; /* the staged firmware's launcher is the one that would roll back */
	snprintf(out, size,
		 "the boot firmware is %s: its launcher keeps BootChainFwStatus when it rolls a "
		 "failed slot back (fixed from r35.4.1, edk2-nvidia commit fd241e8d), so a slot "
		 "that does not boot would reset the board for ever; update the boot firmware to "
		 "r35.4.1 or later first (flash the board in recovery mode from that BSP, or carry "
		 "that release's capsule in the package)",
		 text);
	return 1;
}

int tegra_check_release(const struct slot_env *e)
{
	struct tegra_release r;
	char problem[600];
	if (tegra_release_read(e->sysfs, e->esrt, e->firmware_release, &r) != 0)
		return -1;
	if (tegra_release_problem(e, &r, problem, sizeof(problem)))
		return err_set("%s", problem);
	return 0;
}

/* The other slot at 0xFF: made bootable again only when asked (e->restore_other); never
 * when an update was writing it. 0 or -1. */
static int other_unbootable(const struct slot_env *e, const struct tegra_state *s, int other,
			    const struct slot_record *rec)
{
	if (!s->rootfs[other].present || s->rootfs[other].value != TEGRA_ROOTFS_UNBOOTABLE)
		return 0;
	if (!e->restore_other) {
		fprintf(e->log, "slot: slot %c is unbootable (%s 0xff): the board has no slot to "
				"fall back to; `selfflash update` rewrites it, or `selfflash "
				"mark-good --restore-other` if its system is known sound\n",
			'A' + other, tegra_rootfs_var[other]);
		return 0;
	}
	if (rec->state == RECORD_WRITING)
		return err_set("slot %c is half-written (an update stopped): not making it "
			       "bootable; run the update again", 'A' + other);
	if (tegra_vars_write_u32(e->efivars, tegra_rootfs_var[other], TEGRA_ROOTFS_NORMAL) != 0)
		return -1;
	fprintf(e->log, "slot: slot %c made bootable again (%s 0), as asked: it gets its tries "
			"at the next boot\n", 'A' + other, tegra_rootfs_var[other]);
	return 0;
}

/*
 * A slot no update armed (a first flash's) has no version in its record: the first flash runs
 * in recovery mode, where the firmware keeps EFI variables in memory only (tegra_check_first),
 * so it cannot record one, and writing a file into the rootfs it just read back would change
 * the bytes it proved. The running system says its own version instead, in a file of its
 * image (e->system_version_file; rootfs/build.sh writes /etc/selfflash/system-version), and
 * the first mark_good records it: the image is the signed one the flash wrote. Without the
 * file the slot stays unrecorded, and anti-rollback refuses updates from it until it is
 * recorded or --allow-downgrade is given (update_check.h). *found 1 when it was recorded.
 */
static int own_version(const struct slot_env *e, int r, struct slot_record *own, int *found)
{
	uint64_t v;
	const char *file = e->system_version_file ? e->system_version_file
						  : SLOT_SYSTEM_VERSION_FILE;
	/* a bad file must not fail the confirmation: the board would fall back for it */
	if (slot_version_read_own(e, found, &v) != 0) {
		fprintf(e->log, "slot: slot %c's system version not recorded: %s\n", 'A' + r,
			err_msg());
		*found = 0;
		return 0;
	}
	if (!*found) {
		fprintf(e->log, "slot: slot %c's system version is not recorded (no update armed "
				"it) and %s is missing: updates from it are refused unless "
				"--allow-downgrade; write the system's version there\n",
			'A' + r, file);
		return 0;
	}
	own->has_version = 1;
	own->version = v;
	fprintf(e->log, "slot: slot %c's system version %llu recorded (from %s)\n", 'A' + r,
		(unsigned long long)v, file);
	return 0;
}

/* The floor covers both slots: a confirmed version is one the board must never go below. */
static int raise_floor(const struct slot_env *e, uint64_t v)
{
	int raised;
	if (tegra_floor_raise(e->efivars, v, &raised) != 0)
		return -1;
	if (raised)
		fprintf(e->log, "slot: anti-rollback floor raised to %llu (%s): packages older "
				"than it are refused\n", (unsigned long long)v, tegra_floor_var);
	return 0;
}

int tegra_read_floor(const struct slot_env *e, int *known, uint64_t *floor)
{
	return tegra_floor_read(e->efivars, known, floor);
}

int tegra_mark_good(const struct slot_env *e, uint8_t running)
{
	int r = 0;
	if (slot_index(running, &r) != 0)
		return -1;
	struct tegra_state s;
	int current;
	if (tegra_read_state(e->efivars, &s, &current) != 0)
		return -1;
	if (current != r)
		return err_set("slot %c is not the one the firmware booted (BootChainFwCurrent %u)",
			       'A' + r, s.current.value);
	struct slot_record own, other;
	if (tegra_record_read(e->efivars, r, &own) != 0 ||
	    tegra_record_read(e->efivars, 1 - r, &other) != 0)
		return -1;
	/* a running slot marked unbootable would get no tries once the register is cleared */
	if (s.rootfs[r].present && s.rootfs[r].value != TEGRA_ROOTFS_NORMAL) {
		if (tegra_vars_write_u32(e->efivars, tegra_rootfs_var[r], TEGRA_ROOTFS_NORMAL) != 0)
			return -1;
		fprintf(e->log, "slot: slot %c runs and is healthy but was marked 0x%x (%s): set "
				"normal\n", 'A' + r, s.rootfs[r].value, tegra_rootfs_var[r]);
	}
	const int switch_pending = s.next.present && s.next.value == (uint32_t)(1 - r);
	if (other.state == RECORD_ARMED && !switch_pending) {
		other.state = RECORD_ROLLED_BACK;
		if (tegra_record_write(e->efivars, 1 - r, &other) != 0)
			return -1;
		fprintf(e->log, "slot: the update to slot %c rolled back: the board came back on "
				"slot %c%s%s\n", 'B' - r, 'A' + r,
			s.status.present ? "; last switch: " : "",
			s.status.present ? tegra_vars_status_text(s.status.value) : "");
	}
	int version_found = 0;
	if (!own.has_version && own_version(e, r, &own, &version_found) != 0)
		return -1;
	if (own.state != RECORD_CONFIRMED || version_found) {
		own.state = RECORD_CONFIRMED;
		if (tegra_record_write(e->efivars, r, &own) != 0)
			return -1;
		fprintf(e->log, "slot: slot %c confirmed\n", 'A' + r);
	}
	if (own.has_version && raise_floor(e, own.version) != 0)
		return -1;
	/* a switch still in progress belongs to the firmware; any other outcome is stale */
	if (s.status.present && s.status.value != TEGRA_BOOTCHAIN_IN_PROGRESS) {
		if (bootslot_var_remove(e->efivars, "BootChainFwStatus", BOOTCHAIN_GUID) < 0)
			return -1;
		fprintf(e->log, "slot: removed the stale BootChainFwStatus (%u)\n", s.status.value);
	}
	if (other_unbootable(e, &s, 1 - r, &other) != 0)
		return -1;
	/* last: the launcher sets the register up again at the next boot, from the variables
	 * just written, with RootfsRetryCountMax tries for every bootable slot */
	if (tegra_scratch_write(e->mem_device, TEGRA_SR_RF_ADDRESS, 0) != 0)
		return err_prefix("slot %c's tries not restored", 'A' + r);
	fprintf(e->log, "slot: slot %c's tries restored (rootfs tries register cleared)\n",
		'A' + r);
	return 0;
}

/* In recovery mode the firmware keeps EFI variables in memory only (TegraPlatformInitDxe.c
 * :446-458 @r35.3.1, :745-751 @r36.4.3; StandaloneMmFixupPcd.c:124-137 @r36.4.3): nothing
 * written there reaches the board, and nothing read there is the board's. So the first
 * flash neither checks nor writes variables: its QSPI step leaves the variable store blank
 * (flash.c), and the boot BCT it wrote selects chain A. */
int tegra_check_first(const struct slot_env *e, uint8_t slot)
{
	(void)e;
	int chain;
	if (slot_index(slot, &chain) != 0)
		return -1;
	if (chain != 0)
		return err_set("a first flash boots chain A (the boot BCT selects it), not %c",
			       'A' + chain);
	return 0;
}

int tegra_select_first(const struct slot_env *e, uint8_t slot)
{
	if (tegra_check_first(e, slot) != 0)
		return -1;
	fprintf(e->log, "flasher: boot chain A: the boot BCT just written selects it; no EFI "
			"variable written (in recovery mode the firmware keeps them in memory only)\n");
	fprintf(e->log, "flasher: at its first boot the firmware starts from the QSPI variable "
			"store: with a blank store, chain A, both rootfs slots normal, "
			"RootfsRetryCountMax and RootfsRedundancyLevel from the UEFI image's "
			"defaults; the system's version is recorded for anti-rollback at its first "
			"`selfflash mark-good` (from %s)\n",
		e->system_version_file ? e->system_version_file : SLOT_SYSTEM_VERSION_FILE);
	return 0;
}
