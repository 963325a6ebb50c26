/* SPDX-License-Identifier: MIT */
/*
 * The edk2 variable store reader against stores built here byte by byte from edk2's layouts
 * (MdePkg Pi/PiFirmwareVolume.h, MdeModulePkg Guid/VariableFormat.h at edk2-stable202211): the
 * authenticated and the plain format, deleted and in-transition copies, a blank partition, and
 * damaged stores that must be refused with a reason and without reading past the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board/efi_varstore.h"
#include "check.h"
#include "error.h"
#include "le.h"

#define STORE_BYTES 8192

static const uint8_t nv_fv[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
				   0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
static const uint8_t auth_store[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
static const uint8_t plain_store[16] = { 0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41,
					 0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d };
static const uint8_t nvidia[16] = { 0x4c, 0x08, 0x1e, 0x78, 0x30, 0xa3, 0x7c, 0x41,
				    0xb6, 0x78, 0x38, 0xe6, 0x96, 0x38, 0x0c, 0xb9 };
static const uint8_t global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
				    0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };

struct store {
	uint8_t b[STORE_BYTES];
	size_t at; /* where the next variable goes */
	int auth;
};

/* An empty store the way the firmware formats one: FV header of 72 bytes (one block map entry
 * and its terminator), checksum, then the store header; the rest erased. */
static void store_init(struct store *s, int auth)
{
	memset(s->b, 0xff, sizeof(s->b));
	memset(s->b, 0, 72);
	memcpy(s->b + 16, nv_fv, 16);
	le64_store(s->b + 32, STORE_BYTES);
	memcpy(s->b + 40, "_FVH", 4);
	le32_store(s->b + 44, 0x0004feff);
	le16_store(s->b + 48, 72);
	s->b[55] = 2;
	le32_store(s->b + 56, STORE_BYTES / 4096);
	le32_store(s->b + 60, 4096);
	uint16_t sum = 0;
	for (int i = 0; i < 72; i += 2)
		sum = (uint16_t)(sum + le16_load(s->b + i));
	le16_store(s->b + 50, (uint16_t)(0x10000 - sum));
	memcpy(s->b + 72, auth ? auth_store : plain_store, 16);
	le32_store(s->b + 72 + 16, STORE_BYTES - 72);
	s->b[72 + 20] = 0x5a;
	s->b[72 + 21] = 0xfe;
	memset(s->b + 72 + 22, 0, 6);
	s->at = 72 + 28;
	s->auth = auth;
}

static void store_add(struct store *s, uint8_t state, const uint8_t *guid, const char *name,
		      const void *data, uint32_t data_size)
{
	size_t hdr = s->auth ? 60 : 32, n = strlen(name);
	uint8_t *v = s->b + s->at;
	memset(v, 0, hdr);
	le16_store(v, 0x55aa);
	v[2] = state;
	le32_store(v + 4, 7);
	size_t sizes = s->auth ? 36 : 8;
	le32_store(v + sizes, (uint32_t)(2 * (n + 1)));
	le32_store(v + sizes + 4, data_size);
	memcpy(v + sizes + 8, guid, 16);
	for (size_t i = 0; i <= n; i++)
		le16_store(v + hdr + 2 * i, (uint8_t)name[i]);
	memcpy(v + hdr + 2 * (n + 1), data, data_size);
	s->at += hdr + 2 * (n + 1) + data_size;
	s->at = (s->at + 3) & ~(size_t)3;
}

static void stale_install(struct store *s, int auth)
{
	uint32_t one = 1, ff = 0xff, zero = 0, two = 2;
	uint16_t boot3 = 3;
	store_init(s, auth);
	store_add(s, 0x3f, nvidia, "BootChainFwCurrent", &zero, 4);
	store_add(s, 0x3f & 0xfd, nvidia, "BootChainFwNext", &zero, 4); /* deleted */
	store_add(s, 0x3f, nvidia, "BootChainFwNext", &one, 4);
	store_add(s, 0x3f, nvidia, "RootfsStatusSlotB", &ff, 4);
	store_add(s, 0x3f, global, "BootNext", &boot3, 2);
	store_add(s, 0x3f, global, "BootChainFwStatus", &two, 4); /* the wrong GUID */
	store_add(s, 0x3f, nvidia, "RootfsStatusSlotA", "abc", 3); /* odd size: unaligned next */
}

static struct store st;

static void authenticated_store_reports_live_boot_variables(void)
{
	struct efi_varstore_found f;
	stale_install(&st, 1);
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 0);
	CHECK(f.authenticated == 1 && f.entries == 7 && f.live == 6);
	char text[256];
	CHECK(efi_varstore_describe(&f, text, sizeof(text)) == 4);
	CHECK_STR_EQ(text, "BootChainFwNext=1, RootfsStatusSlotA=<3 bytes 61 62 63>, "
			   "RootfsStatusSlotB=0xff, BootNext=Boot0003");
}

