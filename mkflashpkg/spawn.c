/* SPDX-License-Identifier: MIT */
#include "spawn.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "error.h"

extern char **environ;

int spawn_run(const char *const argv[])
{
	pid_t pid;
	fflush(NULL); /* our buffered lines first, then the tool's */
	int rc = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (rc != 0)
		return err_set("cannot run %s: %s", argv[0], strerror(rc));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set("waiting for %s: %s", argv[0], strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return err_set("%s failed (exit status %d)", argv[0], WEXITSTATUS(status));
	return err_set("%s was killed by signal %d", argv[0], WTERMSIG(status));
}
