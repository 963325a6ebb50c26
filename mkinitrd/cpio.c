/* SPDX-License-Identifier: MIT */
/* newc cpio writer: deterministic headers, 4-byte alignment, trailer. */
#include "cpio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEWC_HEADER_SIZE 110
/* the kernel's initramfs unpacker refuses longer names (PATH_MAX) */
#define CPIO_MAX_NAME 4095

static const unsigned char zeros[512];

void cpio_writer_init(struct cpio_writer *w, cpio_sink_fn sink, void *sink_ctx, uint32_t mtime)
{
	w->sink = sink;
	w->sink_ctx = sink_ctx;
	w->mtime = mtime;
	w->next_ino = 1;
	w->offset = 0;
}

static int emit(struct cpio_writer *w, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (w->sink(w->sink_ctx, buf, len) != 0)
		return -1;
	w->offset += len;
	return 0;
}

static int pad_to(struct cpio_writer *w, unsigned align)
{
	size_t pad = (size_t)((align - w->offset % align) % align);
	return emit(w, zeros, pad);
}

static int emit_header(struct cpio_writer *w, const char *name, uint32_t mode, uint64_t size,
		       unsigned rdev_major, unsigned rdev_minor)
{
	while (name[0] == '/')
		name++;
	size_t name_len = strlen(name);
	if (name_len == 0 || name_len > CPIO_MAX_NAME) {
		fprintf(stderr, "cpio: entry name '%.64s' is empty or longer than %d bytes\n", name,
			CPIO_MAX_NAME);
		return -1;
	}
	if (size > CPIO_MAX_FILE_SIZE) {
		fprintf(stderr, "cpio: %s is %llu bytes; newc holds at most %llu\n", name,
			(unsigned long long)size, (unsigned long long)CPIO_MAX_FILE_SIZE);
		return -1;
	}
	char hdr[NEWC_HEADER_SIZE + 1];
	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", w->next_ino++,
		 mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, w->mtime, (uint32_t)size, 0u, 0u,
		 rdev_major, rdev_minor, (uint32_t)(name_len + 1), 0u);
	if (emit(w, hdr, NEWC_HEADER_SIZE) != 0 || emit(w, name, name_len + 1) != 0)
		return -1;
	return pad_to(w, 4);
}

int cpio_add_dir(struct cpio_writer *w, const char *name, unsigned perm)
{
	return emit_header(w, name, S_IFDIR | (perm & 07777), 0, 0, 0);
}

int cpio_add_char_dev(struct cpio_writer *w, const char *name, unsigned perm, unsigned major,
		      unsigned minor)
{
	return emit_header(w, name, S_IFCHR | (perm & 07777), 0, major, minor);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target)
{
	size_t len = strlen(target);
	if (emit_header(w, name, S_IFLNK | 0777, len, 0, 0) != 0 || emit(w, target, len) != 0)
		return -1;
	return pad_to(w, 4);
}

int cpio_add_data(struct cpio_writer *w, const char *name, unsigned perm, const void *data,
		  uint64_t size)
{
	if (emit_header(w, name, S_IFREG | (perm & 07777), size, 0, 0) != 0 ||
	    emit(w, data, (size_t)size) != 0)
		return -1;
	return pad_to(w, 4);
}

int cpio_add_fd(struct cpio_writer *w, const char *name, unsigned perm, int fd, uint64_t size)
{
	if (emit_header(w, name, S_IFREG | (perm & 07777), size, 0, 0) != 0)
		return -1;
	unsigned char buf[65536];
	uint64_t done = 0;
	while (done < size) {
		size_t want = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
		ssize_t got = read(fd, buf, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			fprintf(stderr, "cpio: %s: %s after %llu of %llu bytes\n", name,
				got < 0 ? strerror(errno) : "file shrank", (unsigned long long)done,
				(unsigned long long)size);
			return -1;
		}
		if (emit(w, buf, (size_t)got) != 0)
			return -1;
		done += (uint64_t)got;
	}
	/* a file that grew while being read would make the archive lie about its size */
	if (read(fd, buf, 1) != 0) {
		fprintf(stderr, "cpio: %s changed while it was being read\n", name);
		return -1;
	}
	return pad_to(w, 4);
}

int cpio_finish(struct cpio_writer *w)
{
	if (emit_header(w, "TRAILER!!!", 0, 0, 0, 0) != 0)
		return -1;
	return pad_to(w, 512);
}
