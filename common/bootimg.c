/* SPDX-License-Identifier: MIT */
/* Android boot image v0: sizing, building (as AOSP's mkbootimg lays it out) and checking. */
#include "bootimg.h"

#include <bearssl_hash.h>
#include <string.h>

#include "error.h"
#include "le.h"

/* Field offsets of the v0 header (AOSP system/tools/mkbootimg, boot_img_hdr_v0). */
#define OFF_KERNEL_SIZE 8
#define OFF_KERNEL_ADDR 12
#define OFF_RAMDISK_SIZE 16
#define OFF_RAMDISK_ADDR 20
#define OFF_SECOND_SIZE 24
#define OFF_SECOND_ADDR 28
#define OFF_TAGS_ADDR 32
#define OFF_PAGE_SIZE 36
#define OFF_HEADER_VERSION 40
#define OFF_CMDLINE 64
#define OFF_ID 576
#define CMDLINE_FIELD 512u

/* mkbootimg's defaults (--base 0x10000000 and its offsets). Whether Jetson UEFI reads them is
 * not known; writing what mkbootimg writes keeps the header as NVIDIA's tools make it. */
#define BASE 0x10000000u
#define KERNEL_ADDR (BASE + 0x00008000u)
#define RAMDISK_ADDR (BASE + 0x01000000u)
#define SECOND_ADDR (BASE + 0x00f00000u)
#define TAGS_ADDR (BASE + 0x00000100u)

static int page_ok(uint32_t page)
{
	return page >= BOOTIMG_PAGE_MIN && page <= BOOTIMG_PAGE_MAX && (page & (page - 1)) == 0;
}

/* len rounded up to a multiple of page; both far below 2^63 after the callers' checks */
static uint64_t pad_to(uint64_t len, uint32_t page)
{
	return (len + page - 1) / page * page;
}

int bootimg_size(uint64_t kernel_len, uint64_t ramdisk_len, uint32_t page_size, uint64_t *size)
{
	if (!page_ok(page_size))
		return err_set("boot image: page size %u, expected a power of two from %u to %u",
			       page_size, BOOTIMG_PAGE_MIN, BOOTIMG_PAGE_MAX);
	if (kernel_len == 0)
		return err_set("boot image: the kernel is empty");
	if (kernel_len > BOOTIMG_SIZE_MAX || ramdisk_len > BOOTIMG_SIZE_MAX)
		return err_set("boot image: kernel %llu and ramdisk %llu bytes, each must be below "
			       "4 GiB (32-bit sizes in the header)", (unsigned long long)kernel_len,
			       (unsigned long long)ramdisk_len);
	uint64_t total = page_size + pad_to(kernel_len, page_size) + pad_to(ramdisk_len, page_size);
	if (total > BOOTIMG_SIZE_MAX)
		return err_set("boot image: %llu bytes, expected at most %u",
			       (unsigned long long)total, BOOTIMG_SIZE_MAX);
	*size = total;
	return 0;
}

