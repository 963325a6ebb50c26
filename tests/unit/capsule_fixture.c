/* SPDX-License-Identifier: MIT */
/* Test capsules built in memory (capsule_fixture.h). */
#include "capsule_fixture.h"

#include <string.h>

#include "le.h"

/* 6dcbd5ed-e82d-4c44-bda1-7194199ad92a and bf0d4599-20d4-414e-b2c5-3595b1cda402, as EFI_GUIDs */
static const uint8_t fmp_guid[16] = { 0xed, 0xd5, 0xcb, 0x6d, 0x2d, 0xe8, 0x44, 0x4c,
				      0xbd, 0xa1, 0x71, 0x94, 0x19, 0x9a, 0xd9, 0x2a };
static const uint8_t t234_guid[16] = { 0x99, 0x45, 0x0d, 0xbf, 0xd4, 0x20, 0x4e, 0x41,
				       0xb2, 0xc5, 0x35, 0x95, 0xb1, 0xcd, 0xa4, 0x02 };

size_t capsule_fixture(uint8_t *buf, size_t cap, const char *const *names,
		       const char *const *specs, int n)
{
	const uint32_t data = 16, bup_header = 48;
	uint32_t bup_size = bup_header + (uint32_t)n * (184 + data);
	size_t payload = FIXTURE_AUTH_SIZE + 16 + bup_size;
	size_t total = FIXTURE_AUTH + payload;
	if (total > cap)
		return 0;
	memset(buf, 0, total);
	memcpy(buf, fmp_guid, 16);
	le32_store(buf + 16, FIXTURE_CAPSULE_HEADER);
	le32_store(buf + 20, 0x50000); /* PERSIST_ACROSS_RESET | INITIATE_RESET, as generated */
	le32_store(buf + 24, (uint32_t)total);
	uint8_t *fmp = buf + FIXTURE_CAPSULE_HEADER;
	le32_store(fmp, 1);
	le16_store(fmp + 6, 1);        /* one payload, no drivers */
	le64_store(fmp + 8, 16);       /* the item right after the 16-byte header */
	uint8_t *it = buf + FIXTURE_ITEM;
	le32_store(it, 3);
	memcpy(it + 4, t234_guid, 16);
	it[20] = 1;
	le32_store(it + 24, (uint32_t)payload);
	uint8_t *auth = buf + FIXTURE_AUTH;
	le64_store(auth, 1);           /* monotonic count */
	le32_store(auth + 8, 24 + 8);  /* WIN_CERTIFICATE_UEFI_GUID with 8 bytes of "signature" */
	le16_store(auth + 12, 0x0200);
	le16_store(auth + 14, 0x0EF1);
	uint8_t *mss = auth + FIXTURE_AUTH_SIZE;
	memcpy(mss, "MSS1", 4);
	le32_store(mss + 4, 16);
	uint8_t *bup = buf + FIXTURE_BUP;
	memcpy(bup, "NVIDIA__BLOB__V3", 16);
	le32_store(bup + 16, 0x00020000);
	le32_store(bup + 20, bup_size);
	le32_store(bup + 24, bup_header);
	le32_store(bup + 28, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = bup + bup_header + (size_t)i * 184;
		strncpy((char *)e, names[i], 39);
		le32_store(e + 40, bup_header + (uint32_t)n * 184 + (uint32_t)i * data);
		le32_store(e + 44, data);
		strncpy((char *)e + 56, specs[i], 127);
		memset(bup + bup_header + (size_t)n * 184 + (size_t)i * data, 0xA0 + i, data);
	}
	return total;
}
