/* SPDX-License-Identifier: MIT */
/* pread/pwrite/write until done; small whole files. */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

int io_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* pwrite() at off when at_offset, else write() at the file position; as io_pwrite_all. */
static int write_loop(int fd, const void *buf, size_t len, int at_offset, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = at_offset ? pwrite(fd, p, len, (off_t)off) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return write_loop(fd, buf, len, 1, off);
}

int io_write_all(int fd, const void *buf, size_t len)
{
	return write_loop(fd, buf, len, 0, 0);
}

const char *io_error(void)
{
	return errno ? strerror(errno) : "unexpected end of file";
}

char *read_small_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set("%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(max + 1);
	size_t got = buf ? fread(buf, 1, max + 1, f) : 0;
	int failed = !buf || ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		err_set("%s: read error", path);
		return NULL;
	}
	if (got > max) {
		free(buf);
		err_set("%s: larger than %zu bytes", path, max);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}
