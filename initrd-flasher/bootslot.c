/* SPDX-License-Identifier: MIT */
/* Boot slot: the T234 boot-chain variables in efivarfs, read, told in words, and set last. */
#include "bootslot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "error.h"
#include "le.h"

/* efivarfs marks most variables immutable; the flag must go before a write or unlink. */
static void make_mutable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	int flags;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
		flags &= ~FS_IMMUTABLE_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

static void var_path(char *path, size_t size, const char *dir, const char *name, const char *guid)
{
	snprintf(path, size, "%s/%s-%s", dir, name, guid);
}

/* Reads variable name: 4 bytes of attributes, then value_len bytes (2 or 4). 0 or -1. */
static int read_var(const char *dir, const char *name, const char *guid, size_t value_len,
		    int *present, uint32_t *value)
{
	char path[512];
	var_path(path, sizeof(path), dir, name, guid);
	*present = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set("%s: %s", path, strerror(errno));
	uint8_t buf[16];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)(4 + value_len))
		return err_set("EFI variable %s is %zd bytes, expected %zu (attributes and a %zu-byte "
			       "value)", name, n, 4 + value_len, value_len);
	*present = 1;
	*value = value_len == 2 ? le16_load(buf + 4) : le32_load(buf + 4);
	return 0;
}

static int read_u32(const char *dir, const char *name, struct bootslot_var *v)
{
	return read_var(dir, name, BOOTCHAIN_GUID, 4, &v->present, &v->value);
}

int bootslot_read(const char *dir, struct bootslot_state *s)
{
	memset(s, 0, sizeof(*s));
	uint32_t boot_next = 0;
	if (read_u32(dir, "BootChainFwCurrent", &s->current) != 0 ||
	    read_u32(dir, "BootChainFwNext", &s->next) != 0 ||
	    read_u32(dir, "BootChainFwStatus", &s->status) != 0 ||
	    read_u32(dir, "RootfsStatusSlotA", &s->rootfs[0]) != 0 ||
	    read_u32(dir, "RootfsStatusSlotB", &s->rootfs[1]) != 0 ||
	    read_u32(dir, "RootfsRedundancyLevel", &s->redundancy) != 0 ||
	    read_u32(dir, "RootfsRetryCountMax", &s->retry_max) != 0 ||
	    read_var(dir, "BootNext", EFI_GLOBAL_GUID, 2, &s->boot_next_present, &boot_next) != 0)
		return -1;
	s->boot_next = (uint16_t)boot_next;
	return 0;
}

const char *bootslot_status_text(uint32_t code)
{
	/* STATUS_* of edk2-nvidia Silicon/NVIDIA/Drivers/BootChainDxe/BootChainDxePrivate.h */
	static const char *const text[] = {
		"success",
		"switch in progress",
		"no operation required (the chain asked for was already running)",
		"cancelled: a firmware capsule update was pending",
		"error reading the status",
		"gave up after 3 resets: the new chain never reached UEFI, back on the old one",
		"error setting the reset count",
		"error setting in-progress",
		"the switch in progress failed",
		"bad BootChainFwNext value",
		"error reading BootChainFwNext",
		"error updating the firmware chain",
		"boot chain failed",
		"error reading the reset count",
		"refused: UEFI BootNext exists",
		"error reading the scratch register",
		"error setting the scratch register",
		"refused: a BR-BCT update is pending",
		"error setting the previous chain",
	};
	return code < sizeof(text) / sizeof(text[0]) ? text[code] : "unknown code";
}

static const char *chain_name(uint32_t v)
{
	return v == 0 ? "A" : v == 1 ? "B" : "?";
}

