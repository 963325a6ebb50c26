/* SPDX-License-Identifier: MIT */
/*
 * The baseline for `make bench`: a plain copy of a file through a unix stream socket into
 * another file, sender and receiver in two processes (like hostload and the flasher), with
 * the same 256 KiB pieces the link uses. Prints the bytes and the seconds it took.
 * Usage: sockcopy SRC DST
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIECE (256u << 10)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sockcopy SRC DST\n");
		return 2;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		return 1;
	}
	static char buf[PIECE];
	double start = now();
	pid_t child = fork();
	if (child == 0) {
		close(sv[0]);
		int in = open(argv[1], O_RDONLY);
		if (in < 0)
			_exit(1);
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write_all(sv[1], buf, (size_t)n) != 0)
				_exit(1);
		_exit(n < 0);
	}
	close(sv[1]);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || child < 0) {
		perror(argv[2]);
		return 1;
	}
	unsigned long long total = 0;
	ssize_t n;
	while ((n = read(sv[0], buf, sizeof(buf))) > 0) {
		if (write_all(out, buf, (size_t)n) != 0) {
			perror("write");
			return 1;
		}
		total += (unsigned long long)n;
	}
	int status;
	waitpid(child, &status, 0);
	if (close(out) != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sockcopy: copy failed\n");
		return 1;
	}
	printf("%llu bytes %.3f s\n", total, now() - start);
	return 0;
}
