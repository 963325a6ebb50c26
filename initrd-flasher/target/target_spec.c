/* SPDX-License-Identifier: MIT */
/* Target specs ("mtd:/dev/mtd0@67108864", "block:/dev/nvme0n1"): one row per kind of spec. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "target.h"
#include "timing.h"

/*
 * How long a device node a target names may take to appear. A driver the flasher has just
 * loaded may make its device later (a deferred probe, a PCIe link still training); NVIDIA's
 * flashing initrd waits as long for its external disk (L4T R35.3.1,
 * tools/kernel_flash/initrd_flash/nv_enable_remote.sh, wait_for_external_device: 10 tries a
 * second apart).
 */
#define DEVICE_WAIT_MS 10000
#define DEVICE_POLL_MS 100

/* A spec being opened: the whole text (for messages), what follows its prefix, and the form
 * the row expects (what an error says was expected). */
struct spec_text {
	const char *spec, *arg, *usage;
};

/* Copies arg's first n bytes into path (a NUL-terminated string of `size`); 0, or -1 naming
 * the expected form when n is 0 or does not fit. */
static int spec_path(const struct spec_text *s, size_t n, char *path, size_t size)
{
	if (n == 0 || n >= size)
		return err_set("target '%s': expected %s", s->spec, s->usage);
	memcpy(path, s->arg, n);
	path[n] = '\0';
	return 0;
}

/*
 * Waits up to DEVICE_WAIT_MS for a device node under /dev/ to exist; 0, or -1 naming the
 * device that never came and why that happens. Other paths (files, in tests) and other errors
 * are left to the open, which names them.
 */
static int wait_for_device(const struct spec_text *s, const char *path)
{
	if (strncmp(path, "/dev/", 5) != 0)
		return 0;
	uint64_t deadline = timing_now_ms() + DEVICE_WAIT_MS;
	while (access(path, F_OK) != 0 && errno == ENOENT) {
		if (timing_now_ms() >= deadline)
			return err_set("target '%s': %s did not appear within %d s: no driver made "
				       "it (not built into the kernel, no module line of the config "
				       "loads it, or it found no device)",
				       s->spec, path, DEVICE_WAIT_MS / 1000);
		timing_sleep_ms(DEVICE_POLL_MS);
	}
	return 0;
}

static int open_mtd(struct target *t, const struct spec_text *s, uint64_t size)
{
	char path[256];
	const char *at = strchr(s->arg, '@');
	if (spec_path(s, at ? (size_t)(at - s->arg) : strlen(s->arg), path, sizeof(path)) != 0)
		return -1;
	if (wait_for_device(s, path) != 0 || target_open_mtd(t, path) != 0)
		return -1;
	if (!at)
		return 0;
	char *end;
	unsigned long long base = strtoull(at + 1, &end, 0);
	if (*end || end == at + 1) {
		target_close(t);
		return err_set("target '%s': base '%s' is not a number", s->spec, at + 1);
	}
	if (target_window(t, base, size) != 0) {
		target_close(t);
		return -1;
	}
	return 0;
}

static int open_block(struct target *t, const struct spec_text *s, uint64_t size)
{
	(void)size;
	if (wait_for_device(s, s->arg) != 0)
		return -1;
	return target_open_block(t, s->arg);
}

static int open_nor_file(struct target *t, const struct spec_text *s, uint64_t size)
{
	(void)size;
	char path[256];
	const char *colon = strrchr(s->arg, ':');
	char *end = NULL;
	unsigned long erase = colon ? strtoul(colon + 1, &end, 0) : 0;
	if (!colon || *end || erase == 0 || erase > (1ul << 24))
		return err_set("target '%s': expected %s", s->spec, s->usage);
	if (spec_path(s, (size_t)(colon - s->arg), path, sizeof(path)) != 0)
		return -1;
	return target_open_nor_file(t, path, (uint32_t)erase, UINT64_MAX);
}

static const struct {
	const char *prefix;
	const char *usage;
	int (*open)(struct target *t, const struct spec_text *s, uint64_t size);
} spec_kinds[] = {
	{ "mtd:", "mtd:/dev/mtdN[@BASE]", open_mtd },
	{ "block:", "block:PATH", open_block },
	{ "nor-file:", "nor-file:PATH:ERASE_SIZE", open_nor_file }, /* tests: NOR rules in a file */
};

#define SPEC_KINDS (sizeof(spec_kinds) / sizeof(spec_kinds[0]))

int target_open_spec(struct target *t, const char *spec, uint64_t size)
{
	for (size_t i = 0; i < SPEC_KINDS; i++) {
		size_t n = strlen(spec_kinds[i].prefix);
		if (strncmp(spec, spec_kinds[i].prefix, n) == 0) {
			struct spec_text s = { spec, spec + n, spec_kinds[i].usage };
			return spec_kinds[i].open(t, &s, size);
		}
	}
	char known[128];
	size_t len = 0;
	known[0] = '\0';
	for (size_t i = 0; i < SPEC_KINDS && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
					spec_kinds[i].prefix);
	return err_set("target '%s': unknown kind (%s)", spec, known);
}
