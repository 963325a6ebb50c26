/* SPDX-License-Identifier: MIT */
/*
 * Target specs ("mtd:/dev/mtd0@67108864", "block:/dev/nvme0n1"): one row per kind of spec,
 * which also says which timing-model keys may follow it after ';' (target_model.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "target.h"
#include "target_model.h"
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
	unsigned model_keys; /* the timing-model keys it takes: file kinds, for benches */
} spec_kinds[] = {
	{ "mtd:", "mtd:/dev/mtdN[@BASE]", open_mtd, 0 },
	{ "block:", "block:PATH[;write-mbps=F;read-mbps=F]", open_block,
	  TARGET_MODEL_BLOCK_KEYS },
	/* tests and benches: NOR rules in a file */
	{ "nor-file:", "nor-file:PATH:ERASE_SIZE[;erase-ms=F;page-us=F;page=N;read-mbps=F]",
	  open_nor_file, TARGET_MODEL_NOR_KEYS },
};

#define SPEC_KINDS (sizeof(spec_kinds) / sizeof(spec_kinds[0]))

/* Opens the spec's kind from head (the spec up to its first ';'), then wraps it in the
 * timing model the text after that ';' gives (model: NULL for none). */
static int open_kind(struct target *t, size_t kind, const char *spec, const char *head,
		     const char *model, uint64_t size)
{
	struct target_model_params params;
	/* the model is checked before the target is opened: nothing is touched for a bad spec */
	if (model && target_model_parse(spec, spec_kinds[kind].prefix, model,
					spec_kinds[kind].model_keys, &params) != 0)
		return -1;
	struct spec_text s = { spec, head + strlen(spec_kinds[kind].prefix),
			       spec_kinds[kind].usage };
	if (spec_kinds[kind].open(t, &s, size) != 0)
		return -1;
	if (model && target_model_wrap(t, &params) != 0) {
		target_close(t);
		return err_prefix("target '%s'", spec);
	}
	return 0;
}

int target_open_spec(struct target *t, const char *spec, uint64_t size)
{
	char head[512];
	const char *semi = strchr(spec, ';');
	size_t head_len = semi ? (size_t)(semi - spec) : strlen(spec);
	if (head_len >= sizeof(head))
		return err_set("target '%.64s...': longer than %zu characters", spec,
			       sizeof(head) - 1);
	memcpy(head, spec, head_len);
	head[head_len] = '\0';
	for (size_t i = 0; i < SPEC_KINDS; i++) {
		size_t n = strlen(spec_kinds[i].prefix);
		if (strncmp(head, spec_kinds[i].prefix, n) == 0)
			return open_kind(t, i, spec, head, semi ? semi + 1 : NULL, size);
	}
	char known[128];
	size_t len = 0;
	known[0] = '\0';
	for (size_t i = 0; i < SPEC_KINDS && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
					spec_kinds[i].prefix);
	return err_set("target '%s': unknown kind (%s)", spec, known);
}
