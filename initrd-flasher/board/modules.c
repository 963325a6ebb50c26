/* SPDX-License-Identifier: MIT */
/* Loading the kernel modules named in the config, with finit_module(2). */
#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

int modules_load(const char *const *paths, size_t n, FILE *console)
{
	for (size_t i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set("module %s: %s", paths[i], strerror(errno));
		/* no parameters, no flags: the module as built for this kernel */
		long rc = syscall(SYS_finit_module, fd, "", 0);
		int e = errno;
		close(fd);
		if (rc != 0 && e != EEXIST)
			return err_set("module %s: finit_module: %s", paths[i], strerror(e));
		if (console) {
			fprintf(console, "flasher: module %s %s\n", paths[i],
				rc == 0 ? "loaded" : "was already loaded");
			fflush(console);
		}
	}
	return 0;
}
