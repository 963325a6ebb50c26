/* SPDX-License-Identifier: MIT */
/*
 * edk2 variable store reader. Layouts from tianocore/edk2 at edk2-stable202211:
 * MdePkg/Include/Pi/PiFirmwareVolume.h:99-150 (EFI_FIRMWARE_VOLUME_HEADER),
 * MdeModulePkg/Include/Guid/VariableFormat.h:37-192 (VARIABLE_STORE_HEADER, VARIABLE_HEADER,
 * AUTHENTICATED_VARIABLE_HEADER, HEADER_ALIGNMENT 4, VARIABLE_DATA 0x55AA, the states), the GUIDs
 * in MdeModulePkg/MdeModulePkg.dec:188,220,224 and MdePkg/MdePkg.dec:324, and how the store is
 * walked in MdeModulePkg/Universal/Variable/RuntimeDxe/VariableParsing.c:24-36 (a header is
 * valid while it starts with 0x55AA before the end), :356-413 (the next header is 4-aligned
 * after name and data; the store starts 4-aligned after its header and ends at its Size),
 * :470-520 (a variable in deleted transition counts when no VAR_ADDED copy exists) and
 * VariableNonVolatile.c:225 (the store follows the FV header at HeaderLength). What the T234
 * firmware checks before it uses a store: docs/t234-firmware-facts.md section 4.
 */
#include "efi_varstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "le.h"

/* EFI_FIRMWARE_VOLUME_HEADER */
#define FV_FILE_SYSTEM_GUID 16
#define FV_LENGTH 32
#define FV_SIGNATURE 40
#define FV_HEADER_LENGTH 48
#define FV_REVISION 55
#define FV_BLOCK_MAP 56
#define FV_REVISION_2 2

/* VARIABLE_STORE_HEADER */
#define STORE_SIZE 16
#define STORE_FORMAT 20
#define STORE_STATE 21
#define STORE_HEADER_SIZE 28
#define STORE_FORMATTED 0x5a
#define STORE_HEALTHY 0xfe

/* VARIABLE_HEADER (32 bytes) and AUTHENTICATED_VARIABLE_HEADER (60 bytes, with a monotonic
 * count, an EFI_TIME and a public key index before the sizes) */
#define VAR_START_ID 0
#define VAR_STATE 2
#define VARIABLE_DATA 0x55aa
#define VAR_ADDED 0x3f
#define VAR_IN_DELETED_TRANSITION 0xfe
#define HEADER_ALIGNMENT 4u

struct var_format {
	uint32_t header_size, name_size_at, data_size_at, guid_at;
};
static const struct var_format plain_format = { 32, 8, 12, 16 };
static const struct var_format auth_format = { 60, 36, 40, 44 };

