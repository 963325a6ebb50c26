/* SPDX-License-Identifier: MIT */
/* Loading the kernel modules named in the config, with finit_module(2). */
#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

/* What finit_module's errno means for a module the initrd carries (kernel/module/main.c). */
static const char *finit_hint(int e)
{
	switch (e) {
	case ENOENT:
		/* resolve_symbol() failed: a module it needs is not loaded */
		return "it needs a symbol no loaded module exports (the kernel log names it): "
		       "load the modules it depends on (modules.dep) before it";
	case ENOEXEC:
		return "not a module for this kernel (another kernel version, architecture or "
		       "format)";
	case EKEYREJECTED:
		return "its signature was rejected";
	case ENOSYS:
		return "this kernel loads no modules (built without CONFIG_MODULES)";
	default:
		return "";
	}
}

/* The file name without its folders, for messages that name a module by its file. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int modules_load(const char *const *paths, size_t n, FILE *console)
{
	for (size_t i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return err_set("module %s: not in the initrd (%s: %s)",
				       base_name(paths[i]), paths[i], strerror(errno));
		if (fd < 0)
			return err_set("module %s: %s", paths[i], strerror(errno));
		/* no parameters, no flags: the module as built for this kernel */
		long rc = syscall(SYS_finit_module, fd, "", 0);
		int e = errno;
		close(fd);
		if (rc != 0 && e != EEXIST) {
			const char *hint = finit_hint(e);
			return err_set("module %s: the kernel refused it: %s%s%s",
				       paths[i], strerror(e), hint[0] ? ": " : "", hint);
		}
		if (console) {
			fprintf(console, "flasher: module %s %s\n", paths[i],
				rc == 0 ? "loaded" : "was already loaded");
			fflush(console);
		}
	}
	return 0;
}
