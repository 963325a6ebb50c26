/* SPDX-License-Identifier: MIT */
/*
 * Tegra recovery-mode boot: resolves an RCM bundle directory and sends it to the bootrom and
 * then to MB1, through a usb_transport.
 *
 * Where each fact comes from (none of this has been tried on a board):
 *
 * T234, the path for every recovery-mode product except 0x7019 and 0x7e19 (DESIGN.md §6):
 *  - The two tegrarcm_v2 runs and their file order: NVIDIA's tegraflash_impl_t234.py,
 *    tegraflash_send_to_bootrom() ("--new_session --chip 0x23 0 --uid --download bct_br
 *    --download mb1 --download psc_bl1 --download bct_mb1") and tegraflash_send_to_bootloader()
 *    ("--pollbl --download bct_mem MEM_BCT --download blob blob.bin"), which rcmboot calls
 *    (read in the L4T bootloader/ folder as mirrored in Seeed-Studio/Linux_for_Tegra).
 *    Its rcmbootcmd.txt names the files; secure-boot bundles rename them, hence the parse.
 *  - What each tegrarcm_v2 option does on the wire (UID by GET_DESCRIPTOR string 3 read
 *    backwards; 16 KiB raw pieces, 5 s each, no zero-length packet, no status read; "NVDA"
 *    at the start of mb1/psc_bl1/bct_mb1; --pollbl as one 96-byte read bringing a 64-byte
 *    version and u32 last_boot_error; bct_mem and blob raw): DESIGN.md §6, from reading the
 *    tegrarcm_v2 binary instruction by instruction. No public source or USB capture was found
 *    to cite for these, so every step is printed by --dry-run and logged.
 *  - Whether the device re-enumerates between the two runs is unconfirmed: it is looked for
 *    again at the same bus port, and a device that stayed is just as good (§6 step 7).
 *
 * T194 (products 0x7019 AGX Xavier, 0x7e19 Xavier NX), the older path, kept as it was built:
 *  - A public forum log of a pre-signed Xavier NX rcm boot sends "--rcm rcm_1_encrypt.rcm
 *    --rcm rcm_2_encrypt.rcm" to the bootrom, then bct_mem and blob. The T186/T194 bootrom
 *    sends a 16-byte UID on bulk IN at connect (DESIGN.md §6); after each file a zero-length
 *    packet when its length is a multiple of the packet size and a 4-byte status word
 *    (NVIDIA's open-source tegrarcm reads one after an RCM message). T194 has no PSC.
 *  - nv3p v1 framing to MB1, from NVIDIA's open-source tegrarcm (src/nv3p.c, for the
 *    T20..T124 miniloader): 12-byte header (version 1, type, sequence; CMD 1, DATA 2, ACK 4,
 *    NACK 5), all little-endian u32; CMD = header, argument length, command, arguments,
 *    checksum; DATA = header, length, data, checksum; ACK = header, checksum; NACK = header,
 *    code, checksum; checksum = two's complement of the byte sum of everything before it;
 *    packets numbered from 0, each ACK repeating the number. DownloadBct = 4,
 *    DownloadBootloader = 6 from NVIDIA's nvflash nv3p.h (Android sources). That T194's MB1
 *    speaks it for bct_mem and blob is an assumption, not confirmed.
 */
#include "rcm_tegra.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "le.h"
#include "lines.h"
#include "timing.h"

/* ---- chips and USB ids ---------------------------------------------------------------- */

static const struct usb_id rcm_ids[] = {
	{ RCM_TEGRA_VENDOR, 0x7023, RCM_TEGRA_T234, "Jetson AGX Orin 64GB" },
	{ RCM_TEGRA_VENDOR, 0x7223, RCM_TEGRA_T234, "Jetson AGX Orin 32GB" },
	{ RCM_TEGRA_VENDOR, 0x7323, RCM_TEGRA_T234, "Jetson Orin NX 16GB" },
	{ RCM_TEGRA_VENDOR, 0x7423, RCM_TEGRA_T234, "Jetson Orin NX 8GB" },
	{ RCM_TEGRA_VENDOR, 0x7523, RCM_TEGRA_T234, "Jetson Orin Nano 8GB" },
	{ RCM_TEGRA_VENDOR, 0x7623, RCM_TEGRA_T234, "Jetson Orin Nano 4GB" },
	{ RCM_TEGRA_VENDOR, 0x7019, RCM_TEGRA_T194, "Jetson AGX Xavier" },
	{ RCM_TEGRA_VENDOR, 0x7e19, RCM_TEGRA_T194, "Jetson Xavier NX" },
};
#define RCM_ID_COUNT (sizeof(rcm_ids) / sizeof(rcm_ids[0]))

const struct usb_id *rcm_tegra_usb_ids(size_t *count)
{
	*count = RCM_ID_COUNT;
	return rcm_ids;
}

const struct usb_id *rcm_tegra_identify(uint16_t vendor, uint16_t product)
{
	for (size_t i = 0; i < RCM_ID_COUNT; i++)
		if (rcm_ids[i].vendor == vendor && rcm_ids[i].product == product)
			return &rcm_ids[i];
	err_set("USB %04x:%04x is not a Tegra recovery-mode device this tool knows (expected "
		"%04x:7023/7223/7323/7423/7523/7623 for T234 or 7019/7e19 for T194)",
		vendor, product, RCM_TEGRA_VENDOR);
	return NULL;
}

const char *rcm_tegra_chip_name(enum rcm_tegra_chip chip)
{
	switch (chip) {
	case RCM_TEGRA_T194:
		return "T194";
	case RCM_TEGRA_T234:
		return "T234";
	}
	return "T??";
}

void rcm_tegra_options_init(struct rcm_tegra_options *o)
{
	o->log = NULL;
	o->mb1_settle_ms = 1000;
	o->mb1_wait_ms = 30000;
	o->timeout_ms = 10000;
	o->nv3p_data_max = RCM_TEGRA_NV3P_DATA_MAX;
}

/* ---- what may be in a bundle ---------------------------------------------------------- */

#define CHIP_T194 1u
#define CHIP_T234 2u

