/* SPDX-License-Identifier: MIT */
/* Whole reads and writes, retried over EINTR and short transfers; small files. */
#ifndef SELFFLASH_IO_H
#define SELFFLASH_IO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads exactly len bytes at off. Returns 0, or -1 with errno set; errno is 0 when the file
 * ended first. Records no message: callers know what they were reading.
 */
int io_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* Writes exactly len bytes at off; 0, or -1 with errno set (EIO for a zero-byte write). */
int io_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/*
 * Writes exactly len bytes at the file position (a new file, a pipe); as io_pwrite_all. A
 * link's byte stream has its own (link_io.h: sockets without SIGPIPE, a message on failure).
 */
int io_write_all(int fd, const void *buf, size_t len);

/* strerror(errno), or "unexpected end of file" after io_pread_all hit the end. */
const char *io_error(void);

/*
 * Reads a whole small file (at most max bytes: keys, configs, the EEPROM) into a new
 * NUL-terminated buffer the caller frees; NULL with err_msg() naming the file on error.
 */
char *read_small_file(const char *path, size_t max, size_t *len);

#endif
