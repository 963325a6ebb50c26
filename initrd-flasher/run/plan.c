/* SPDX-License-Identifier: MIT */
/* Plan: the devices opened and checked, partitions placed on their real sizes; the plan as text. */
#include "plan.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "write/target_kind.h"

int plan_place(const struct pkg_manifest *m, uint16_t target, uint64_t real_size,
	       struct pkg_partition *parts)
{
	struct pkg_target t;
	pkg_manifest_target(m, target, &t);
	if (real_size % t.sector_size)
		return err_set("%s:%" PRIu32 ": size %" PRIu64 " is not a multiple of its sector size %" PRIu32,
			       t.type, t.instance, real_size, t.sector_size);
	/* partitions at the end first: fill-to-end ones grow up to them */
	for (uint32_t i = 0; i < m->partition_count; i++) {
		struct pkg_partition *p = &parts[i];
		if (p->target != target || !(p->flags & PKG_PART_AT_END) || p->kind == PKG_PART_FILE)
			continue;
		if (p->size > real_size)
			return err_set("partition %s: %" PRIu64 " bytes at the end of a %" PRIu64
				       "-byte device", p->name, p->size, real_size);
		p->offset = real_size - p->size;
	}
	for (uint32_t i = 0; i < m->partition_count; i++) {
		struct pkg_partition *p = &parts[i];
		if (p->target != target || !(p->flags & PKG_PART_FILL_TO_END))
			continue;
		uint64_t end = real_size;
		for (uint32_t j = 0; j < m->partition_count; j++)
			if (j != i && parts[j].target == target && parts[j].kind != PKG_PART_FILE &&
			    parts[j].offset >= p->offset &&
			    parts[j].size && parts[j].offset < end)
				end = parts[j].offset;
		end -= end % t.sector_size;
		if (end <= p->offset)
			return err_set("partition %s: no room left on a %" PRIu64 "-byte device (starts at %" PRIu64 ")",
				       p->name, real_size, p->offset);
		p->size = end - p->offset;
	}
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->target != target || p->kind == PKG_PART_FILE)
			continue; /* a file has no blocks on the device (pkg.h) */
		if (p->offset > real_size || p->size > real_size - p->offset)
			return err_set("partition %s: ends at %" PRIu64 ", the device has %" PRIu64 " bytes",
				       p->name, p->offset + p->size, real_size);
		for (uint32_t j = 0; j < i; j++) {
			const struct pkg_partition *q = &parts[j];
			if (q->target == target && q->kind != PKG_PART_FILE && p->size && q->size && p->offset < q->offset + q->size &&
			    q->offset < p->offset + p->size)
				return err_set("partition %s overlaps %s on a %" PRIu64 "-byte device",
					       p->name, q->name, real_size);
		}
	}
	return 0;
}

void plan_print(FILE *out, const struct pkg_manifest *m, const struct pkg_partition *parts,
		int variant)
{
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		struct pkg_target t;
		pkg_manifest_target(m, p->target, &t);
		uint64_t bytes = 0;
		uint32_t chunks = 0;
		for (uint32_t k = 0; k < m->image_count; k++) {
			struct pkg_image im;
			pkg_manifest_image(m, k, &im);
			if (im.partition != i || !pkg_image_in_variant(&im, (uint32_t)variant))
				continue;
			chunks = im.chunk_count;
			for (uint32_t c = im.first_chunk; c < im.first_chunk + im.chunk_count; c++) {
				struct pkg_chunk ch;
				pkg_manifest_chunk(m, c, &ch);
				bytes += ch.raw_size;
			}
		}
		fprintf(out, "plan: %s:%" PRIu32 " %-24s offset %12" PRIu64 " size %12" PRIu64
			     " write %12" PRIu64 " bytes in %" PRIu32 " chunks%s\n",
			t.type, t.instance, p->name, p->offset, p->size, bytes, chunks,
			p->slot ? (p->slot == PKG_SLOT_A ? " (slot A)" : " (slot B)") : "");
	}
}

