/* SPDX-License-Identifier: MIT */
/* Serial devices in raw mode, unix socket addresses, whole writes. */
#include "link_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"

int link_open_device(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	struct termios t;
	if (isatty(fd) && tcgetattr(fd, &t) == 0) {
		/* a CDC-ACM or serial line: raw bytes, no echo, no line discipline */
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

int link_unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(sa->sun_path))
		return err_set("unix socket path of %zu bytes (1..%zu allowed)", n,
			       sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* Not io_write_all(): a link's peer may vanish (send() without SIGPIPE), its fd may be
 * non-blocking (EAGAIN is waited out, not an error), and the failure is told as a message. */
int link_write_all(int fd, int is_socket, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t w = is_socket ? send(fd, b, n, MSG_NOSIGNAL) : write(fd, b, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return err_set("link write: %s", w == 0 ? "no progress" : strerror(errno));
		b += w;
		n -= (size_t)w;
	}
	return 0;
}
