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

/* DIR/NAME-GUID, the efivarfs file of a variable; -1 when it does not fit. */
static int var_path(char *path, size_t size, const char *dir, const char *name, const char *guid)
{
	int n = snprintf(path, size, "%s/%s-%s", dir, name, guid);
	if (n < 0 || (size_t)n >= size)
		return err_set("EFI variable %s: the path under %s is too long", name, dir);
	return 0;
}

int bootslot_var_read(const char *dir, const char *name, const char *guid, uint8_t *value,
		      size_t cap, size_t *len, int *present)
{
	char path[512];
	*present = 0;
	*len = 0;
	if (cap > BOOTSLOT_VAR_MAX)
		cap = BOOTSLOT_VAR_MAX;
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set("%s: %s", path, strerror(errno));
	/* one byte more than fits, so that a variable too large is seen, not cut */
	uint8_t buf[4 + BOOTSLOT_VAR_MAX + 1];
	ssize_t n = read(fd, buf, 4 + cap + 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return err_set("%s: %s", path, strerror(e));
	if (n < 4 || (size_t)n > 4 + cap)
		return err_set("EFI variable %s is %zd bytes, expected 4 bytes of attributes and at "
			       "most %zu of value", name, n, cap);
	memcpy(value, buf + 4, (size_t)n - 4);
	*len = (size_t)n - 4;
	*present = 1;
	return 0;
}

int bootslot_var_write(const char *dir, const char *name, const char *guid, uint32_t attributes,
		       const uint8_t *value, size_t len)
{
	char path[512];
	if (len == 0 || len > BOOTSLOT_VAR_MAX)
		return err_set("EFI variable %s: a value of %zu bytes (1..%d allowed)", name, len,
			       BOOTSLOT_VAR_MAX);
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	uint8_t var[4 + BOOTSLOT_VAR_MAX];
	le32_store(var, attributes);
	memcpy(var + 4, value, len);
	make_mutable(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	/* efivarfs takes a variable in one write */
	ssize_t n = write(fd, var, 4 + len);
	int e = errno;
	if (close(fd) != 0 && n == (ssize_t)(4 + len))
		return err_set("%s: %s", path, strerror(errno));
	if (n != (ssize_t)(4 + len))
		return err_set("%s: %s", path, n < 0 ? strerror(e) : "short write");
	return 0;
}

int bootslot_var_remove(const char *dir, const char *name, const char *guid)
{
	char path[512];
	if (var_path(path, sizeof(path), dir, name, guid) != 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0;
	make_mutable(path);
	if (unlink(path) != 0)
		return err_set("%s: cannot remove the variable: %s", path, strerror(errno));
	return 1;
}

/* Reads variable name: 4 bytes of attributes, then value_len bytes (2 or 4). 0 or -1. */
static int read_var(const char *dir, const char *name, const char *guid, size_t value_len,
		    int *present, uint32_t *value)
{
	uint8_t buf[BOOTSLOT_VAR_MAX];
	size_t len;
	if (bootslot_var_read(dir, name, guid, buf, sizeof(buf), &len, present) != 0)
		return -1;
	if (!*present)
		return 0;
	if (len != value_len)
		return err_set("EFI variable %s is %zu bytes, expected %zu (attributes and a %zu-byte "
			       "value)", name, 4 + len, 4 + value_len, value_len);
	*value = value_len == 2 ? le16_load(buf) : le32_load(buf);
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
	int removed = bootslot_var_remove(dir, name, guid);
	if (removed > 0)
		fprintf(log, "flasher: removed stale EFI variable %s\n", name);
	return removed < 0 ? -1 : 0;
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
		/* attributes NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS, then the chain */
		uint8_t value[4];
		le32_store(value, want);
		if (bootslot_var_write(dir, "BootChainFwNext", BOOTCHAIN_GUID, BOOTSLOT_ATTR_NV_BS_RT,
				       value, sizeof(value)) != 0)
			return -1;
		fprintf(log, "flasher: boot chain %s selected (BootChainFwNext)\n", chain_name(want));
	}
	if (bootslot_read(dir, &s) == 0)
		bootslot_describe(&s, "flasher: ", log);
	return 0;
}