struct kind_info {
	const char *kind;
	enum rcm_tegra_stage stage;
	uint64_t max;
	unsigned chips;
	int repeatable;
};

static const struct kind_info kinds[] = {
	{ "bct_br", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "mb1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "psc_bl1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T234, 0 },
	{ "bct_mb1", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "rcm", RCM_TEGRA_STAGE_BOOTROM, RCM_TEGRA_BOOTROM_FILE_MAX, CHIP_T194, 1 },
	{ "bct_mem", RCM_TEGRA_STAGE_MB1, RCM_TEGRA_BCT_MEM_MAX, CHIP_T194 | CHIP_T234, 0 },
	{ "blob", RCM_TEGRA_STAGE_MB1, RCM_TEGRA_BLOB_MAX, CHIP_T194 | CHIP_T234, 0 },
};
#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))
#define KIND_LIST "bct_br, mb1, psc_bl1, bct_mb1, rcm, bct_mem, blob"

/* NVIDIA's names as tegraflash's rcm boot leaves them in rcmboot_blob/, in send order. */
struct default_file {
	const char *kind;
	const char *name;
};
static const struct default_file t234_defaults[] = {
	{ "bct_br", "br_bct_BR.bct" },
	{ "mb1", "mb1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "psc_bl1", "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "bct_mb1", "mb1_bct_MB1_sigheader.bct.encrypt" },
	{ "bct_mem", "mem_rcm_sigheader.bct.encrypt" },
	{ "blob", "blob.bin" },
};
static const struct default_file t194_defaults[] = {
	{ "rcm", "rcm_1_encrypt.rcm" },
	{ "rcm", "rcm_2_encrypt.rcm" },
	{ "bct_mem", "mem_rcm_sigheader.bct.encrypt" },
	{ "blob", "blob.bin" },
};
/* The T234 bootrom stage, in the only order tegraflash sends it (DESIGN.md §6 step 4). */
static const char *const t234_bootrom_order[] = { "bct_br", "mb1", "psc_bl1", "bct_mb1" };
#define T234_BOOTROM_FILES 4u
/* The first bytes of the T234 files that carry NVIDIA's signed header (§6 step 4). */
#define NVDA_MAGIC "NVDA"

/* 1 if a T234 file of this kind must start with NVDA_MAGIC. */
static int kind_wants_nvda(const char *kind)
{
	return strcmp(kind, "mb1") == 0 || strcmp(kind, "psc_bl1") == 0 ||
	       strcmp(kind, "bct_mb1") == 0;
}

static unsigned chip_bit(enum rcm_tegra_chip chip)
{
	return chip == RCM_TEGRA_T194 ? CHIP_T194 : chip == RCM_TEGRA_T234 ? CHIP_T234 : 0;
}

static const struct kind_info *kind_find(const char *kind)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

static const char *stage_name(enum rcm_tegra_stage stage)
{
	return stage == RCM_TEGRA_STAGE_BOOTROM ? "bootrom stage" : "MB1 stage";
}

/* ---- resolving a bundle --------------------------------------------------------------- */

/* Longest list or command file read; NVIDIA's rcmbootcmd.txt is about 500 bytes. */
#define BUNDLE_TEXT_MAX (64u << 10)
#define BUNDLE_LINE_MAX 4096

/* Reads a small text file whole into a malloc'd buffer; 1 if it does not exist. */
static int read_text(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return err_set("%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set("%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > BUNDLE_TEXT_MAX) {
		close(fd);
		return err_set("%s: %lld bytes, expected at most %u", path, (long long)st.st_size,
			       BUNDLE_TEXT_MAX);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set("out of memory");
	}
	if (io_pread_all(fd, buf, (size_t)st.st_size, 0) != 0) {
		err_set("%s: %s", path, io_error());
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*text = buf;
	*len = (size_t)st.st_size;
	return 0;
}

struct bundle_parse {
	struct rcm_tegra_bundle *b;
	const char *what; /* "selfflash-rcm.txt" */
};

/* Appends kind/name to the bundle after the checks that need no file system. */
static int bundle_add(struct rcm_tegra_bundle *b, const char *kind, const char *name,
		      const char *origin)
{
	const struct kind_info *k = kind_find(kind);
	if (!k)
		return err_set("%s: unknown kind \"%s\", expected one of " KIND_LIST, origin,
			       kind);
	if (!(k->chips & chip_bit(b->chip)))
		return err_set("%s: %s is not part of a %s boot (it exists on T234 only)", origin,
			       kind, rcm_tegra_chip_name(b->chip));
	if (strncmp(name, "./", 2) == 0)
		name += 2;
	if (!*name || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
		return err_set("%s: file \"%s\" for %s: expected a plain file name inside the "
			       "bundle directory", origin, name, kind);
	if (strlen(name) >= RCM_TEGRA_NAME_MAX)
		return err_set("%s: file name for %s is %zu bytes, expected at most %d", origin,
			       kind, strlen(name), RCM_TEGRA_NAME_MAX - 1);
	for (unsigned i = 0; i < b->count; i++) {
		if (!k->repeatable && strcmp(b->files[i].kind, kind) == 0)
			return err_set("%s: %s is listed twice (%s and %s)", origin, kind,
				       b->files[i].name, name);
		if (b->files[i].stage == RCM_TEGRA_STAGE_MB1 &&
		    k->stage == RCM_TEGRA_STAGE_BOOTROM)
			return err_set("%s: %s (bootrom stage) comes after %s (MB1 stage); the "
				       "bootrom stage is sent first", origin, kind,
				       b->files[i].kind);
	}
	if (b->count >= RCM_TEGRA_FILES_MAX)
		return err_set("%s: more than %d files", origin, RCM_TEGRA_FILES_MAX);
	struct rcm_tegra_file *f = &b->files[b->count++];
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->stage = k->stage;
	return 0;
}

/* A list file line: "KIND FILE". */
static int list_line(char *line, unsigned lineno, void *ctx)
{
	struct bundle_parse *p = ctx;
	char origin[64];
	snprintf(origin, sizeof(origin), "%s line %u", p->what, lineno);
	char *save = NULL;
	char *kind = strtok_r(line, " \t", &save);
	char *name = strtok_r(NULL, " \t", &save);
	char *extra = strtok_r(NULL, " \t", &save);
	if (!kind || !name || extra)
		return err_set("%s: expected \"KIND FILE\", found %s", origin,
			       extra ? "more than two words" : "one word");
	return bundle_add(p->b, kind, name, origin);
}

/* An rcmbootcmd.txt line: picks "--download KIND FILE" and "--rcm FILE" out of a command. */
static int cmd_line(char *line, unsigned lineno, void *ctx)
{
	struct bundle_parse *p = ctx;
	char origin[64];
	snprintf(origin, sizeof(origin), "%s line %u", p->what, lineno);
	char *save = NULL;
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "--download") == 0) {
			char *kind = strtok_r(NULL, " \t", &save);
			char *name = kind ? strtok_r(NULL, " \t", &save) : NULL;
			if (!name)
				return err_set("%s: --download needs KIND FILE", origin);
			if (!kind_find(kind))
				return err_set("%s: --download %s is a kind this tool does not "
					       "send (expected one of " KIND_LIST "); list the "
					       "files in %s instead", origin, kind,
					       RCM_TEGRA_LIST_NAME);
			if (bundle_add(p->b, kind, name, origin) != 0)
				return -1;
		} else if (strcmp(w, "--rcm") == 0) {
			char *name = strtok_r(NULL, " \t", &save);
			if (!name)
				return err_set("%s: --rcm needs a FILE", origin);
			if (bundle_add(p->b, "rcm", name, origin) != 0)
				return -1;
		}
	}
	return 0;
}