void bootslot_describe(const struct bootslot_state *s, const char *prefix, FILE *out)
{
	if (s->current.present)
		fprintf(out, "%sboot chain: running chain %s (BootChainFwCurrent %u)\n", prefix,
			chain_name(s->current.value), s->current.value);
	else
		fprintf(out, "%sboot chain: running chain not recorded (no BootChainFwCurrent)\n",
			prefix);
	if (s->next.present)
		fprintf(out, "%sboot chain: switch to chain %s pending (BootChainFwNext %u)\n", prefix,
			chain_name(s->next.value), s->next.value);
	else
		fprintf(out, "%sboot chain: no switch pending\n", prefix);
	if (s->status.present)
		fprintf(out, "%sboot chain: last switch: %s (BootChainFwStatus %u)%s\n", prefix,
			bootslot_status_text(s->status.value), s->status.value,
			s->status.value == 1 ? "" : "; while it exists a capsule update is refused");
	else
		fprintf(out, "%sboot chain: no switch result recorded\n", prefix);
	for (int i = 0; i < 2; i++) {
		const struct bootslot_var *r = &s->rootfs[i];
		if (!r->present)
			continue;
		fprintf(out, "%srootfs slot %c: %s (RootfsStatusSlot%c 0x%x)\n", prefix, 'A' + i,
			r->value == 0 ? "normal" : r->value == 0xff ? "unbootable" : "unknown state",
			'A' + i, r->value);
	}
	if (s->redundancy.present)
		fprintf(out, "%srootfs A/B: %s (RootfsRedundancyLevel %u)\n", prefix,
			s->redundancy.value == 1 ? "follows the boot chain" : "boot chain only",
			s->redundancy.value);
	if (s->retry_max.present)
		fprintf(out, "%srootfs A/B: at most %u tries per slot (RootfsRetryCountMax)\n", prefix,
			s->retry_max.value);
	if (s->boot_next_present)
		fprintf(out, "%sUEFI BootNext: Boot%04X, a boot-chain switch is refused while it "
			     "exists\n",
			prefix, s->boot_next);
}

static int remove_var(const char *dir, const char *name, const char *guid, FILE *log)
{
	char path[512];
	var_path(path, sizeof(path), dir, name, guid);
	if (access(path, F_OK) != 0)
		return 0;
	make_mutable(path);
	if (unlink(path) != 0)
		return err_set("%s: cannot remove the stale variable: %s", path, strerror(errno));
	fprintf(log, "flasher: removed stale EFI variable %s\n", name);
	return 0;
}

int bootslot_check(const char *dir, uint8_t slot)
{
	if (slot != PKG_SLOT_A && slot != PKG_SLOT_B)
		return err_set("boot slot %u is neither A nor B", slot);
	struct bootslot_state s;
	if (bootslot_read(dir, &s) != 0)
		return -1;
	/* BootNext is the OS's or the user's one-time boot choice, not ours to delete */
	if (s.boot_next_present)
		return err_set("UEFI BootNext is set (Boot%04X): the firmware refuses a boot-chain "
			       "switch while it exists (status 14); delete it (efibootmgr "
			       "--delete-bootnext) and flash again",
			       s.boot_next);
	return 0;
}

int bootslot_set_efivars(const char *dir, uint8_t slot, FILE *log)
{
	if (bootslot_check(dir, slot) != 0)
		return -1;
	struct bootslot_state s;
	if (bootslot_read(dir, &s) != 0)
		return -1;
	const uint32_t want = slot == PKG_SLOT_A ? 0 : 1;
	if (remove_var(dir, "BootChainFwStatus", BOOTCHAIN_GUID, log) != 0)
		return -1;
	if (s.current.present && s.current.value == want) {
		if (remove_var(dir, "BootChainFwNext", BOOTCHAIN_GUID, log) != 0)
			return -1;
		fprintf(log, "flasher: boot chain %s is the running one: no switch requested\n",
			chain_name(want));
	} else {
		char path[512];
		var_path(path, sizeof(path), dir, "BootChainFwNext", BOOTCHAIN_GUID);
		/* attributes NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS, then the chain */
		uint8_t var[8];
		le32_store(var, 0x7);
		le32_store(var + 4, want);
		make_mutable(path);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return err_set("%s: %s", path, strerror(errno));
		/* efivarfs takes a variable in one write */
		ssize_t n = write(fd, var, sizeof(var));
		int e = errno;
		if (close(fd) != 0 && n == (ssize_t)sizeof(var))
			return err_set("%s: %s", path, strerror(errno));
		if (n != (ssize_t)sizeof(var))
			return err_set("%s: %s", path, n < 0 ? strerror(e) : "short write");
		fprintf(log, "flasher: boot chain %s selected (BootChainFwNext)\n", chain_name(want));
	}
	if (bootslot_read(dir, &s) == 0)
		bootslot_describe(&s, "flasher: ", log);
	return 0;
}