int bootimg_build(uint8_t *out, uint64_t out_size, const uint8_t *kernel, uint64_t kernel_len,
		  const uint8_t *ramdisk, uint64_t ramdisk_len, const char *cmdline,
		  uint32_t page_size)
{
	uint64_t total;
	if (bootimg_size(kernel_len, ramdisk_len, page_size, &total) != 0)
		return -1;
	if (out_size < total)
		return err_set("boot image: needs %llu bytes, the buffer holds %llu",
			       (unsigned long long)total, (unsigned long long)out_size);
	size_t cmd_len = cmdline ? strlen(cmdline) : 0;
	if (cmd_len > BOOTIMG_CMDLINE_MAX)
		return err_set("boot image: command line of %zu characters, expected at most %u",
			       cmd_len, BOOTIMG_CMDLINE_MAX);
	memset(out, 0, (size_t)total);
	memcpy(out, BOOTIMG_MAGIC, BOOTIMG_MAGIC_LEN);
	le32_store(out + OFF_KERNEL_SIZE, (uint32_t)kernel_len);
	le32_store(out + OFF_KERNEL_ADDR, KERNEL_ADDR);
	le32_store(out + OFF_RAMDISK_SIZE, (uint32_t)ramdisk_len);
	le32_store(out + OFF_RAMDISK_ADDR, RAMDISK_ADDR);
	le32_store(out + OFF_SECOND_SIZE, 0);
	le32_store(out + OFF_SECOND_ADDR, SECOND_ADDR);
	le32_store(out + OFF_TAGS_ADDR, TAGS_ADDR);
	le32_store(out + OFF_PAGE_SIZE, page_size);
	le32_store(out + OFF_HEADER_VERSION, 0);
	if (cmd_len)
		memcpy(out + OFF_CMDLINE, cmdline, cmd_len);
	/* mkbootimg's id: SHA-1 over each part then its u32 length; a missing part adds only
	 * its length (0). Nothing on the Jetson checks it; it makes the bytes match. */
	br_sha1_context sha;
	uint8_t len_le[4];
	br_sha1_init(&sha);
	br_sha1_update(&sha, kernel, (size_t)kernel_len);
	le32_store(len_le, (uint32_t)kernel_len);
	br_sha1_update(&sha, len_le, 4);
	if (ramdisk_len)
		br_sha1_update(&sha, ramdisk, (size_t)ramdisk_len);
	le32_store(len_le, (uint32_t)ramdisk_len);
	br_sha1_update(&sha, len_le, 4);
	le32_store(len_le, 0); /* no second stage */
	br_sha1_update(&sha, len_le, 4);
	br_sha1_out(&sha, out + OFF_ID);
	memcpy(out + page_size, kernel, (size_t)kernel_len);
	if (ramdisk_len)
		memcpy(out + page_size + pad_to(kernel_len, page_size), ramdisk, (size_t)ramdisk_len);
	return 0;
}

int bootimg_parse(struct bootimg_info *info, const uint8_t *data, uint64_t size)
{
	memset(info, 0, sizeof(*info));
	if (size < BOOTIMG_HEADER_LEN)
		return err_set("boot image: %llu bytes, shorter than its %u-byte header",
			       (unsigned long long)size, BOOTIMG_HEADER_LEN);
	if (memcmp(data, BOOTIMG_MAGIC, BOOTIMG_MAGIC_LEN) != 0)
		return err_set("boot image: no \"ANDROID!\" magic at offset 0");
	info->header_version = le32_load(data + OFF_HEADER_VERSION);
	if (info->header_version != 0)
		return err_set("boot image: header version %u, expected 0", info->header_version);
	info->page_size = le32_load(data + OFF_PAGE_SIZE);
	if (!page_ok(info->page_size))
		return err_set("boot image: page size %u, expected a power of two from %u to %u",
			       info->page_size, BOOTIMG_PAGE_MIN, BOOTIMG_PAGE_MAX);
	info->kernel_size = le32_load(data + OFF_KERNEL_SIZE);
	info->ramdisk_size = le32_load(data + OFF_RAMDISK_SIZE);
	info->second_size = le32_load(data + OFF_SECOND_SIZE);
	if (info->kernel_size == 0)
		return err_set("boot image: kernel size 0");
	/* three 32-bit sizes padded to at most 16 KiB pages cannot wrap 64 bits */
	info->kernel_offset = info->page_size;
	info->ramdisk_offset = info->kernel_offset + pad_to(info->kernel_size, info->page_size);
	info->total = info->ramdisk_offset + pad_to(info->ramdisk_size, info->page_size) +
		      pad_to(info->second_size, info->page_size);
	/* only the bytes the sizes name must be there: padding after the last section carries
	 * nothing, so a file cut after it is accepted */
	uint64_t used = info->ramdisk_offset + info->ramdisk_size;
	if (info->second_size)
		used = info->ramdisk_offset + pad_to(info->ramdisk_size, info->page_size) +
		       info->second_size;
	if (used > size)
		return err_set("boot image: header says kernel %u, ramdisk %u, second %u bytes in "
			       "%u-byte pages (%llu bytes), the image has %llu",
			       info->kernel_size, info->ramdisk_size, info->second_size,
			       info->page_size, (unsigned long long)used,
			       (unsigned long long)size);
	memcpy(info->cmdline, data + OFF_CMDLINE, BOOTIMG_CMDLINE_MAX);
	info->cmdline[BOOTIMG_CMDLINE_MAX] = '\0';
	return 0;
}