static int bundle_path(const struct rcm_tegra_bundle *b, const char *name, char *out,
		       size_t size)
{
	int n = snprintf(out, size, "%s/%s", b->dir, name);
	if (n < 0 || (size_t)n >= size)
		return err_set("%s/%s: path longer than %zu bytes", b->dir, name, size - 1);
	return 0;
}

static int bundle_from_defaults(struct rcm_tegra_bundle *b)
{
	const struct default_file *d = b->chip == RCM_TEGRA_T234 ? t234_defaults : t194_defaults;
	size_t n = b->chip == RCM_TEGRA_T234 ? sizeof(t234_defaults) / sizeof(t234_defaults[0])
					     : sizeof(t194_defaults) / sizeof(t194_defaults[0]);
	char missing[1024] = "";
	size_t used = 0, found = 0;
	for (size_t i = 0; i < n; i++) {
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		struct stat st;
		if (bundle_path(b, d[i].name, path, sizeof(path)) != 0)
			return -1;
		if (stat(path, &st) == 0) {
			found++;
		} else {
			int w = snprintf(missing + used, sizeof(missing) - used, "%s%s (%s)",
					 used ? ", " : "", d[i].name, d[i].kind);
			if (w > 0 && (size_t)w < sizeof(missing) - used)
				used += (size_t)w;
		}
		if (bundle_add(b, d[i].kind, d[i].name, "built-in names") != 0)
			return -1;
	}
	if (found == 0)
		return err_set("RCM bundle %s: found no %s, no %s and none of NVIDIA's %s file "
			       "names; expected the rcmboot_blob directory tegraflash leaves "
			       "after an rcm boot", b->dir, RCM_TEGRA_LIST_NAME,
			       RCM_TEGRA_CMD_NAME, rcm_tegra_chip_name(b->chip));
	if (found < n)
		return err_set("RCM bundle %s: no %s or %s, and NVIDIA's %s files are incomplete: "
			       "missing %s", b->dir, RCM_TEGRA_LIST_NAME, RCM_TEGRA_CMD_NAME,
			       rcm_tegra_chip_name(b->chip), missing);
	return 0;
}

/* Every file exists, is regular, not empty and within its kind's limit; records sizes. */
static int bundle_check_files(struct rcm_tegra_bundle *b)
{
	for (unsigned i = 0; i < b->count; i++) {
		struct rcm_tegra_file *f = &b->files[i];
		const struct kind_info *k = kind_find(f->kind);
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		struct stat st;
		if (bundle_path(b, f->name, path, sizeof(path)) != 0)
			return -1;
		if (stat(path, &st) != 0)
			return err_set("RCM bundle %s: %s file %s (from %s): %s", b->dir, f->kind,
				       f->name, b->source,
				       errno == ENOENT ? "missing" : strerror(errno));
		if (!S_ISREG(st.st_mode))
			return err_set("RCM bundle %s: %s file %s is not a regular file", b->dir,
				       f->kind, f->name);
		f->size = (uint64_t)st.st_size;
		if (f->size == 0)
			return err_set("RCM bundle %s: %s file %s is empty", b->dir, f->kind,
				       f->name);
		if (f->size > k->max)
			return err_set("RCM bundle %s: %s file %s is %llu bytes, the limit for %s "
				       "is %llu bytes (%llu KiB)", b->dir, f->kind, f->name,
				       (unsigned long long)f->size, f->kind,
				       (unsigned long long)k->max,
				       (unsigned long long)(k->max >> 10));
		if (b->chip == RCM_TEGRA_T234 && kind_wants_nvda(f->kind)) {
			uint8_t magic[4] = { 0 };
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			int rc = fd < 0 ? -1 : io_pread_all(fd, magic, sizeof(magic), 0);
			if (fd >= 0)
				close(fd);
			if (rc != 0)
				return err_set("RCM bundle %s: %s file %s: %s", b->dir, f->kind,
					       f->name, fd < 0 ? strerror(errno) : io_error());
			if (memcmp(magic, NVDA_MAGIC, 4) != 0)
				return err_set("RCM bundle %s: %s file %s starts with %02x %02x %02x "
					       "%02x, expected \"NVDA\" (a file signed by NVIDIA's "
					       "tools)", b->dir, f->kind, f->name, magic[0],
					       magic[1], magic[2], magic[3]);
		}
	}
	return 0;
}

