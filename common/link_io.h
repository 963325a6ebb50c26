/* SPDX-License-Identifier: MIT */
/* Byte-stream plumbing both ends of the link share: serial devices, unix addresses, writes. */
#ifndef SELFFLASH_LINK_IO_H
#define SELFFLASH_LINK_IO_H

#include <stddef.h>
#include <sys/un.h>

/* Opens a character device (virtio port, CDC-ACM, serial line) read-write, raw mode when it
 * is a tty; the fd, or -1 naming the path. */
int link_open_device(const char *path);

/* Fills a unix socket address for path; 0, or -1 when the path does not fit. */
int link_unix_address(const char *path, struct sockaddr_un *sa);

/* Writes all n bytes (send() without SIGPIPE on sockets); 0, or -1 naming the error. */
int link_write_all(int fd, int is_socket, const void *p, size_t n);

#endif