int plan_open_targets(const struct pkg_manifest *m, const struct flash_target_spec *specs,
		      size_t nspecs, uint32_t max_erase, struct target *targets, int *opened,
		      struct pkg_partition *parts, FILE *log)
{
	for (uint32_t i = 0; i < m->partition_count; i++)
		pkg_manifest_partition(m, i, &parts[i]);
	for (uint16_t t = 0; t < m->target_count; t++) {
		struct pkg_target tg;
		pkg_manifest_target(m, t, &tg);
		const char *spec;
		if (plan_target_spec(m, t, specs, nspecs, &spec) != 0)
			return -1;
		if (!spec)
			return err_set("package writes %s:%" PRIu32 " but no device was given for it",
				       tg.type, tg.instance);
		if (target_open_spec(&targets[t], spec, tg.size) != 0)
			return err_prefix("%s:%" PRIu32, tg.type, tg.instance);
		opened[t] = 1;
		struct target *dev = &targets[t];
		if (target_kind_check_device(&tg, dev) != 0)
			return -1;
		if (dev->erase_size > max_erase) /* erasable kinds only, as just checked */
			return err_set("%s: erase size %" PRIu32 " larger than the buffers", dev->name,
				       dev->erase_size);
		if (plan_place(m, t, dev->size, parts) != 0)
			return err_prefix("%s", dev->name);
		fprintf(log, "flasher: %s:%" PRIu32 " -> %s, %" PRIu64 " bytes\n", tg.type,
			tg.instance, dev->name, dev->size);
		if (dev->direct_error[0])
			fprintf(log,
				"flasher: warning: %s: read-back goes through the page cache (%s)\n",
				dev->name, dev->direct_error);
	}
	return plan_check_distinct(m, targets, opened);
}

int plan_target_spec(const struct pkg_manifest *m, uint16_t t, const struct flash_target_spec *specs,
		     size_t nspecs, const char **spec)
{
	struct pkg_target tg;
	pkg_manifest_target(m, t, &tg);
	char inst[64];
	snprintf(inst, sizeof(inst), "%s:%" PRIu32, tg.type, tg.instance);
	const char *by_instance = NULL, *by_type = NULL;
	for (size_t k = 0; k < nspecs; k++) {
		const char **slot = strcmp(specs[k].type, inst) == 0	      ? &by_instance
				    : strcmp(specs[k].type, tg.type) == 0 ? &by_type
									  : NULL;
		if (slot && *slot)
			return err_set("the device for %s is configured twice", specs[k].type);
		if (slot)
			*slot = specs[k].spec;
	}
	*spec = by_instance;
	if (by_instance || !by_type)
		return 0;
	for (uint16_t o = 0; o < m->target_count; o++) {
		struct pkg_target other;
		pkg_manifest_target(m, o, &other);
		if (o != t && strcmp(other.type, tg.type) == 0)
			return err_set("the package has two %s targets (%s:%" PRIu32 " and %s:%" PRIu32
				       "): name each one's device by its instance (target %s SPEC), "
				       "not by its type alone",
				       tg.type, tg.type, tg.instance, other.type, other.instance, inst);
	}
	*spec = by_type;
	return 0;
}

/* Whether a and b are one device: the same file or device node; a window of a device
 * (target_window: no descriptor of its own) by its name, the device's and its base. */
static int same_device(const struct target *a, const struct stat *sa, const struct target *b,
		       const struct stat *sb)
{
	if (a->fd < 0 || b->fd < 0)
		return strcmp(a->name, b->name) == 0;
	if ((sa->st_mode & S_IFMT) != (sb->st_mode & S_IFMT))
		return 0;
	if (S_ISBLK(sa->st_mode) || S_ISCHR(sa->st_mode))
		return sa->st_rdev == sb->st_rdev;
	return sa->st_dev == sb->st_dev && sa->st_ino == sb->st_ino;
}

int plan_check_distinct(const struct pkg_manifest *m, const struct target *targets,
			const int *opened)
{
	struct stat st[PKG_MAX_TARGETS];
	for (uint16_t t = 0; t < m->target_count && t < PKG_MAX_TARGETS; t++) {
		if (!opened[t])
			continue;
		if (targets[t].fd >= 0 && fstat(targets[t].fd, &st[t]) != 0)
			return err_set("%s: %s", targets[t].name, strerror(errno));
		for (uint16_t o = 0; o < t; o++) {
			if (!opened[o] || !same_device(&targets[o], &st[o], &targets[t], &st[t]))
				continue;
			struct pkg_target a, b;
			pkg_manifest_target(m, o, &a);
			pkg_manifest_target(m, t, &b);
			return err_set("package targets %s:%" PRIu32 " and %s:%" PRIu32 " are both "
				       "%s: one device cannot hold both; refused",
				       a.type, a.instance, b.type, b.instance, targets[t].name);
		}
	}
	return 0;
}