/* The stages hold what the chip needs: something for the bootrom, then bct_mem and blob. */
static int bundle_check_stages(const struct rcm_tegra_bundle *b)
{
	unsigned bootrom = 0;
	const char *mb1_kinds[2] = { NULL, NULL };
	unsigned mb1 = 0;
	for (unsigned i = 0; i < b->count; i++) {
		if (b->files[i].stage == RCM_TEGRA_STAGE_BOOTROM)
			bootrom++;
		else if (mb1 < 2)
			mb1_kinds[mb1++] = b->files[i].kind;
	}
	if (bootrom == 0)
		return err_set("RCM bundle %s (%s): no bootrom-stage file, expected e.g. bct_br, "
			       "mb1, bct_mb1", b->dir, b->source);
	if (b->chip == RCM_TEGRA_T234) {
		for (unsigned r = 0; r < T234_BOOTROM_FILES; r++) {
			unsigned i = 0;
			while (i < b->count && strcmp(b->files[i].kind, t234_bootrom_order[r]))
				i++;
			if (i == b->count)
				return err_set("RCM bundle %s (%s): a T234 bootrom stage needs "
					       "bct_br, mb1, psc_bl1 and bct_mb1; %s is missing",
					       b->dir, b->source, t234_bootrom_order[r]);
			if (i != r)
				return err_set("RCM bundle %s (%s): %s is file %u of the bootrom "
					       "stage; T234 takes bct_br, mb1, psc_bl1, bct_mb1 in "
					       "that order", b->dir, b->source, t234_bootrom_order[r],
					       i + 1);
		}
	}
	if (mb1 != 2 || strcmp(mb1_kinds[0], "bct_mem") != 0 || strcmp(mb1_kinds[1], "blob") != 0)
		return err_set("RCM bundle %s (%s): the MB1 stage must be bct_mem then blob, found "
			       "%s%s%s", b->dir, b->source, mb1 ? mb1_kinds[0] : "nothing",
			       mb1 > 1 ? " then " : "", mb1 > 1 ? mb1_kinds[1] : "");
	return 0;
}

int rcm_tegra_load_bundle(struct rcm_tegra_bundle *b, const char *dir, enum rcm_tegra_chip chip)
{
	memset(b, 0, sizeof(*b));
	if (!chip_bit(chip))
		return err_set("RCM bundle: chip 0x%02x is not T194 (0x19) or T234 (0x23)",
			       (unsigned)chip);
	if (strlen(dir) >= sizeof(b->dir))
		return err_set("RCM bundle: directory path longer than %zu bytes",
			       sizeof(b->dir) - 1);
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	b->chip = chip;
	struct stat st;
	if (stat(dir, &st) != 0)
		return err_set("RCM bundle %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set("RCM bundle %s: not a directory", dir);

	static const struct {
		const char *name;
		line_fn fn;
	} texts[] = { { RCM_TEGRA_LIST_NAME, list_line }, { RCM_TEGRA_CMD_NAME, cmd_line } };
	int rc = 1;
	for (size_t i = 0; rc == 1 && i < sizeof(texts) / sizeof(texts[0]); i++) {
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		char *text = NULL;
		size_t len = 0;
		if (bundle_path(b, texts[i].name, path, sizeof(path)) != 0)
			return -1;
		rc = read_text(path, &text, &len);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			b->source = texts[i].name;
			struct bundle_parse p = { b, texts[i].name };
			int prc = text_each_line(text, len, texts[i].name, BUNDLE_LINE_MAX,
						 texts[i].fn, &p);
			free(text);
			if (prc != 0)
				return err_prefix("RCM bundle %s", dir);
			if (b->count == 0)
				return err_set("RCM bundle %s: %s names no files", dir,
					       texts[i].name);
		}
	}
	if (rc == 1) {
		b->source = "NVIDIA's default names";
		if (bundle_from_defaults(b) != 0)
			return -1;
	}
	if (bundle_check_stages(b) != 0 || bundle_check_files(b) != 0)
		return -1;
	return 0;
}

int rcm_tegra_bundle_set_blob(struct rcm_tegra_bundle *b, const uint8_t *data, uint64_t size)
{
	if (size == 0 || size > RCM_TEGRA_BLOB_MAX)
		return err_set("RCM bundle %s: blob of %llu bytes, expected 1..%u", b->dir,
			       (unsigned long long)size, RCM_TEGRA_BLOB_MAX);
	for (unsigned i = 0; i < b->count; i++) {
		if (strcmp(b->files[i].kind, "blob") == 0) {
			b->blob = data;
			b->blob_size = size;
			b->files[i].size = size;
			return 0;
		}
	}
	return err_set("RCM bundle %s: has no blob to replace", b->dir);
}

void rcm_tegra_print_bundle(FILE *out, const struct rcm_tegra_bundle *b)
{
	fprintf(out, "RCM bundle %s for %s (files from %s):\n", b->dir,
		rcm_tegra_chip_name(b->chip), b->source);
	for (unsigned i = 0; i < b->count; i++)
		fprintf(out, "  %-13s %-8s %10llu  %s%s\n", stage_name(b->files[i].stage),
			b->files[i].kind, (unsigned long long)b->files[i].size, b->files[i].name,
			b->blob && strcmp(b->files[i].kind, "blob") == 0
				? " with its kernel swapped (the size sent)"
				: "");
}

/* ---- sending -------------------------------------------------------------------------- */

