/* SPDX-License-Identifier: MIT */
/* Running another program by its argument vector (posix_spawnp), never through a shell. */
#include "tool_run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

extern char **environ;

/* most entries of the environment a program is given: a bound, not a budget */
#define TOOL_MAX_ENV 4096

/* 1 when entry ("NAME=...") sets the same NAME as one of env_add */
static int env_replaced(const char *entry, const char *const env_add[])
{
	for (size_t i = 0; env_add && env_add[i]; i++) {
		size_t n = strcspn(env_add[i], "=");
		if (strncmp(entry, env_add[i], n) == 0 && entry[n] == '=')
			return 1;
	}
	return 0;
}

int tool_run(const char *const argv[], const char *const env_add[], int out_fd)
{
	return tool_run_split(argv, env_add, out_fd, out_fd);
}

int tool_run_split(const char *const argv[], const char *const env_add[], int out_fd, int err_fd)
{
	/* static: too large for a stack; mkflashpkg runs its tools from one thread */
	static const char *envp[TOOL_MAX_ENV + 1];
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		if (!env_replaced(*e, env_add) && n < TOOL_MAX_ENV)
			envp[n++] = *e;
	for (size_t i = 0; env_add && env_add[i]; i++)
		if (n < TOOL_MAX_ENV)
			envp[n++] = env_add[i];
	envp[n] = NULL;

	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return err_set("%s: cannot prepare to start it", argv[0]);
	int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	pid_t pid;
	if (rc == 0)
		rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, (char *const *)envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == ENOENT)
		return err_set("%s is not installed (not found in PATH)", argv[0]);
	if (rc != 0)
		return err_set("cannot start %s: %s", argv[0], strerror(rc));

	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set("waiting for %s: %s", argv[0], strerror(errno));
	if (WIFSIGNALED(status))
		return err_set("%s was ended by signal %d", argv[0], WTERMSIG(status));
	return WEXITSTATUS(status);
}

void tool_output_tail(const char *path, char *out, size_t max)
{
	out[0] = '\0';
	if (max < 2)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	char buf[1024];
	size_t want = max - 1;
	if (want > sizeof(buf))
		want = sizeof(buf);
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return;
	}
	uint64_t size = (uint64_t)st.st_size;
	size_t len = want;
	if (size < len)
		len = (size_t)size;
	if (io_pread_all(fd, buf, len, size - len) != 0) {
		close(fd);
		return;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\r'))
		len--;
	/* start at a line when the tail was cut in the middle of one */
	size_t start = 0;
	if (len == want && size > want) {
		char *nl = memchr(buf, '\n', len);
		if (nl && (size_t)(nl - buf) + 1 < len)
			start = (size_t)(nl - buf) + 1;
	}
	size_t o = 0;
	for (size_t i = start; i < len && o + 2 < max; i++) {
		if (buf[i] == '\n') {
			out[o++] = ';';
			out[o++] = ' ';
		} else if (buf[i] == '\r' || buf[i] == '\t') {
			out[o++] = ' ';
		} else {
			out[o++] = buf[i];
		}
	}
	out[o] = '\0';
}
