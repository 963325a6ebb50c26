/* SPDX-License-Identifier: MIT */
/* What an update writes and reads, decided before anything is written. */
#include "update_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "error.h"
#include "io.h"
#include "slot_name.h"
#include "write/target_kind.h"

uint8_t update_slot_of_name(const char *name, const char *rootfs_a)
{
	size_t len = strlen(name);
	if (strncmp(name, "A_", 2) == 0 && len > 2)
		return PKG_SLOT_A;
	if (strncmp(name, "B_", 2) == 0 && len > 2)
		return PKG_SLOT_B;
	if (len > 2 && strcmp(name + len - 2, "_b") == 0)
		return PKG_SLOT_B;
	if (rootfs_a && strcmp(name, rootfs_a) == 0)
		return PKG_SLOT_A;
	return 0;
}

int update_root_partition(const char *sysfs_root, char *name, size_t size)
{
	struct stat st;
	if (stat("/", &st) != 0)
		return err_set("stat /: %s", strerror(errno));
	char path[256];
	snprintf(path, sizeof(path), "%s/sys/dev/block/%u:%u/uevent", sysfs_root,
		 major(st.st_dev), minor(st.st_dev));
	size_t len;
	char *text = read_small_file(path, 4096, &len);
	if (!text)
		return err_set("the root filesystem is on device %u:%u, which is no block device "
			       "(%s: %s); set root-partition in the config to the slot's partition",
			       major(st.st_dev), minor(st.st_dev), path, err_msg());
	const char *p = strstr(text, "PARTNAME=");
	int rc = 0;
	if (!p || (p != text && p[-1] != '\n')) {
		rc = err_set("the root filesystem's device %u:%u has no GPT partition name (%s); "
			     "set root-partition in the config", major(st.st_dev),
			     minor(st.st_dev), path);
	} else {
		p += strlen("PARTNAME=");
		size_t n = strcspn(p, "\n");
		if (n == 0 || n >= size)
			rc = err_set("%s: partition name of %zu bytes", path, n);
		else
			snprintf(name, size, "%.*s", (int)n, p);
	}
	free(text);
	return rc;
}

int update_twin(const struct pkg_partition *parts, uint32_t count, uint32_t i)
{
	char want[PKG_PART_NAME_LEN + 4];
	if (pkg_slot_twin_name(parts[i].name, parts[i].slot, want, sizeof(want)) != 0)
		return -1;
	for (uint32_t k = 0; k < count; k++)
		if (k != i && parts[k].target == parts[i].target && parts[k].slot != parts[i].slot &&
		    parts[k].slot && strcmp(parts[k].name, want) == 0)
			return (int)k;
	return -1;
}

static int has_image(const struct pkg_manifest *m, uint32_t variant, uint32_t part)
{
	for (uint32_t k = 0; k < m->image_count; k++) {
		struct pkg_image im;
		pkg_manifest_image(m, k, &im);
		if (im.partition == part && pkg_image_in_variant(&im, variant))
			return 1;
	}
	return 0;
}

int update_select(const struct pkg_manifest *m, uint32_t variant,
		  const struct pkg_partition *parts, const int *opened, uint8_t running,
		  const char *rootfs_a, int update_qspi, struct update_selection *s)
{
	memset(s, 0, sizeof(*s));
	s->running = running;
	s->target = running == PKG_SLOT_A ? PKG_SLOT_B : PKG_SLOT_A;
	s->kernel = s->rootfs = -1;
	const char *tname = pkg_slot_name(s->target);
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->slot != s->target || p->kind != PKG_PART_DATA)
			continue;
		struct pkg_target tg;
		pkg_manifest_target(m, p->target, &tg);
		int twin = update_twin(parts, m->partition_count, i);
		if (strcmp(p->type, "kernel") == 0 && tg.kind == PKG_TARGET_DISK)
			s->kernel = (int)i;
		if (twin >= 0 && rootfs_a && strcmp(parts[twin].name, rootfs_a) == 0)
			s->rootfs = (int)i;
		if (s->target == PKG_SLOT_A && rootfs_a && strcmp(p->name, rootfs_a) == 0)
			s->rootfs = (int)i;
		const struct target_kind *kind = target_kind_find(tg.kind);
		if (kind && kind->boot_firmware && !update_qspi)
			continue; /* the inactive chain's firmware stays as it is (see update_qspi) */
		if (!has_image(m, variant, i)) {
			/* the slot's chain is rewritten: its imageless partitions (A_smm-fw,
			 * A_reserved_on_boot in R35.3.1's flash_t234_qspi.xml) end erased, as a
			 * flash leaves them, not holding another firmware's bytes */
			s->blank[i] = kind && kind->boot_firmware && opened[p->target] && p->size;
			continue;
		}
		if (!opened[p->target])
			return err_set("the package writes %s on %s:%" PRIu32 " for slot %s, but no "
				       "device is configured for %s", p->name, tg.type, tg.instance,
				       tname, tg.type);
		if (twin < 0)
			return err_set("partition %s of slot %s has no twin in the running slot; a "
				       "package for updates pairs A_x with B_x and x with x_b",
				       p->name, tname);
		s->write[i] = 1;
		s->alt[i] = parts[twin];
		s->nwrite++;
	}
	if (s->nwrite == 0)
		return err_set("the package has nothing for slot %s (the slot that is not running): "
			       "no image of the board's variant writes one of its partitions", tname);
	return 0;
}

void update_plan_print(FILE *out, const struct pkg_manifest *m,
		       const struct pkg_partition *parts, const struct update_selection *s)
{
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (!p->slot || p->kind != PKG_PART_DATA)
			continue;
		struct pkg_target tg;
		pkg_manifest_target(m, p->target, &tg);
		const char *what = s->write[i]            ? "write (slot being updated)"
				   : s->blank[i]           ? "blank (slot being updated, no image)"
				   : p->slot == s->running ? "read only (running slot)"
							   : "left as it is";
		fprintf(out, "update: %s:%" PRIu32 " %-24s slot %s offset %12" PRIu64
			     " size %12" PRIu64 "  %s\n",
			tg.type, tg.instance, p->name, pkg_slot_name(p->slot), p->offset, p->size,
			what);
	}
}