static void log_step(const struct rcm_tegra_options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_step(const struct rcm_tegra_options *o, const char *fmt, ...)
{
	if (!o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("rcm: ", o->log);
	vfprintf(o->log, fmt, ap);
	fputc('\n', o->log);
	va_end(ap);
}

static uint32_t packet_size(const struct usb_transport *t)
{
	return t->max_packet ? t->max_packet : 512;
}

static int check_options(const struct rcm_tegra_options *o)
{
	if (o->nv3p_data_max == 0 || o->nv3p_data_max > RCM_TEGRA_NV3P_DATA_MAX)
		return err_set("nv3p data packet size %u: expected 1..%u", o->nv3p_data_max,
			       RCM_TEGRA_NV3P_DATA_MAX);
	return 0;
}

/* Where a file's bytes come from: the bundle file, or memory (a swapped blob). */
struct source {
	int fd;
	const uint8_t *mem;
};

static int is_replaced_blob(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f)
{
	return b->blob && strcmp(f->kind, "blob") == 0;
}

/* Opens a bundle file and checks it still has the size the bundle was checked with. */
static int source_open(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f,
		       struct source *src)
{
	src->fd = -1;
	src->mem = NULL;
	if (is_replaced_blob(b, f)) {
		src->mem = b->blob;
		return 0;
	}
	char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
	if (bundle_path(b, f->name, path, sizeof(path)) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s file %s: %s", stage_name(f->stage), f->kind, path,
			       strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size) {
		close(fd);
		return err_set("%s: %s file %s changed size since the bundle was checked "
			       "(was %llu bytes)", stage_name(f->stage), f->kind, path,
			       (unsigned long long)f->size);
	}
	src->fd = fd;
	return 0;
}

static void source_close(struct source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

static int source_read(const struct source *src, void *buf, size_t n, uint64_t off)
{
	if (src->mem) {
		memcpy(buf, src->mem + off, n);
		return 0;
	}
	return io_pread_all(src->fd, buf, n, off);
}

/* What a transfer is called in messages and in the dry-run listing. */
static void piece_name(char *what, size_t size, const struct rcm_tegra_bundle *b,
		       const struct rcm_tegra_file *f, uint64_t off)
{
	snprintf(what, size, "%s %s%s @%llu", f->kind, f->name,
		 is_replaced_blob(b, f) ? " (kernel swapped)" : "", (unsigned long long)off);
}

/*
 * Sends len bytes of src at off in pieces of at most RCM_TEGRA_PIECE_MAX; adds them to *sum.
 * With nvda set, the first piece must start with "NVDA" (checked again here: the file may
 * have changed since the bundle was loaded).
 */
static int send_pieces(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		       unsigned timeout_ms, const struct source *src,
		       const struct rcm_tegra_file *f, uint64_t off, uint64_t len, uint32_t *sum,
		       int nvda)
{
	uint8_t buf[RCM_TEGRA_PIECE_MAX];
	uint64_t end = off + len;
	while (off < end) {
		size_t n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		if (source_read(src, buf, n, off) != 0)
			return err_set("%s: reading %s file %s at %llu: %s", stage_name(f->stage),
				       f->kind, f->name, (unsigned long long)off, io_error());
		if (nvda && off == 0 && (n < 4 || memcmp(buf, NVDA_MAGIC, 4) != 0))
			return err_set("%s: %s file %s does not start with \"NVDA\" (nothing of it "
				       "was sent)", stage_name(f->stage), f->kind, f->name);
		char what[RCM_TEGRA_NAME_MAX + 64];
		piece_name(what, sizeof(what), b, f, off);
		size_t sent = 0;
		if (t->ops->bulk_out(t, buf, n, timeout_ms, &sent, what) != 0)
			return err_prefix("%s", stage_name(f->stage));
		if (sent != n)
			return err_set("%s: %s (%s): the device took %zu of %zu bytes at offset %llu",
				       stage_name(f->stage), f->kind, f->name, sent, n,
				       (unsigned long long)off);
		if (sum)
			for (size_t i = 0; i < n; i++)
				*sum += buf[i];
		off += n;
	}
	return 0;
}

/* ---- T234 (DESIGN.md §6) -------------------------------------------------------------- */

static int hex_digit(uint16_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int rcm_tegra_read_cid(struct usb_transport *t, char text[RCM_TEGRA_ID_TEXT])
{
	uint8_t desc[RCM_TEGRA_CID_LENGTH];
	size_t got = 0;
	snprintf(text, RCM_TEGRA_ID_TEXT, "(dry run)");
	if (!t->ops->control_in)
		return err_set("%s: this USB transport cannot make control transfers", t->path);
	if (t->ops->control_in(t, RCM_TEGRA_CID_REQUEST_TYPE, RCM_TEGRA_CID_REQUEST,
			       RCM_TEGRA_CID_VALUE, RCM_TEGRA_CID_INDEX, desc, sizeof(desc),
			       RCM_TEGRA_T234_TIMEOUT_MS, &got,
			       "GET_DESCRIPTOR string 3: chip UID") != 0)
		return err_prefix("%s: no chip UID from the bootrom (if another program talked to "
				  "the board since it entered recovery mode, put it into recovery "
				  "mode again)", t->path);
	if (t->dry_run)
		return 0;
	/* a string descriptor: bLength, bDescriptorType 3, then UTF-16LE characters */
	size_t want = 2 + 2 * RCM_TEGRA_CID_DIGITS;
	if (got < want || desc[0] < want || desc[0] > got || desc[1] != 3)
		return err_set("%s: chip UID: expected string descriptor 3 of %zu bytes holding %d "
			       "hex digits, got %zu bytes (bLength %u, type %u)", t->path, want,
			       RCM_TEGRA_CID_DIGITS, got, got ? desc[0] : 0, got > 1 ? desc[1] : 0);
	if (desc[0] != want)
		return err_set("%s: chip UID: string of %u characters, expected %d hex digits",
			       t->path, (unsigned)(desc[0] - 2) / 2, RCM_TEGRA_CID_DIGITS);
	text[0] = '0';
	text[1] = 'x';
	for (int i = 0; i < RCM_TEGRA_CID_DIGITS; i++) {
		/* the characters in reverse order give the BR_CID NVIDIA's tools print */
		const uint8_t *c = desc + 2 + 2 * (RCM_TEGRA_CID_DIGITS - 1 - i);
		uint16_t ch = (uint16_t)(c[0] | c[1] << 8);
		if (!hex_digit(ch))
			return err_set("%s: chip UID: character %d is U+%04X, expected a hex digit",
				       t->path, RCM_TEGRA_CID_DIGITS - 1 - i, ch);
		text[2 + i] = (char)(ch >= 'a' ? ch - 'a' + 'A' : ch);
	}
	text[2 + RCM_TEGRA_CID_DIGITS] = '\0';
	return 0;
}

int rcm_tegra_read_mb1_version(struct usb_transport *t,
			       char version[RCM_TEGRA_MB1_VERSION_TEXT + 1], uint32_t *error)
{
	uint8_t buf[RCM_TEGRA_MB1_VERSION_ASK];
	size_t got = 0;
	*error = 0;
	snprintf(version, RCM_TEGRA_MB1_VERSION_TEXT + 1, "(dry run)");
	if (t->ops->bulk_in(t, buf, sizeof(buf), RCM_TEGRA_T234_TIMEOUT_MS, &got,
			    "MB1 version and last_boot_error (68 bytes expected)") != 0)
		return err_prefix("%s: no answer from MB1 after the bootrom stage (did the bootrom "
				  "accept the files? the board's UART log says why)", t->path);
	if (t->dry_run)
		return 0;
	if (got != RCM_TEGRA_MB1_VERSION_LEN)
		return err_set("%s: MB1 answered %zu bytes, expected %u (a 64-byte version and a "
			       "u32 last_boot_error)", t->path, got, RCM_TEGRA_MB1_VERSION_LEN);
	size_t i = 0;
	for (; i < RCM_TEGRA_MB1_VERSION_TEXT && buf[i]; i++)
		version[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '?';
	version[i] = '\0';
	*error = le32_load(buf + RCM_TEGRA_MB1_VERSION_TEXT);
	return 0;
}

/* One file, raw, in pieces: the whole of a T234 transfer (§6 steps 4 and 6). */
static int t234_send_file(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			  const struct rcm_tegra_file *f, const struct rcm_tegra_options *o)
{
	struct source src;
	if (source_open(b, f, &src) != 0)
		return -1;
	log_step(o, "%s: sending %s %s%s (%llu bytes)", stage_name(f->stage), f->kind, f->name,
		 is_replaced_blob(b, f) ? " (kernel swapped)" : "", (unsigned long long)f->size);
	int rc = send_pieces(t, b, RCM_TEGRA_T234_TIMEOUT_MS, &src, f, 0, f->size, NULL,
			     kind_wants_nvda(f->kind));
	source_close(&src);
	return rc;
}

static int t234_send_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			   const struct rcm_tegra_options *o, enum rcm_tegra_stage stage)
{
	for (unsigned i = 0; i < b->count; i++)
		if (b->files[i].stage == stage && t234_send_file(t, b, &b->files[i], o) != 0)
			return -1;
	return 0;
}

/* ---- T194 ------------------------------------------------------------------------------ */

int rcm_tegra_read_uid(struct usb_transport *t, const struct rcm_tegra_options *o,
		       uint8_t uid[RCM_TEGRA_UID_LEN])
{
	size_t got = 0;
	memset(uid, 0, RCM_TEGRA_UID_LEN);
	if (t->ops->bulk_in(t, uid, RCM_TEGRA_UID_LEN, o->timeout_ms, &got, "chip UID") != 0)
		return err_prefix("%s: no chip UID from the bootrom (it sends one when connected; "
				  "if another program talked to the board since it entered "
				  "recovery mode, put it into recovery mode again)", t->path);
	if (t->dry_run)
		return 0;
	if (got != RCM_TEGRA_UID_LEN)
		return err_set("%s: expected the %d-byte chip UID the bootrom sends when connected, "
			       "got %zu bytes", t->path, RCM_TEGRA_UID_LEN, got);
	return 0;
}

static int bootrom_send_file(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_file *f, const struct rcm_tegra_options *o)
{
	struct source src;
	if (source_open(b, f, &src) != 0)
		return -1;
	log_step(o, "bootrom stage: sending %s %s (%llu bytes)", f->kind, f->name,
	      (unsigned long long)f->size);
	int rc = send_pieces(t, b, o->timeout_ms, &src, f, 0, f->size, NULL, 0);
	source_close(&src);
	if (rc != 0)
		return -1;
	char what[RCM_TEGRA_NAME_MAX + 64];
	if (f->size % packet_size(t) == 0) {
		snprintf(what, sizeof(what), "end of %s %s", f->kind, f->name);
		if (t->ops->send_zlp(t, o->timeout_ms, what) != 0)
			return err_prefix("bootrom stage");
	}
	uint8_t status[4] = { 0 };
	size_t got = 0;
	snprintf(what, sizeof(what), "status after %s %s", f->kind, f->name);
	if (t->ops->bulk_in(t, status, sizeof(status), o->timeout_ms, &got, what) != 0)
		return err_prefix("bootrom stage: %s (%s)", f->kind, f->name);
	if (t->dry_run)
		return 0;
	if (got != sizeof(status))
		return err_set("bootrom stage: %s (%s): expected a 4-byte status word, got %zu "
			       "bytes", f->kind, f->name, got);
	uint32_t word = le32_load(status);
	if (word != 0)
		return err_set("bootrom stage: %s (%s): the bootrom answered status 0x%08x, "
			       "expected 0 (file rejected: signed for another chip, board or key?)",
			       f->kind, f->name, word);
	return 0;
}

int rcm_tegra_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				 const struct rcm_tegra_options *o)
{
	if (b->chip == RCM_TEGRA_T234)
		return t234_send_stage(t, b, o, RCM_TEGRA_STAGE_BOOTROM);
	for (unsigned i = 0; i < b->count; i++)
		if (b->files[i].stage == RCM_TEGRA_STAGE_BOOTROM &&
		    bootrom_send_file(t, b, &b->files[i], o) != 0)
			return -1;
	return 0;
}

/* ---- nv3p v1 -------------------------------------------------------------------------- */

#define NV3P_VERSION 1u
#define NV3P_TYPE_CMD 1u
#define NV3P_TYPE_DATA 2u
#define NV3P_TYPE_ACK 4u
#define NV3P_TYPE_NACK 5u
#define NV3P_HEADER 12u
#define NV3P_CMD_DOWNLOAD_BCT 4u
#define NV3P_CMD_DOWNLOAD_BOOTLOADER 6u
/* Room for a few packets of the largest bulk size the reply could come in. */
#define NV3P_RX_MAX 4096u

struct nv3p {
	struct usb_transport *t;
	const struct rcm_tegra_bundle *b;
	const struct rcm_tegra_options *o;
	const struct rcm_tegra_file *f;
	uint32_t seq; /* number of the next packet the host sends */
};

static uint32_t byte_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void nv3p_header(uint8_t *p, uint32_t type, uint32_t seq)
{
	le32_store(p, NV3P_VERSION);
	le32_store(p + 4, type);
	le32_store(p + 8, seq);
}

static const char *nack_name(uint32_t code)
{
	switch (code) {
	case 1:
		return "success";
	case 2:
		return "bad command";
	case 3:
		return "bad data";
	}
	return "unknown code";
}

/* Reads the ACK for packet `seq`; a NACK, bad checksum, other number or type is an error. */
static int nv3p_wait_ack(struct nv3p *s, uint32_t seq, const char *packet)
{
	const struct rcm_tegra_file *f = s->f;
	uint8_t buf[NV3P_RX_MAX];
	size_t have = 0, need = NV3P_HEADER + 4;
	uint32_t want = packet_size(s->t);
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p ACK of %s %u (%s)", packet, seq, f->kind);
	if (want > NV3P_RX_MAX / 2)
		want = NV3P_RX_MAX / 2;
	while (have < need) {
		size_t got = 0;
		if (have + want > sizeof(buf))
			return err_set("MB1 stage: %s (%s): reply to %s %u is not a complete "
				       "ACK/NACK after %zu bytes", f->kind, f->name, packet, seq,
				       have);
		if (s->t->ops->bulk_in(s->t, buf + have, want, s->o->timeout_ms, &got, what) != 0)
			return err_prefix("MB1 stage: %s (%s)", f->kind, f->name);
		if (s->t->dry_run)
			return 0;
		if (got == 0)
			return err_set("MB1 stage: %s (%s): empty reply to %s %u, expected an nv3p "
				       "ACK", f->kind, f->name, packet, seq);
		have += got;
		if (have >= NV3P_HEADER && le32_load(buf + 4) == NV3P_TYPE_NACK)
			need = NV3P_HEADER + 8;
	}
	uint32_t version = le32_load(buf), type = le32_load(buf + 4), rseq = le32_load(buf + 8);
	if (version != NV3P_VERSION || (type != NV3P_TYPE_ACK && type != NV3P_TYPE_NACK))
		return err_set("MB1 stage: %s (%s): expected an nv3p v1 ACK (version 1, type 4) for "
			       "%s %u, got version %u type %u (is MB1 running and speaking nv3p "
			       "v1?)", f->kind, f->name, packet, seq, version, type);
	size_t body = need - 4;
	if (byte_sum(buf, body) + le32_load(buf + body) != 0)
		return err_set("MB1 stage: %s (%s): reply to %s %u has a bad checksum "
			       "(0x%08x, bytes sum to 0x%08x)", f->kind, f->name, packet, seq,
			       le32_load(buf + body), byte_sum(buf, body));
	if (type == NV3P_TYPE_NACK) {
		uint32_t code = le32_load(buf + 12);
		return err_set("MB1 stage: %s (%s): MB1 sent NACK code %u (%s) for %s %u",
			       f->kind, f->name, code, nack_name(code), packet, seq);
	}
	if (rseq != seq)
		return err_set("MB1 stage: %s (%s): ACK is for packet %u, expected %u", f->kind,
			       f->name, rseq, seq);
	return 0;
}

static int nv3p_send_command(struct nv3p *s, uint32_t command, const uint8_t *args,
			     uint32_t args_len)
{
	uint8_t pkt[NV3P_HEADER + 8 + 16 + 4];
	if (args_len > 16)
		return err_set("nv3p: command arguments of %u bytes, expected at most 16", args_len);
	nv3p_header(pkt, NV3P_TYPE_CMD, s->seq);
	le32_store(pkt + NV3P_HEADER, args_len);
	le32_store(pkt + NV3P_HEADER + 4, command);
	memcpy(pkt + NV3P_HEADER + 8, args, args_len);
	size_t body = NV3P_HEADER + 8 + args_len;
	le32_store(pkt + body, 0u - byte_sum(pkt, body));
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p command %u #%u for %s %s", command, s->seq, s->f->kind,
		 s->f->name);
	size_t sent = 0;
	if (s->t->ops->bulk_out(s->t, pkt, body + 4, s->o->timeout_ms, &sent, what) != 0)
		return err_prefix("MB1 stage");
	if (sent != body + 4)
		return err_set("MB1 stage: %s (%s): the device took %zu of %zu bytes of the nv3p "
			       "command", s->f->kind, s->f->name, sent, body + 4);
	return nv3p_wait_ack(s, s->seq++, "command");
}

static int nv3p_send_data(struct nv3p *s, const struct source *src, uint64_t off, uint32_t len)
{
	uint8_t head[NV3P_HEADER + 4];
	nv3p_header(head, NV3P_TYPE_DATA, s->seq);
	le32_store(head + NV3P_HEADER, len);
	uint32_t sum = byte_sum(head, sizeof(head));
	char what[RCM_TEGRA_NAME_MAX + 64];
	snprintf(what, sizeof(what), "nv3p data #%u header for %s %s @%llu", s->seq, s->f->kind,
		 s->f->name, (unsigned long long)off);
	size_t sent = 0;
	if (s->t->ops->bulk_out(s->t, head, sizeof(head), s->o->timeout_ms, &sent, what) != 0)
		return err_prefix("MB1 stage");
	if (sent != sizeof(head))
		return err_set("MB1 stage: %s (%s): the device took %zu of %zu bytes of a data "
			       "header", s->f->kind, s->f->name, sent, sizeof(head));
	if (send_pieces(s->t, s->b, s->o->timeout_ms, src, s->f, off, len, &sum, 0) != 0)
		return -1;
	uint8_t check[4];
	le32_store(check, 0u - sum);
	snprintf(what, sizeof(what), "nv3p data #%u checksum for %s %s", s->seq, s->f->kind,
		 s->f->name);
	if (s->t->ops->bulk_out(s->t, check, sizeof(check), s->o->timeout_ms, &sent, what) != 0)
		return err_prefix("MB1 stage");
	if (sent != sizeof(check))
		return err_set("MB1 stage: %s (%s): the device took %zu of 4 bytes of a data "
			       "checksum", s->f->kind, s->f->name, sent);
	return nv3p_wait_ack(s, s->seq++, "data packet");
}

static int mb1_send_file(struct nv3p *s, const struct rcm_tegra_bundle *b)
{
	const struct rcm_tegra_file *f = s->f;
	uint8_t args[16];
	uint32_t command, args_len;
	if (strcmp(f->kind, "bct_mem") == 0) {
		/* bundle limits keep this far below 4 GiB */
		command = NV3P_CMD_DOWNLOAD_BCT;
		le32_store(args, (uint32_t)f->size);
		args_len = 4;
	} else {
		command = NV3P_CMD_DOWNLOAD_BOOTLOADER;
		le64_store(args, f->size);
		le32_store(args + 8, 0); /* load address: MB1 knows where the blob goes */
		le32_store(args + 12, 0); /* entry point: likewise */
		args_len = 16;
	}
	struct source src;
	if (source_open(b, f, &src) != 0)
		return -1;
	log_step(s->o, "MB1 stage: sending %s %s (%llu bytes)", f->kind, f->name,
	      (unsigned long long)f->size);
	int rc = nv3p_send_command(s, command, args, args_len);
	for (uint64_t off = 0; rc == 0 && off < f->size;) {
		uint64_t left = f->size - off;
		uint32_t n = left < s->o->nv3p_data_max ? (uint32_t)left : s->o->nv3p_data_max;
		rc = nv3p_send_data(s, &src, off, n);
		off += n;
	}
	source_close(&src);
	return rc;
}

int rcm_tegra_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_options *o)
{
	if (b->chip == RCM_TEGRA_T234)
		return t234_send_stage(t, b, o, RCM_TEGRA_STAGE_MB1);
	if (check_options(o) != 0)
		return -1;
	struct nv3p s = { t, b, o, NULL, 0 };
	for (unsigned i = 0; i < b->count; i++) {
		if (b->files[i].stage != RCM_TEGRA_STAGE_MB1)
			continue;
		s.f = &b->files[i];
		if (mb1_send_file(&s, b) != 0)
			return -1;
	}
	return 0;
}

/* ---- the whole boot ------------------------------------------------------------------- */

static int check_device(const struct usb_transport *t, const struct rcm_tegra_bundle *b)
{
	const struct usb_id *id = rcm_tegra_identify(t->vendor, t->product);
	if (!id)
		return err_prefix("%s", t->path);
	if ((enum rcm_tegra_chip)id->kind != b->chip)
		return err_set("%s: %04x:%04x is a %s (%s), but the bundle %s is for %s", t->path,
			       t->vendor, t->product, id->name,
			       rcm_tegra_chip_name((enum rcm_tegra_chip)id->kind), b->dir,
			       rcm_tegra_chip_name(b->chip));
	return 0;
}

/* After the bootrom stage: pause, then find the device again at its port if the transport
 * can (it may have re-enumerated or not: both are fine), and check it is still ours. */
static int wait_for_mb1(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			const struct rcm_tegra_options *o)
{
	if (!t->dry_run && o->mb1_settle_ms)
		timing_sleep_ms(o->mb1_settle_ms);
	if (!t->ops->reopen)
		return 0;
	log_step(o, "looking for MB1 at %s again (up to %u ms; it may or may not re-enumerate)",
		 t->path, o->mb1_wait_ms);
	if (t->ops->reopen(t, o->mb1_wait_ms) != 0)
		return err_prefix("after the bootrom stage, waiting for MB1");
	if (check_device(t, b) != 0)
		return err_prefix("after the bootrom stage");
	return 0;
}

static int t234_boot(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		     const struct rcm_tegra_options *o, char id[RCM_TEGRA_ID_TEXT])
{
	if (rcm_tegra_read_cid(t, id) != 0)
		return -1;
	log_step(o, "BR_CID %s", id);
	if (t234_send_stage(t, b, o, RCM_TEGRA_STAGE_BOOTROM) != 0)
		return -1;
	if (wait_for_mb1(t, b, o) != 0)
		return -1;
	char version[RCM_TEGRA_MB1_VERSION_TEXT + 1];
	uint32_t error = 0;
	if (rcm_tegra_read_mb1_version(t, version, &error) != 0)
		return -1;
	log_step(o, "MB1: version %s, last_boot_error %u", version, error);
	if (error != 0)
		return err_set("%s: MB1 (version %s) reports last_boot_error %u (0x%08x), expected "
			       "0: the bootrom stage did not boot cleanly; the board's UART log "
			       "says why", t->path, version, error, error);
	return t234_send_stage(t, b, o, RCM_TEGRA_STAGE_MB1);
}

static int t194_boot(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		     const struct rcm_tegra_options *o, char id[RCM_TEGRA_ID_TEXT])
{
	uint8_t uid[RCM_TEGRA_UID_LEN];
	if (rcm_tegra_read_uid(t, o, uid) != 0)
		return -1;
	snprintf(id, RCM_TEGRA_ID_TEXT, "0x");
	for (int i = 0; i < RCM_TEGRA_UID_LEN; i++)
		snprintf(id + 2 + 2 * i, 3, "%02X", uid[i]);
	log_step(o, "chip UID %s%s", id, t->dry_run ? " (dry run)" : "");
	if (rcm_tegra_send_bootrom_stage(t, b, o) != 0 || wait_for_mb1(t, b, o) != 0)
		return -1;
	return rcm_tegra_send_mb1_stage(t, b, o);
}

int rcm_tegra_boot(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		   const struct rcm_tegra_options *o, char id[RCM_TEGRA_ID_TEXT])
{
	snprintf(id, RCM_TEGRA_ID_TEXT, "(none)");
	if (check_options(o) != 0 || check_device(t, b) != 0)
		return -1;
	const struct usb_id *dev = rcm_tegra_identify(t->vendor, t->product);
	log_step(o, "%s: %s (%s), bundle from %s", t->path, dev->name,
	      rcm_tegra_chip_name(b->chip), b->source);
	int rc = b->chip == RCM_TEGRA_T234 ? t234_boot(t, b, o, id) : t194_boot(t, b, o, id);
	if (rc != 0)
		return -1;
	log_step(o, "boot files sent; the board should now start the selfflash kernel");
	return 0;
}
