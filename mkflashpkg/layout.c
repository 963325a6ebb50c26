/* SPDX-License-Identifier: MIT */
/* NVIDIA layout XML and flash.idx into one partition model; offsets by NVIDIA's rules. */
#include "layout.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lines.h"
#include "pkg.h"
#include "slot_name.h"
#include "xml.h"

/* the secondary GPT: a header sector and 128 entries of 128 bytes, at the device end */
static uint64_t secondary_gpt_size(uint32_t sector_size)
{
	return (uint64_t)sector_size + 128 * 128;
}

int layout_parse_u64(const char *text, uint64_t *value)
{
	while (isspace((unsigned char)*text))
		text++;
	int base = 10;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		text += 2;
	}
	uint64_t v = 0;
	int digits = 0;
	for (; *text && !isspace((unsigned char)*text); text++) {
		int d = isdigit((unsigned char)*text)                      ? *text - '0'
			: base == 16 && isxdigit((unsigned char)*text)     ? tolower(*text) - 'a' + 10
									   : -1;
		if (d < 0)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		digits++;
	}
	while (isspace((unsigned char)*text))
		text++;
	if (*text || digits == 0)
		return -1;
	*value = v;
	return 0;
}

/* Copies text without surrounding white space; fails if it does not fit. */
static int copy_trimmed(char *dst, size_t size, const char *src, unsigned line, const char *what)
{
	while (isspace((unsigned char)*src))
		src++;
	size_t n = strlen(src);
	while (n && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= size)
		return err_set("line %u: %s is longer than %zu bytes", line, what, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* Replaces a field that is exactly a placeholder key with its value. */
static int apply_sets(char *field, size_t size, const struct layout_set *sets, size_t nsets,
		      unsigned line)
{
	for (size_t i = 0; i < nsets; i++) {
		if (strcmp(field, sets[i].key) == 0) {
			if (strlen(sets[i].value) >= size)
				return err_set("line %u: value for %s is too long", line, sets[i].key);
			strcpy(field, sets[i].value);
			return 0;
		}
	}
	return 0;
}

/* A placeholder is a bare identifier such as APPSIZE; anything else must be a number. */
static int is_placeholder(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int name_in(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static int check_attrs(const struct xml_node *n, const char *const *known)
{
	for (const struct xml_attr *a = n->attrs; a; a = a->next)
		if (!name_in(a->name, known))
			return err_set("line %u: unknown attribute '%s' on <%s>", n->line, a->name,
				       n->name);
	return 0;
}

static const char *const partition_children[] = {
	"allocation_policy", "filesystem_type", "size", "file_system_attribute",
	"allocation_attribute", "percent_reserved", "filename", "align_boundary",
	"start_location", "description", "partition_attribute", "partition_type_guid",
	"unique_guid", NULL,
};
static const char *const partition_attrs[] = { "name", "type", "oem_sign", "id", "compress",
					       "comp_algo", NULL };
static const char *const device_attrs[] = { "type", "instance", "sector_size", "num_sectors",
					    NULL };
static const char *const device_types[] = { "spi", "sdmmc_boot", "sdmmc_user", "nvme",
					    "external", "sdcard", NULL };

static int read_number(const struct xml_node *n, const char *text, uint64_t *v, const char *what)
{
	if (layout_parse_u64(text, v) != 0)
		return err_set("line %u: %s '%s' is not a number", n->line, what, text);
	return 0;
}

static int parse_partition(const struct xml_node *pn, const struct layout_set *sets,
			   size_t nsets, struct layout_part *p)
{
	memset(p, 0, sizeof(*p));
	p->line = pn->line;
	if (check_attrs(pn, partition_attrs) != 0)
		return -1;
	const char *name = xml_attr_get(pn, "name");
	const char *type = xml_attr_get(pn, "type");
	if (!name || !type)
		return err_set("line %u: <partition> needs name and type", pn->line);
	if (copy_trimmed(p->name, sizeof(p->name), name, pn->line, "name") ||
	    apply_sets(p->name, sizeof(p->name), sets, nsets, pn->line) ||
	    copy_trimmed(p->type, sizeof(p->type), type, pn->line, "type"))
		return -1;
	if (!p->name[0])
		return err_set("line %u: partition with an empty name", pn->line);
	p->alloc_attr = 0x8;
	char text[LAYOUT_TEXT_MAX];
	for (const struct xml_node *c = pn->children; c; c = c->next) {
		if (!name_in(c->name, partition_children))
			return err_set("line %u: unknown element <%s> in partition %s", c->line,
				       c->name, p->name);
		if (c->children)
			return err_set("line %u: <%s> must hold only text", c->line, c->name);
		if (copy_trimmed(text, sizeof(text), c->text, c->line, c->name) ||
		    apply_sets(text, sizeof(text), sets, nsets, c->line))
			return -1;
		uint64_t v;
		if (strcmp(c->name, "size") == 0) {
			strcpy(p->size_text, text);
			if (layout_parse_u64(text, &v) == 0) {
				p->size = v;
				p->size_known = 1;
			} else if (text[0] && !is_placeholder(text)) {
				return err_set("line %u: size '%s' is neither a number nor a placeholder",
					       c->line, text);
			}
		} else if (strcmp(c->name, "allocation_attribute") == 0) {
			if (read_number(c, text, &v, "allocation_attribute") != 0)
				return -1;
			if (v > UINT32_MAX)
				return err_set("line %u: allocation_attribute too large", c->line);
			p->alloc_attr = (uint32_t)v;
		} else if (strcmp(c->name, "align_boundary") == 0) {
			if (read_number(c, text, &p->align, "align_boundary") != 0)
				return -1;
			if (p->align & (p->align - 1))
				return err_set("line %u: align_boundary %" PRIu64 " is not a power of two",
					       c->line, p->align);
		} else if (strcmp(c->name, "start_location") == 0) {
			if (read_number(c, text, &p->start, "start_location") != 0)
				return -1;
			p->has_start = 1;
		} else if (strcmp(c->name, "filename") == 0) {
			strcpy(p->filename, text);
		} else if (strcmp(c->name, "partition_type_guid") == 0) {
			strcpy(p->type_guid, text);
		} else if (strcmp(c->name, "unique_guid") == 0) {
			strcpy(p->unique_guid, text);
		}
		/* the rest (allocation_policy, filesystem_type, description, ...) is NVIDIA's
		 * own bookkeeping with one value in every layout they ship */
	}
	if (strcmp(p->type, "protective_master_boot_record") == 0)
		p->kind = PKG_PART_PMBR;
	else if (strcmp(p->type, "primary_gpt") == 0)
		p->kind = PKG_PART_PRIMARY_GPT;
	else if (strcmp(p->type, "secondary_gpt") == 0)
		p->kind = PKG_PART_SECONDARY_GPT;
	p->at_end = p->kind == PKG_PART_SECONDARY_GPT;
	p->fill_to_end = (p->alloc_attr & LAYOUT_ALLOC_FILL_TO_END) != 0;
	return 0;
}

static uint64_t round_up(uint64_t v, uint64_t align, int *overflow)
{
	if (align <= 1)
		return v;
	uint64_t r = v % align;
	if (r == 0)
		return v;
	if (v > UINT64_MAX - (align - r)) {
		*overflow = 1;
		return v;
	}
	return v + (align - r);
}

/* A/B slots by NVIDIA's names (slot_name.h: the board derives them again the same way). */
static void assign_slots(struct layout *l, const struct layout_device *d)
{
	struct layout_part *parts = l->parts + d->first;
	for (size_t i = 0; i < d->count; i++) {
		char twin[LAYOUT_TEXT_MAX + 2];
		snprintf(twin, sizeof(twin), "%s_b", parts[i].name);
		int has_b_twin = 0;
		for (size_t j = 0; j < d->count && !has_b_twin; j++)
			has_b_twin = strcmp(parts[j].name, twin) == 0;
		parts[i].slot = pkg_slot_of_name(parts[i].name, has_b_twin);
	}
}

/* Offsets per DESIGN.md §6; what depends on an unresolved size stays unknown. */
static int compute_offsets(struct layout *l, struct layout_device *d)
{
	char dev[48];
	layout_device_name(d, dev, sizeof(dev));
	struct layout_part *parts = l->parts + d->first;
	uint64_t cursor = 0;
	int cursor_known = 1;
	const struct layout_part *fill = NULL; /* last fill-to-end partition seen */

	for (size_t i = 0; i < d->count; i++) {
		struct layout_part *p = &parts[i];
		int overflow = 0;
		if (p->at_end) {
			p->size = secondary_gpt_size(d->sector_size);
			p->size_known = 1;
			if (p->size > d->size)
				return err_set("%s: device of %" PRIu64 " bytes has no room for %s",
					       dev, d->size, p->name);
			p->offset = d->size - p->size;
			p->offset_known = 1;
			continue;
		}
		if (fill && !p->has_start)
			return err_set("line %u: partition %s follows fill-to-end partition %s "
				       "without a start_location",
				       p->line, p->name, fill->name);
		if (p->has_start) {
			if (cursor_known && p->start < cursor)
				return err_set("line %u: partition %s: start_location %#" PRIx64
					       " is before the end of the previous partition (%#" PRIx64 ")",
					       p->line, p->name, p->start, cursor);
			p->offset = p->start;
			p->offset_known = 1;
		} else if (cursor_known) {
			p->offset = round_up(cursor, p->align, &overflow);
			p->offset_known = 1;
		}
		if (p->fill_to_end) {
			fill = p;
			cursor_known = p->offset_known;
			cursor = p->offset;
			continue;
		}
		if (p->size_known) {
			p->size = round_up(p->size, d->sector_size, &overflow);
			if (p->offset_known) {
				if (p->offset > UINT64_MAX - p->size)
					overflow = 1;
				else
					cursor = p->offset + p->size;
			}
		}
		if (overflow)
			return err_set("line %u: partition %s: offset or size overflows 64 bits",
				       p->line, p->name);
		cursor_known = p->offset_known && p->size_known;
	}

	/* a fill-to-end partition ends where the next placed partition starts */
	for (size_t i = 0; i < d->count; i++) {
		struct layout_part *p = &parts[i];
		if (!p->fill_to_end || !p->offset_known)
			continue;
		uint64_t end = d->size;
		for (size_t j = i + 1; j < d->count; j++)
			if (parts[j].offset_known && parts[j].offset < end)
				end = parts[j].offset;
		end -= end % d->sector_size;
		if (end < p->offset)
			return err_set("line %u: fill-to-end partition %s starts at %#" PRIx64
				       ", past the space left (%#" PRIx64 ")",
				       p->line, p->name, p->offset, end);
		p->size = end - p->offset;
		p->size_known = 1;
	}

	/* everything known must fit the device and not overlap */
	for (size_t i = 0; i < d->count; i++) {
		const struct layout_part *p = &parts[i];
		int placed = p->offset_known && p->size_known;
		if (placed && (p->offset > d->size || p->size > d->size - p->offset))
			return err_set("line %u: partition %s: [%#" PRIx64 ", +%#" PRIx64
				       ") runs past the end of %s (%" PRIu64 " bytes)",
				       p->line, p->name, p->offset, p->size, dev, d->size);
		for (size_t j = 0; j < i; j++) {
			const struct layout_part *q = &parts[j];
			if (strcmp(p->name, q->name) == 0)
				return err_set("line %u: partition name %s used twice on %s", p->line,
					       p->name, dev);
			if (!placed || !q->offset_known || !q->size_known || !p->size || !q->size)
				continue;
			if (p->offset < q->offset + q->size && q->offset < p->offset + p->size)
				return err_set("line %u: partition %s [%#" PRIx64 ", %#" PRIx64
					       ") overlaps %s [%#" PRIx64 ", %#" PRIx64 ")",
					       p->line, p->name, p->offset, p->offset + p->size,
					       q->name, q->offset, q->offset + q->size);
		}
	}
	return 0;
}

static int parse_device(struct layout *l, const struct xml_node *dn,
			const struct layout_set *sets, size_t nsets)
{
	if (check_attrs(dn, device_attrs) != 0)
		return -1;
	if (l->ndev == LAYOUT_MAX_DEVICES)
		return err_set("line %u: more than %d devices", dn->line, LAYOUT_MAX_DEVICES);
	struct layout_device *d = &l->dev[l->ndev];
	memset(d, 0, sizeof(*d));
	const char *type = xml_attr_get(dn, "type");
	const char *inst = xml_attr_get(dn, "instance");
	const char *sector = xml_attr_get(dn, "sector_size");
	const char *sectors = xml_attr_get(dn, "num_sectors");
	uint64_t v_inst, v_sector, v_sectors;
	if (!type || !inst || !sector || !sectors)
		return err_set("line %u: <device> needs type, instance, sector_size and num_sectors",
			       dn->line);
	if (!name_in(type, device_types))
		return err_set("line %u: unknown device type '%s'", dn->line, type);
	if (read_number(dn, inst, &v_inst, "instance") || read_number(dn, sector, &v_sector, "sector_size") ||
	    read_number(dn, sectors, &v_sectors, "num_sectors"))
		return -1;
	if (v_sector < 512 || v_sector > 65536 || (v_sector & (v_sector - 1)))
		return err_set("line %u: sector_size %" PRIu64 " is not a power of two in 512..65536",
			       dn->line, v_sector);
	if (v_inst > UINT32_MAX || v_sectors == 0 || v_sectors > UINT64_MAX / v_sector)
		return err_set("line %u: device size out of range", dn->line);
	snprintf(d->type, sizeof(d->type), "%s", type);
	d->instance = (uint32_t)v_inst;
	d->sector_size = (uint32_t)v_sector;
	d->size = v_sectors * v_sector;
	d->first = l->nparts;
	for (const struct xml_node *pn = dn->children; pn; pn = pn->next) {
		if (strcmp(pn->name, "partition") != 0)
			return err_set("line %u: unknown element <%s> in <device>", pn->line, pn->name);
		if (l->nparts == LAYOUT_MAX_PARTS)
			return err_set("line %u: more than %d partitions", pn->line, LAYOUT_MAX_PARTS);
		if (parse_partition(pn, sets, nsets, &l->parts[l->nparts]) != 0)
			return -1;
		l->nparts++;
		d->count++;
	}
	l->ndev++;
	assign_slots(l, d);
	return compute_offsets(l, d);
}

int layout_from_xml(const char *text, size_t len, const struct layout_set *sets, size_t nsets,
		    struct layout *l)
{
	memset(l, 0, sizeof(*l));
	struct xml_node *root = xml_parse(text, len);
	if (!root)
		return -1;
	int rc = 0;
	static const char *const root_attrs[] = { "version", NULL };
	if (strcmp(root->name, "partition_layout") != 0)
		rc = err_set("line %u: root element is <%s>, expected <partition_layout>", root->line,
			     root->name);
	else if (check_attrs(root, root_attrs) != 0)
		rc = -1;
	else if (!(l->parts = calloc(LAYOUT_MAX_PARTS, sizeof(*l->parts))))
		rc = err_set("out of memory");
	for (const struct xml_node *dn = root->children; rc == 0 && dn; dn = dn->next) {
		if (strcmp(dn->name, "device") != 0)
			rc = err_set("line %u: unknown element <%s> in <partition_layout>", dn->line,
				     dn->name);
		else
			rc = parse_device(l, dn, sets, nsets);
	}
	if (rc == 0 && l->ndev == 0)
		rc = err_set("layout has no <device>");
	xml_free(root);
	if (rc != 0)
		layout_free(l);
	return rc;
}

/* ---- flash.idx ------------------------------------------------------------------------- */

static const struct {
	unsigned code;
	const char *type;
} idx_devices[] = {
	/* NVIDIA's tegraparser_v2 (R35.3.1, R36.2) writes 9 for a layout's "external" device
	 * (NVMe or USB: --external-device), as its GPT file names mbr_9_0.bin show
	 * (bootloader/tegraflash_internal.py, tegraflash_gpt_image_name_map) */
	{ 3, "spi" }, { 0, "sdmmc_boot" }, { 1, "sdmmc_user" }, { 6, "sdcard" }, { 9, "external" },
};

/* Splits a CSV line of at most 8 fields in place (flash.idx has no quoting). */
static int split_fields(char *line, char **fields, int max)
{
	int n = 0;
	for (char *p = line;; p++) {
		if (n == max)
			return -1;
		fields[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p = '\0';
	}
	for (int i = 0; i < n; i++) {
		while (isspace((unsigned char)*fields[i]))
			fields[i]++;
		size_t len = strlen(fields[i]);
		while (len && isspace((unsigned char)fields[i][len - 1]))
			fields[i][--len] = '\0';
	}
	return n;
}

static int idx_device(struct layout *l, unsigned code, uint32_t inst, unsigned line,
		      struct layout_device **out)
{
	const char *type = NULL;
	for (size_t i = 0; i < sizeof(idx_devices) / sizeof(idx_devices[0]); i++)
		if (idx_devices[i].code == code)
			type = idx_devices[i].type;
	if (!type)
		return err_set("flash.idx line %u: unknown device code %u", line, code);
	for (size_t i = 0; i < l->ndev; i++) {
		if (strcmp(l->dev[i].type, type) == 0 && l->dev[i].instance == inst) {
			if (i != l->ndev - 1)
				return err_set("flash.idx line %u: device %s:%u appears again after "
					       "another device", line, type, inst);
			*out = &l->dev[i];
			return 0;
		}
	}
	if (l->ndev == LAYOUT_MAX_DEVICES)
		return err_set("flash.idx line %u: more than %d devices", line, LAYOUT_MAX_DEVICES);
	struct layout_device *d = &l->dev[l->ndev++];
	memset(d, 0, sizeof(*d));
	snprintf(d->type, sizeof(d->type), "%s", type);
	d->instance = inst;
	d->sector_size = 512;
	d->first = l->nparts;
	*out = d;
	return 0;
}

static int parse_idx_line(struct layout *l, char *line, unsigned lineno)
{
	char *f[9];
	int n = split_fields(line, f, 9);
	if (n != 8)
		return err_set("flash.idx line %u: %d fields, expected 8", lineno, n < 0 ? 9 : n);
	unsigned code, inst;
	char name[LAYOUT_TEXT_MAX];
	int used = 0;
	if (sscanf(f[1], "%u:%u:%n", &code, &inst, &used) != 2 || used == 0 || !f[1][used] ||
	    strlen(f[1] + used) >= sizeof(name))
		return err_set("flash.idx line %u: '%s' is not dev:instance:name", lineno, f[1]);
	strcpy(name, f[1] + used);
	struct layout_device *d = NULL;
	if (idx_device(l, code, inst, lineno, &d) != 0)
		return -1;
	if (l->nparts == LAYOUT_MAX_PARTS)
		return err_set("flash.idx line %u: more than %d partitions", lineno, LAYOUT_MAX_PARTS);
	struct layout_part *p = &l->parts[l->nparts];
	memset(p, 0, sizeof(*p));
	p->line = lineno;
	strcpy(p->name, name);
	if (layout_parse_u64(f[2], &p->offset) || layout_parse_u64(f[3], &p->size))
		return err_set("flash.idx line %u: start '%s' or size '%s' is not a number", lineno,
			       f[2], f[3]);
	if (p->offset > UINT64_MAX - p->size)
		return err_set("flash.idx line %u: %s: start + size overflows 64 bits", lineno, name);
	p->offset_known = p->size_known = 1;
	if (strlen(f[4]) >= sizeof(p->filename) || strchr(f[4], '/'))
		return err_set("flash.idx line %u: file name '%s' is too long or has a '/'", lineno,
			       f[4]);
	strcpy(p->filename, f[4]);
	if (p->filename[0] && layout_parse_u64(f[5], &p->file_size) != 0)
		return err_set("flash.idx line %u: file size '%s' is not a number", lineno, f[5]);
	/* "expand-<reserved>-N" is the XML's fill-to-end (0x808): NVIDIA's on-device flash grows
	 * the partition to the disk it finds (l4t_flash_from_kernel.sh create_gpt, R35.3.1) */
	if (strncmp(f[6], "expand-", 7) == 0) {
		p->fill_to_end = 1;
		p->alloc_attr = 0x808;
	}
	if (f[7][0]) {
		if (strlen(f[7]) != 40 || strspn(f[7], "0123456789abcdefABCDEF") != 40)
			return err_set("flash.idx line %u: '%s' is not a SHA-1", lineno, f[7]);
		strcpy(p->sha1, f[7]);
	}
	snprintf(p->type, sizeof(p->type), "%s", strcmp(name, "secondary_gpt") == 0 ? "secondary_gpt"
						 : strcmp(name, "primary_gpt") == 0 ? "primary_gpt"
						 : strcmp(name, "master_boot_record") == 0
							 ? "protective_master_boot_record"
							 : "data");
	p->kind = strcmp(p->type, "secondary_gpt") == 0	  ? PKG_PART_SECONDARY_GPT
		  : strcmp(p->type, "primary_gpt") == 0	  ? PKG_PART_PRIMARY_GPT
		  : strcmp(p->type, "data") == 0		  ? PKG_PART_DATA
							  : PKG_PART_PMBR;
	/* flash.idx gives resolved offsets; the device is as large as what it holds */
	if (p->offset + p->size > d->size)
		d->size = p->offset + p->size;
	l->nparts++;
	d->count++;
	return 0;
}

static int idx_line(char *s, unsigned lineno, void *ctx)
{
	return parse_idx_line(ctx, s, lineno);
}

int layout_from_flash_idx(const char *text, size_t len, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	if (!(l->parts = calloc(LAYOUT_MAX_PARTS, sizeof(*l->parts))))
		return err_set("out of memory");
	int rc = text_each_line(text, len, "flash.idx", 2047, idx_line, l);
	if (rc == 0 && l->nparts == 0)
		rc = err_set("flash.idx has no partitions");
	for (size_t i = 0; rc == 0 && i < l->ndev; i++) {
		struct layout_device *d = &l->dev[i];
		if (d->size % d->sector_size)
			d->size += d->sector_size - d->size % d->sector_size;
		assign_slots(l, d);
		/* the same overlap and bounds checks as for XML layouts */
		for (size_t j = 0; rc == 0 && j < d->count; j++) {
			const struct layout_part *a = &l->parts[d->first + j];
			for (size_t k = 0; rc == 0 && k < j; k++) {
				const struct layout_part *b = &l->parts[d->first + k];
				if (a->size && b->size && a->offset < b->offset + b->size &&
				    b->offset < a->offset + a->size)
					rc = err_set("flash.idx line %u: %s overlaps %s", a->line, a->name,
						     b->name);
				else if (strcmp(a->name, b->name) == 0)
					rc = err_set("flash.idx line %u: %s appears twice", a->line,
						     a->name);
			}
		}
	}
	if (rc != 0)
		layout_free(l);
	return rc;
}

/* ---- output ---------------------------------------------------------------------------- */

void layout_device_name(const struct layout_device *d, char *out, size_t size)
{
	snprintf(out, size, "%s:%" PRIu32, d->type, d->instance);
}

void layout_print(FILE *out, const struct layout *l)
{
	fprintf(out, "%-14s %-24s %12s %-14s %12s %-14s %s\n", "DEVICE", "PARTITION", "OFFSET", "",
		"SIZE", "", "NOTES");
	for (size_t i = 0; i < l->ndev; i++) {
		const struct layout_device *d = &l->dev[i];
		char dev[48];
		layout_device_name(d, dev, sizeof(dev));
		for (size_t j = 0; j < d->count; j++) {
			const struct layout_part *p = &l->parts[d->first + j];
			char off[24] = "?", offx[24] = "", size[LAYOUT_TEXT_MAX + 16] = "?",
			     sizex[24] = "";
			if (p->offset_known) {
				snprintf(off, sizeof(off), "%" PRIu64, p->offset);
				snprintf(offx, sizeof(offx), "(0x%" PRIx64 ")", p->offset);
			}
			if (p->size_known) {
				snprintf(size, sizeof(size), "%" PRIu64, p->size);
				snprintf(sizex, sizeof(sizex), "(0x%" PRIx64 ")", p->size);
			} else if (p->size_text[0]) {
				snprintf(size, sizeof(size), "unresolved(%s)", p->size_text);
			} else {
				snprintf(size, sizeof(size), "unresolved");
			}
			fprintf(out, "%-14s %-24s %12s %-14s %12s %-14s", dev, p->name, off, offx, size,
				sizex);
			if (p->slot)
				fprintf(out, " slot=%s", pkg_slot_name(p->slot));
			if (p->fill_to_end)
				fprintf(out, " fill-to-end");
			if (p->at_end)
				fprintf(out, " at-end");
			if (p->filename[0])
				fprintf(out, " file=%s", p->filename);
			fputc('\n', out);
		}
	}
}

void layout_free(struct layout *l)
{
	free(l->parts);
	l->parts = NULL;
	l->nparts = 0;
	l->ndev = 0;
}
