/* SPDX-License-Identifier: MIT */
/*
 * Android boot images, version 0 (magic "ANDROID!"), in the layout AOSP's mkbootimg writes:
 * a header page, the kernel, the ramdisk, each padded to the page size. Jetson UEFI boots
 * one from the RCM blob (DESIGN.md §6); mkinitrd writes one, hostload puts one into a blob.
 *
 * Nothing here allocates: the caller sizes the buffer with bootimg_size() and owns it.
 */
#ifndef SELFFLASH_BOOTIMG_H
#define SELFFLASH_BOOTIMG_H

#include <stddef.h>
#include <stdint.h>

#define BOOTIMG_MAGIC "ANDROID!"
#define BOOTIMG_MAGIC_LEN 8
/* mkbootimg's default page size, and the range it is checked against here */
#define BOOTIMG_PAGE_DEFAULT 2048u
#define BOOTIMG_PAGE_MIN 2048u
#define BOOTIMG_PAGE_MAX 16384u
/* The v0 header fields up to and including extra_cmdline. */
#define BOOTIMG_HEADER_LEN 1632u
/* cmdline[512] holds this many characters and its NUL (the extra_cmdline field stays empty) */
#define BOOTIMG_CMDLINE_MAX 511u
/* Largest image built or accepted: the sizes in the header are 32 bits. */
#define BOOTIMG_SIZE_MAX 0xffffffffu

/* What a parsed header says. Plain data. */
struct bootimg_info {
	uint32_t page_size;
	uint32_t header_version;
	uint32_t kernel_size;
	uint32_t ramdisk_size;
	uint32_t second_size;
	uint64_t kernel_offset;  /* from the image's start */
	uint64_t ramdisk_offset; /* from the image's start */
	uint64_t total;          /* header page + padded kernel, ramdisk and second stage */
	char cmdline[BOOTIMG_CMDLINE_MAX + 1];
};

/*
 * The size of a v0 image holding a kernel of kernel_len and a ramdisk of ramdisk_len bytes
 * with pages of page_size bytes, in *size. 0, or -1 with err_msg() when page_size is not a
 * power of two in BOOTIMG_PAGE_MIN..MAX, the kernel is empty, or the image would exceed
 * BOOTIMG_SIZE_MAX.
 */
int bootimg_size(uint64_t kernel_len, uint64_t ramdisk_len, uint32_t page_size, uint64_t *size);

/*
 * Writes the v0 image into out (out_size bytes, at least what bootimg_size() said): the
 * header with mkbootimg's default load addresses and its `id` (SHA-1 of kernel, kernel
 * size, ramdisk, ramdisk size, second-stage size), the cmdline (at most BOOTIMG_CMDLINE_MAX
 * characters, NULL for none), then kernel and ramdisk, zero padded. 0, or -1 with err_msg().
 */
int bootimg_build(uint8_t *out, uint64_t out_size, const uint8_t *kernel, uint64_t kernel_len,
		  const uint8_t *ramdisk, uint64_t ramdisk_len, const char *cmdline,
		  uint32_t page_size);

/*
 * Checks that data[0..size) is a boot image whose header and sizes are consistent: the
 * magic, header version 0, a page size as above, a kernel, and every section inside size.
 * Fills *info. 0, or -1 with err_msg() naming the field that is wrong.
 */
int bootimg_parse(struct bootimg_info *info, const uint8_t *data, uint64_t size);

#endif