static void plain_store_reads_the_same(void)
{
	struct efi_varstore_found f;
	stale_install(&st, 0);
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 0);
	CHECK(f.authenticated == 0 && f.entries == 7);
	char text[256];
	efi_varstore_describe(&f, text, sizeof(text));
	CHECK_STR_EQ(text, "BootChainFwNext=1, RootfsStatusSlotA=<3 bytes 61 62 63>, "
			   "RootfsStatusSlotB=0xff, BootNext=Boot0003");
}

/* edk2 VariableParsing.c FindVariableEx: the first VAR_ADDED copy wins; with none, a copy in
 * deleted transition is the variable; deleted copies are not */
static void transition_copy_counts_only_without_an_added_one(void)
{
	uint32_t one = 1, zero = 0, twelve = 12;
	struct efi_varstore_found f;
	store_init(&st, 1);
	store_add(&st, 0x3f & 0xfe, nvidia, "BootChainFwNext", &zero, 4);
	store_add(&st, 0x3f, nvidia, "BootChainFwNext", &one, 4);
	store_add(&st, 0x3f & 0xfe, nvidia, "BootChainFwStatus", &twelve, 4);
	store_add(&st, 0x3f & 0xfe & 0xfd, nvidia, "RootfsStatusSlotB", &one, 4);
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 0);
	char text[256];
	CHECK(efi_varstore_describe(&f, text, sizeof(text)) == 2);
	CHECK_STR_EQ(text, "BootChainFwNext=1, BootChainFwStatus=0xc");
}

static void fresh_store_holds_nothing(void)
{
	struct efi_varstore_found f;
	store_init(&st, 1);
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 0);
	char text[64];
	CHECK(f.entries == 0 && efi_varstore_describe(&f, text, sizeof(text)) == 0);
	CHECK_STR_EQ(text, "");
}

static void erased_partition_is_blank(void)
{
	struct efi_varstore_found f;
	memset(st.b, 0xff, sizeof(st.b));
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 1);
}

static int refused(const char *why_contains)
{
	struct efi_varstore_found f;
	err_clear();
	return efi_varstore_read(st.b, sizeof(st.b), &f) == -1 && strstr(err_msg(), why_contains);
}

static void damaged_stores_are_refused_with_a_reason(void)
{
	memset(st.b, 0, sizeof(st.b));
	CHECK(refused("_FVH"));
	stale_install(&st, 1);
	st.b[16] ^= 1;
	CHECK(refused("NV data volume"));
	stale_install(&st, 1);
	st.b[60] ^= 1;
	CHECK(refused("checksum"));
	stale_install(&st, 1);
	le64_store(st.b + 32, (uint64_t)STORE_BYTES + 1);
	CHECK(refused("firmware volume of 8193 bytes"));
	stale_install(&st, 1);
	st.b[72] ^= 1;
	CHECK(refused("no variable store signature"));
	stale_install(&st, 1);
	st.b[72 + 21] = 0xfc;
	CHECK(refused("not formatted and healthy"));
	stale_install(&st, 1);
	le32_store(st.b + 72 + 16, 0xffffffffu);
	CHECK(refused("variable store of 4294967295 bytes"));
	/* a variable whose sizes reach past the store: refused, what came before is kept */
	stale_install(&st, 1);
	le32_store(st.b + 100 + 40, 0xfffffff0u);
	struct efi_varstore_found f;
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == -1);
	CHECK(strstr(err_msg(), "run past the store's end") != NULL);
	CHECK(f.entries == 0);
	/* too short for a header at all */
	struct efi_varstore_found g;
	CHECK(efi_varstore_read(st.b, 40, &g) == -1);
}

/* the walk ends at the store's end even when the bytes after it look like variables */
static void walk_stops_at_the_store_end(void)
{
	uint32_t one = 1;
	struct efi_varstore_found f;
	store_init(&st, 0);
	store_add(&st, 0x3f, nvidia, "BootChainFwNext", &one, 4);
	size_t end = st.at;
	store_add(&st, 0x3f, global, "BootNext", &one, 2);
	le32_store(st.b + 72 + 16, (uint32_t)(end - 72));
	CHECK(efi_varstore_read(st.b, sizeof(st.b), &f) == 0);
	CHECK(f.entries == 1 && f.vars[EFI_BOOT_VAR_CHAIN_NEXT].present &&
	      !f.vars[EFI_BOOT_VAR_BOOT_NEXT].present);
}

int main(void)
{
	RUN(authenticated_store_reports_live_boot_variables);
	RUN(plain_store_reads_the_same);
	RUN(transition_copy_counts_only_without_an_added_one);
	RUN(fresh_store_holds_nothing);
	RUN(erased_partition_is_blank);
	RUN(damaged_stores_are_refused_with_a_reason);
	RUN(walk_stops_at_the_store_end);
	return CHECK_EXIT();
}
