/* SPDX-License-Identifier: MIT */
/* What a root filesystem file is (tar, Android sparse, raw ext4, compressed), by its magics. */
#include "rootfs_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "le.h"
#include "sparse.h"

/* POSIX.1-1988 ustar header: the magic "ustar" at 257 (GNU tar writes "ustar  \0", POSIX
 * "ustar\0" "00"), the checksum as octal text at 148..155 */
#define TAR_BLOCK 512u
#define TAR_MAGIC_OFFSET 257u
#define TAR_CHKSUM_OFFSET 148u
#define TAR_CHKSUM_LEN 8u
/* ext2/3/4: the superblock at 1024, its s_magic at 56 within */
#define EXT4_MAGIC_OFFSET 1080u
#define EXT4_MAGIC 0xEF53u
/* bytes read to tell the kinds apart: the first tar header, the ext4 magic */
#define KIND_PROBE (EXT4_MAGIC_OFFSET + 2u)

/* 1 when the header's checksum field (octal) equals the sum of its bytes, the field itself
 * counted as spaces: tells a real tar from a file that happens to hold "ustar" at 257 */
static int tar_header_checksum_ok(const uint8_t *h)
{
	uint64_t sum = 0, want = 0;
	for (unsigned i = 0; i < TAR_BLOCK; i++)
		sum += (i >= TAR_CHKSUM_OFFSET && i < TAR_CHKSUM_OFFSET + TAR_CHKSUM_LEN) ? ' ' : h[i];
	unsigned i = TAR_CHKSUM_OFFSET;
	while (i < TAR_CHKSUM_OFFSET + TAR_CHKSUM_LEN && h[i] == ' ')
		i++;
	unsigned digits = 0;
	for (; i < TAR_CHKSUM_OFFSET + TAR_CHKSUM_LEN && h[i] >= '0' && h[i] <= '7'; i++, digits++)
		want = want * 8 + (uint64_t)(h[i] - '0');
	return digits > 0 && sum == want;
}

int rootfs_kind(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	uint8_t b[KIND_PROBE];
	memset(b, 0, sizeof(b));
	/* a short file is probed as far as it goes: the bytes past its end stay zero */
	ssize_t got = 0;
	while ((size_t)got < sizeof(b)) {
		ssize_t r = read(fd, b + got, sizeof(b) - (size_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return err_set("%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		got += r;
	}
	close(fd);
	size_t n = (size_t)got;
	if (n >= 4 && le32_load(b) == SPARSE_MAGIC)
		return ROOTFS_KIND_SPARSE;
	if (n >= TAR_BLOCK && memcmp(b + TAR_MAGIC_OFFSET, "ustar", 5) == 0 &&
	    tar_header_checksum_ok(b))
		return ROOTFS_KIND_TAR;
	if (n >= KIND_PROBE && le16_load(b + EXT4_MAGIC_OFFSET) == EXT4_MAGIC)
		return ROOTFS_KIND_EXT4;
	static const struct {
		const char *magic;
		size_t len;
	} compressed[] = {
		{ "\x1f\x8b", 2 },                 /* gzip */
		{ "BZh", 3 },                      /* bzip2 */
		{ "\xfd" "7zXZ\0", 6 },            /* xz */
		{ "\x28\xb5\x2f\xfd", 4 },         /* zstd */
	};
	for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
		if (n >= compressed[i].len && memcmp(b, compressed[i].magic, compressed[i].len) == 0)
			return ROOTFS_KIND_COMPRESSED;
	return ROOTFS_KIND_UNKNOWN;
}

const char *rootfs_kind_name(int kind)
{
	switch (kind) {
	case ROOTFS_KIND_TAR: return "tar";
	case ROOTFS_KIND_SPARSE: return "Android sparse image";
	case ROOTFS_KIND_EXT4: return "raw ext4 image";
	case ROOTFS_KIND_COMPRESSED: return "compressed file (gzip, bzip2, xz or zstd)";
	default: return "file of unknown kind";
	}
}