/* EFI_GUIDs as stored: Data1..3 little-endian, then Data4's 8 bytes */
static const uint8_t system_nv_data_fv_guid[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
						    0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
static const uint8_t variable_guid[16] = { 0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41,
					   0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d };
static const uint8_t authenticated_variable_guid[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94,
							 0x9a, 0x43, 0xa1, 0x80, 0x2e, 0x14,
							 0x4e, 0xc3, 0x77, 0x92 };
/* NVIDIA's boot chain and rootfs variables: 781e084c-a330-417c-b678-38e696380cb9 (DESIGN.md 9) */
static const uint8_t nvidia_guid[16] = { 0x4c, 0x08, 0x1e, 0x78, 0x30, 0xa3, 0x7c, 0x41,
					 0xb6, 0x78, 0x38, 0xe6, 0x96, 0x38, 0x0c, 0xb9 };
/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c */
static const uint8_t global_guid[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };

static const struct {
	const char *name;
	const uint8_t *guid;
} boot_vars[EFI_BOOT_VAR_COUNT] = {
	[EFI_BOOT_VAR_CHAIN_NEXT] = { "BootChainFwNext", nvidia_guid },
	[EFI_BOOT_VAR_CHAIN_STATUS] = { "BootChainFwStatus", nvidia_guid },
	[EFI_BOOT_VAR_ROOTFS_A] = { "RootfsStatusSlotA", nvidia_guid },
	[EFI_BOOT_VAR_ROOTFS_B] = { "RootfsStatusSlotB", nvidia_guid },
	[EFI_BOOT_VAR_BOOT_NEXT] = { "BootNext", global_guid },
};

const char *efi_boot_var_name(enum efi_boot_var v)
{
	return (unsigned)v < EFI_BOOT_VAR_COUNT ? boot_vars[v].name : "?";
}

static uint64_t align_up(uint64_t v)
{
	return (v + HEADER_ALIGNMENT - 1) & ~(uint64_t)(HEADER_ALIGNMENT - 1);
}

/* Whether the UCS-2 name of name_size bytes (terminator included) is `want`. */
static int name_is(const uint8_t *name, uint64_t name_size, const char *want)
{
	size_t n = strlen(want);
	if (name_size != 2 * ((uint64_t)n + 1))
		return 0;
	for (size_t i = 0; i <= n; i++)
		if (le16_load(name + 2 * i) != (uint8_t)want[i])
			return 0;
	return 1;
}

/* Which boot variable the entry is, or EFI_BOOT_VAR_COUNT. */
static unsigned which_boot_var(const uint8_t *guid, const uint8_t *name, uint64_t name_size)
{
	for (unsigned v = 0; v < EFI_BOOT_VAR_COUNT; v++)
		if (memcmp(guid, boot_vars[v].guid, 16) == 0 && name_is(name, name_size, boot_vars[v].name))
			return v;
	return EFI_BOOT_VAR_COUNT;
}

/* The FV header and the store header; the store's bytes are [*start, *end) of p. */
static int read_headers(const uint8_t *p, uint64_t len, uint64_t *start, uint64_t *end,
			int *authenticated)
{
	if (len < FV_BLOCK_MAP + 8 + STORE_HEADER_SIZE)
		return err_set("%" PRIu64 " bytes are too few for a firmware volume", len);
	if (memcmp(p + FV_SIGNATURE, "_FVH", 4) != 0)
		return err_set("no firmware volume signature _FVH at offset %d", FV_SIGNATURE);
	if (memcmp(p + FV_FILE_SYSTEM_GUID, system_nv_data_fv_guid, 16) != 0)
		return err_set("the firmware volume is not an NV data volume (gEfiSystemNvDataFvGuid)");
	if (p[FV_REVISION] != FV_REVISION_2)
		return err_set("firmware volume revision %u, expected %u", p[FV_REVISION], FV_REVISION_2);
	uint64_t fv_length = le64_load(p + FV_LENGTH);
	uint64_t header_length = le16_load(p + FV_HEADER_LENGTH);
	if (fv_length > len)
		return err_set("firmware volume of %" PRIu64 " bytes in %" PRIu64 " bytes", fv_length,
			       len);
	/* the header holds at least a one-entry block map and its {0,0} terminator */
	if (header_length < FV_BLOCK_MAP + 8 || header_length % 2 ||
	    header_length + STORE_HEADER_SIZE > fv_length)
		return err_set("firmware volume header length %" PRIu64 " in a %" PRIu64
			       "-byte volume", header_length, fv_length);
	uint16_t sum = 0;
	for (uint64_t i = 0; i < header_length; i += 2)
		sum = (uint16_t)(sum + le16_load(p + i));
	if (sum != 0)
		return err_set("firmware volume header checksum does not sum to zero (0x%04x)", sum);
	const uint8_t *store = p + header_length;
	if (memcmp(store, authenticated_variable_guid, 16) == 0)
		*authenticated = 1;
	else if (memcmp(store, variable_guid, 16) == 0)
		*authenticated = 0;
	else
		return err_set("no variable store signature after the firmware volume header");
	if (store[STORE_FORMAT] != STORE_FORMATTED || store[STORE_STATE] != STORE_HEALTHY)
		return err_set("variable store format 0x%02x state 0x%02x, not formatted and healthy",
			       store[STORE_FORMAT], store[STORE_STATE]);
	uint64_t store_size = le32_load(store + STORE_SIZE);
	if (store_size < STORE_HEADER_SIZE || store_size > fv_length - header_length)
		return err_set("variable store of %" PRIu64 " bytes in the %" PRIu64
			       " bytes after the firmware volume header", store_size,
			       fv_length - header_length);
	*start = align_up(header_length + STORE_HEADER_SIZE);
	*end = header_length + store_size;
	return 0;
}

/* Records entry e (its header at p + at) when it is one of the boot variables. */
static void note_entry(struct efi_varstore_found *out, const uint8_t *p, uint64_t at,
		       const struct var_format *f, uint64_t name_size, uint64_t data_size,
		       int *added_seen)
{
	uint8_t state = p[at + VAR_STATE];
	int added = state == VAR_ADDED;
	out->live += (uint32_t)added;
	if (!added && state != (VAR_ADDED & VAR_IN_DELETED_TRANSITION))
		return;
	uint64_t name_at = at + f->header_size;
	unsigned v = which_boot_var(p + at + f->guid_at, p + name_at, name_size);
	/* edk2 takes the first VAR_ADDED copy, else the last one in deleted transition */
	if (v == EFI_BOOT_VAR_COUNT || added_seen[v])
		return;
	added_seen[v] = added;
	out->vars[v].present = 1;
	out->vars[v].data_size = (uint32_t)data_size;
	memset(out->vars[v].value, 0, sizeof(out->vars[v].value));
	memcpy(out->vars[v].value, p + name_at + name_size,
	       data_size < EFI_VARSTORE_VALUE_MAX ? (size_t)data_size : EFI_VARSTORE_VALUE_MAX);
}

int efi_varstore_read(const uint8_t *p, uint64_t len, struct efi_varstore_found *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t at = 0, end = 0;
	int blank = len >= FV_BLOCK_MAP;
	for (uint64_t i = 0; blank && i < FV_BLOCK_MAP; i++)
		blank = p[i] == 0xff;
	if (blank)
		return 1;
	if (read_headers(p, len, &at, &end, &out->authenticated) != 0)
		return -1;
	const struct var_format *f = out->authenticated ? &auth_format : &plain_format;
	int added_seen[EFI_BOOT_VAR_COUNT] = { 0 };
	/* each step moves on by at least a header: the walk ends */
	while (at + f->header_size <= end && le16_load(p + at + VAR_START_ID) == VARIABLE_DATA) {
		uint64_t name_size = le32_load(p + at + f->name_size_at);
		uint64_t data_size = le32_load(p + at + f->data_size_at);
		uint64_t data_end = at + f->header_size + name_size + data_size; /* < 2^34 */
		if (data_end > end)
			return err_set("variable %" PRIu32 " at offset %" PRIu64 ": name and data (%"
				       PRIu64 " + %" PRIu64 " bytes) run past the store's end at %"
				       PRIu64, out->entries, at, name_size, data_size, end);
		out->entries++;
		note_entry(out, p, at, f, name_size, data_size, added_seen);
		at = align_up(data_end);
	}
	return 0;
}

/* One value as text: small numbers in decimal, others in hex; BootNext as the Boot#### it
 * names; a value that is not 2 or 4 bytes as its bytes. */
static void value_text(unsigned v, uint32_t size, const uint8_t *value, char *out, size_t n)
{
	if (v == EFI_BOOT_VAR_BOOT_NEXT && size == 2) {
		snprintf(out, n, "Boot%04X", le16_load(value));
	} else if (size == 4 || size == 2) {
		uint32_t x = size == 4 ? le32_load(value) : le16_load(value);
		if (x < 10)
			snprintf(out, n, "%" PRIu32, x);
		else
			snprintf(out, n, "0x%" PRIx32, x);
	} else {
		size_t len = (size_t)snprintf(out, n, "<%" PRIu32 " bytes", size);
		for (uint32_t i = 0; i < size && i < EFI_VARSTORE_VALUE_MAX && len + 4 < n; i++)
			len += (size_t)snprintf(out + len, n - len, " %02x", value[i]);
		if (len + 5 < n)
			snprintf(out + len, n - len, "%s>", size > EFI_VARSTORE_VALUE_MAX ? " ..." : "");
	}
}

unsigned efi_varstore_describe(const struct efi_varstore_found *f, char *out, size_t size)
{
	unsigned count = 0;
	size_t len = 0;
	if (size)
		out[0] = '\0';
	for (unsigned v = 0; v < EFI_BOOT_VAR_COUNT; v++) {
		if (!f->vars[v].present)
			continue;
		char value[64];
		value_text(v, f->vars[v].data_size, f->vars[v].value, value, sizeof(value));
		if (len < size) {
			int n = snprintf(out + len, size - len, "%s%s=%s", count ? ", " : "",
					 boot_vars[v].name, value);
			len = n < 0 ? size : len + (size_t)n;
		}
		count++;
	}
	return count;
}
