/* SPDX-License-Identifier: MIT */
/* First flash: imageless QSPI partitions blanked, a stale UEFI variable store reported first. */
#include "flash_blank.h"

#include <inttypes.h>
#include <string.h>

#include "board/efi_varstore.h"
#include "error.h"
#include "write/gpt_write.h"
#include "write/target_kind.h"

/* The partitions the T234 firmware keeps its variables in, by the names it finds them by
 * (edk2-nvidia Silicon/NVIDIA/Drivers/FvbNorFlashDxe/FvbPrivate.h:36-37@r35.3.1), and what it
 * does with an erased one on the next normal boot (FvbNorFlashStandaloneMm.c:684-1000@r35.3.1;
 * docs/t234-firmware-facts.md section 4). */
#define VARIABLE_STORE "uefi_variables"
static const struct {
	const char *name, *then;
} firmware_formats[] = {
	{ VARIABLE_STORE, "the firmware formats a fresh variable store" },
	{ "uefi_ftw", "the firmware writes a fresh fault-tolerant-write working block" },
};

int flash_blank_due(const struct pkg_manifest *m, const struct pkg_partition *parts, uint32_t i,
		    uint32_t variant)
{
	const struct pkg_partition *p = &parts[i];
	struct pkg_target tg;
	pkg_manifest_target(m, p->target, &tg);
	if (tg.kind != PKG_TARGET_MTD || p->kind != PKG_PART_DATA || p->size == 0 ||
	    p == gpt_qspi_backup(m, p->target, parts))
		return 0;
	for (uint32_t k = 0; k < m->image_count; k++) {
		struct pkg_image im;
		pkg_manifest_image(m, k, &im);
		if (im.partition == i && pkg_image_in_variant(&im, variant))
			return 0;
	}
	return 1;
}

void flash_blank_print(FILE *log, const struct pkg_manifest *m, const struct pkg_partition *parts,
		       uint32_t variant)
{
	for (uint32_t i = 0; i < m->partition_count; i++) {
		if (!flash_blank_due(m, parts, i, variant))
			continue;
		struct pkg_target tg;
		pkg_manifest_target(m, parts[i].target, &tg);
		fprintf(log, "plan: %s:%" PRIu32 " %-24s blank: no image, erased where it holds data\n",
			tg.type, tg.instance, parts[i].name);
	}
}

/* What the store in bytes held that would steer the next boot, in one log line. An
 * unreadable store is said so; it is erased all the same. */
static void report_store(FILE *log, const char *name, const uint8_t *bytes, uint64_t len)
{
	struct efi_varstore_found f;
	int rc = efi_varstore_read(bytes, len, &f);
	if (rc == 1)
		return; /* an erased header: the per-partition line tells the rest */
	char vars[256];
	unsigned n = efi_varstore_describe(&f, vars, sizeof(vars));
	if (rc < 0) {
		fprintf(log, "flasher: %s: not a variable store the firmware would use (%s)%s%s\n",
			name, err_msg(), n ? "; before that it held " : "", vars);
		err_clear();
	} else if (n) {
		fprintf(log, "flasher: %s held %s: removed by the erase\n", name, vars);
	} else {
		fprintf(log, "flasher: %s held a variable store with %" PRIu32 " live variables, none "
			     "that steers the next boot\n", name, f.live);
	}
}

static const char *after_erase(const char *name)
{
	for (size_t k = 0; k < sizeof(firmware_formats) / sizeof(firmware_formats[0]); k++)
		if (strcmp(name, firmware_formats[k].name) == 0)
			return firmware_formats[k].then;
	return NULL;
}

int flash_blank_partitions(const struct pkg_manifest *m, const struct pkg_partition *parts,
			   uint32_t variant, struct target *targets, uint8_t *buf_a, uint8_t *buf_b,
			   size_t buf_size, struct write_stats *nor, FILE *log)
{
	for (uint32_t i = 0; i < m->partition_count; i++) {
		if (!flash_blank_due(m, parts, i, variant))
			continue;
		const struct pkg_partition *p = &parts[i];
		struct target *t = &targets[p->target];
		if (strcmp(p->name, VARIABLE_STORE) == 0) {
			size_t len = p->size < buf_size ? (size_t)p->size : buf_size;
			if (p->offset > t->size || len > t->size - p->offset ||
			    t->ops->read(t, p->offset, buf_a, len) != 0)
				return err_prefix("partition %s: reading its variable store", p->name);
			report_store(log, p->name, buf_a, len);
		}
		struct write_stats st = { 0 };
		if (write_nor_blank(t, p, buf_a, buf_b, buf_size, &st) != 0)
			return -1;
		write_stats_add(nor, &st);
		const char *then = after_erase(p->name);
		if (st.blocks_erased == 0)
			fprintf(log, "flasher: %s: already blank\n", p->name);
		else
			fprintf(log, "flasher: %s: %" PRIu64 " of %" PRIu64 " erase blocks held data, "
				     "erased%s%s%s\n", p->name, st.blocks_erased, st.blocks_compared,
				then ? " (" : "", then ? then : "", then ? ")" : "");
	}
	return 0;
}
