/* SPDX-License-Identifier: MIT */
/* The board's partition tables against the package: slots by name, layout, the write guard. */
#include "update_layout.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "slot_name.h"

/* Whether name + "_b" is among the n names, each `stride` bytes from the last. */
static int b_twin_among(const char *name, const char *names, size_t stride, uint32_t n)
{
	char want[PKG_PART_NAME_LEN + 2];
	if (snprintf(want, sizeof(want), "%s_b", name) >= (int)sizeof(want))
		return 0;
	for (uint32_t k = 0; k < n; k++)
		if (strcmp(names + (size_t)k * stride, want) == 0)
			return 1;
	return 0;
}

void update_table_slots(struct update_table *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		t->part[i].slot = pkg_slot_of_name(
			t->part[i].name, b_twin_among(t->part[i].name, t->part[0].name,
						      sizeof(t->part[0]), t->count));
}

int update_check_slots(const struct pkg_manifest *m, const struct pkg_partition *parts)
{
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->kind == PKG_PART_FILE)
			continue; /* no device, no slot: a capsule travels beside the layout */
		int twin = 0;
		char want[PKG_PART_NAME_LEN + 2];
		snprintf(want, sizeof(want), "%s_b", p->name);
		for (uint32_t k = 0; k < m->partition_count && !twin; k++)
			twin = parts[k].target == p->target && parts[k].kind != PKG_PART_FILE &&
			       strcmp(parts[k].name, want) == 0;
		uint8_t slot = pkg_slot_of_name(p->name, twin);
		if (slot != p->slot)
			return err_set("partition %s: the manifest puts it in slot %s, its name in "
				       "slot %s (NVIDIA's naming: A_x/B_x, x/x_b, "
				       "reserved_for_chain_A_x/B_x); refused%s",
				       p->name, p->slot ? pkg_slot_name(p->slot) : "none",
				       slot ? pkg_slot_name(slot) : "none",
				       /* mkflashpkg before issue 23 gave reserved_for_chain_* none */
				       !p->slot ? " (a package made by an older mkflashpkg: make it "
						  "again with this one)"
						: "");
	}
	return 0;
}

static const struct update_table_part *find(const struct update_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->count; i++)
		if (strcmp(t->part[i].name, name) == 0)
			return &t->part[i];
	return NULL;
}

int update_table_compare(const struct update_table *board, const struct pkg_manifest *m,
			 uint16_t t, const struct pkg_partition *parts, int (*listed)(uint8_t kind),
			 const char *dev)
{
	static const char why[] = "the layout changed, which needs a flash in recovery mode";
	uint32_t in_package = 0;
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->target != t || !listed(p->kind))
			continue;
		in_package++;
		const struct update_table_part *b = find(board, p->name);
		if (!b)
			return err_set("%s: the board's GPT has no partition %s, which the package "
				       "places at %" PRIu64 " (%" PRIu64 " bytes): %s",
				       dev, p->name, p->offset, p->size, why);
		if (b->offset != p->offset || b->size != p->size)
			return err_set("%s: partition %s is at %" PRIu64 " (%" PRIu64 " bytes) on "
				       "the board, at %" PRIu64 " (%" PRIu64 " bytes) in the "
				       "package: %s",
				       dev, p->name, b->offset, b->size, p->offset, p->size, why);
	}
	if (in_package == board->count)
		return 0;
	/* every package name was found once: some board partition is not in the package */
	for (uint32_t k = 0; k < board->count; k++) {
		int known = 0;
		for (uint32_t i = 0; i < m->partition_count && !known; i++)
			known = parts[i].target == t && listed(parts[i].kind) &&
				strcmp(parts[i].name, board->part[k].name) == 0;
		if (!known)
			return err_set("%s: the board's GPT has partition %s at %" PRIu64 " (%" PRIu64
				       " bytes), which the package does not have: %s",
				       dev, board->part[k].name, board->part[k].offset,
				       board->part[k].size, why);
	}
	return err_set("%s: the board's GPT has %" PRIu32 " partitions, the package %" PRIu32
		       " (a name twice): %s", dev, board->count, in_package, why);
}

static int overlap(const struct update_table_part *a, const struct target_range *r)
{
	/* neither end overflows: both were checked before they got here */
	return a->size && r->size && a->offset < r->offset + r->size &&
	       r->offset < a->offset + a->size;
}

int update_guard_ranges(const struct update_table *board, const struct pkg_partition *parts,
			uint32_t nparts, const uint8_t *write, uint16_t t, uint8_t target,
			const char *root, const char *dev, struct target_range *out, size_t *count)
{
	*count = 0;
	for (uint32_t i = 0; i < nparts; i++) {
		if (!write[i] || parts[i].target != t)
			continue;
		const struct update_table_part *b = find(board, parts[i].name);
		if (!b)
			return err_set("%s: the update would write %s, which the board's GPT does not "
				       "have", dev, parts[i].name);
		if (root && strcmp(b->name, root) == 0)
			return err_set("%s: the update would write %s, the running root partition; "
				       "refused", dev, b->name);
		if (b->slot != target)
			return err_set("%s: the update would write %s, which is slot %s's by its "
				       "name, not slot %s's (the one being updated); refused",
				       dev, b->name, b->slot ? pkg_slot_name(b->slot) : "no",
				       pkg_slot_name(target));
		if (b->offset > UINT64_MAX - b->size)
			return err_set("%s: partition %s: offset %" PRIu64 " + size %" PRIu64
				       " overflows", dev, b->name, b->offset, b->size);
		if (*count == TARGET_GUARD_MAX)
			return err_set("%s: more than %d partitions to update on one device", dev,
				       TARGET_GUARD_MAX);
		out[(*count)++] = (struct target_range){ b->offset, b->size };
	}
	/* the deny list: the running slot's partitions (every slotted one that is not the
	 * target's) and the running root, wherever the allowed ranges came from */
	for (uint32_t k = 0; k < board->count; k++) {
		const struct update_table_part *d = &board->part[k];
		int denied = (d->slot && d->slot != target) || (root && strcmp(d->name, root) == 0);
		for (size_t j = 0; denied && j < *count; j++)
			if (d->offset <= UINT64_MAX - d->size && overlap(d, &out[j]))
				return err_set("%s: the range at %" PRIu64 " (%" PRIu64 " bytes) the "
					       "update would write overlaps %s, %s; refused",
					       dev, out[j].offset, out[j].size, d->name,
					       d->slot && d->slot != target ? "of the running slot"
									    : "the running root");
	}
	return 0;
}
