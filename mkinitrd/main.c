/* SPDX-License-Identifier: MIT */
/*
 * mkinitrd: packs the selfflash initrd, a deterministic newc cpio compressed with gzip.
 * Same inputs and SOURCE_DATE_EPOCH give the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bootimg.h"
#include "cpio.h"
#include "error.h"
#include "version.h"

/* Most entries an initrd may be given on the command line: a bound, not a budget. */
#define MAX_ENTRIES 256

struct gzip_sink {
	z_stream zs;
	FILE *out;
	const char *path;
};

static int gzip_push(struct gzip_sink *g, const void *buf, size_t len, int flush)
{
	unsigned char out[65536];
	g->zs.next_in = (Bytef *)(uintptr_t)buf;
	g->zs.avail_in = (uInt)len;
	do {
		g->zs.next_out = out;
		g->zs.avail_out = sizeof(out);
		int rc = deflate(&g->zs, flush);
		if (rc == Z_STREAM_ERROR) {
			fprintf(stderr, "mkinitrd: gzip: %s\n", g->zs.msg ? g->zs.msg : "stream error");
			return -1;
		}
		size_t have = sizeof(out) - g->zs.avail_out;
		if (have && fwrite(out, 1, have, g->out) != have) {
			fprintf(stderr, "mkinitrd: %s: %s\n", g->path, strerror(errno));
			return -1;
		}
	} while (g->zs.avail_out == 0 || (flush == Z_FINISH && g->zs.avail_in > 0));
	return 0;
}

static int gzip_sink_write(void *ctx, const void *buf, size_t len)
{
	/* avail_in is 32 bits; the cpio writer never hands over more than 64 KiB at once */
	return gzip_push(ctx, buf, len, Z_NO_FLUSH);
}

static int plain_sink_write(void *ctx, const void *buf, size_t len)
{
	struct gzip_sink *g = ctx;
	if (fwrite(buf, 1, len, g->out) != len) {
		fprintf(stderr, "mkinitrd: %s: %s\n", g->path, strerror(errno));
		return -1;
	}
	return 0;
}

struct entry {
	const char *dest;
	const char *src; /* NULL for a directory */
	unsigned perm;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkinitrd -o OUTPUT [--init FILE] [--pubkey FILE] [--config FILE]\n"
		"                [--package FILE] [--module FILE.ko]...\n"
		"                [--file DEST=SRC[:MODE]]... [--dir DEST]... [--no-gzip]\n"
		"                [--bootimg OUT --kernel IMAGE [--cmdline TEXT]]\n"
		"       mkinitrd --no-ramdisk --bootimg OUT --kernel IMAGE [--cmdline TEXT]\n"
		"\n"
		"Packs an initrd (newc cpio, gzip) for the kernel. Every initrd gets the directories\n"
		"dev, proc, sys and the node dev/console (c 5 1), so /init has a console from its\n"
		"first instruction. Entries appear in the order given. Timestamps are taken from\n"
		"SOURCE_DATE_EPOCH (default 0), owners are root: the same inputs give the same bytes.\n"
		"\n"
		"  -o, --output FILE        where to write the initrd (written to FILE.tmp, then renamed)\n"
		"      --init FILE          the program to run as /init (mode 0755): the flasher,\n"
		"                           or any other payload for a boot-only initrd\n"
		"      --pubkey FILE        the trusted package key, as /etc/selfflash/pubkey.pem\n"
		"      --config FILE        the flasher's settings, as /etc/selfflash/flasher.conf\n"
		"      --package FILE       an embedded package, as /package.sfpkg (offline flashing)\n"
		"      --module FILE.ko     a kernel module, as /lib/modules/NAME.ko (repeatable)\n"
		"      --file DEST=SRC[:MODE]  add file SRC as DEST (octal MODE, default 0644)\n"
		"      --dir DEST           add an empty directory (mode 0755)\n"
		"      --no-gzip            write the cpio archive uncompressed\n"
		"      --bootimg OUT        also write an Android boot image v0 of IMAGE and the new\n"
		"                           initrd to OUT (mkbootimg's layout, 2048-byte pages), as\n"
		"                           hostload puts into a Jetson RCM blob\n"
		"      --kernel IMAGE       the kernel for --bootimg\n"
		"      --cmdline TEXT       the kernel command line in the boot image (at most 511)\n"
		"      --no-ramdisk         write only the boot image, with no ramdisk: a kernel\n"
		"                           that mounts its root itself (root=); no -o, no entries\n"
		"      --version, --help\n");
}

/* Adds directory `dest` unless an earlier entry already did. */
static int add_dir_once(struct entry *entries, int *count, const char *dest)
{
	for (int i = 0; i < *count; i++)
		if (!entries[i].src && strcmp(entries[i].dest, dest) == 0)
			return 0;
	if (*count == MAX_ENTRIES)
		return -1;
	entries[(*count)++] = (struct entry){ dest, NULL, 0755 };
	return 0;
}

/* A file at a conventional place, with the directories above it. */
static int add_known(struct entry *entries, int *count, const char *dirs[], const char *dest,
		     const char *src)
{
	for (int i = 0; dirs[i]; i++)
		if (add_dir_once(entries, count, dirs[i]) != 0)
			return -1;
	if (*count == MAX_ENTRIES)
		return -1;
	entries[(*count)++] = (struct entry){ dest, src, 0644 };
	return 0;
}

static int parse_mode(const char *text, unsigned *perm)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 8);
	if (errno || end == text || *end || v > 07777)
		return -1;
	*perm = (unsigned)v;
	return 0;
}

/* Splits DEST=SRC[:MODE] in place. */
static int parse_file_spec(char *spec, struct entry *e)
{
	char *eq = strchr(spec, '=');
	if (!eq || eq == spec || eq[1] == '\0') {
		fprintf(stderr, "mkinitrd: --file '%s': expected DEST=SRC[:MODE]\n", spec);
		return -1;
	}
	*eq = '\0';
	e->dest = spec;
	e->src = eq + 1;
	e->perm = 0644;
	char *colon = strrchr(eq + 1, ':');
	if (colon) {
		*colon = '\0';
		if (parse_mode(colon + 1, &e->perm) != 0) {
			fprintf(stderr, "mkinitrd: --file %s: mode '%s' is not an octal mode\n",
				spec, colon + 1);
			return -1;
		}
	}
	return 0;
}

static int source_date_epoch(uint32_t *mtime)
{
	const char *text = getenv("SOURCE_DATE_EPOCH");
	*mtime = 0;
	if (!text || !*text)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || text[0] == '-' || v > UINT32_MAX) {
		fprintf(stderr, "mkinitrd: SOURCE_DATE_EPOCH '%s' is not a time newc can hold\n", text);
		return -1;
	}
	*mtime = (uint32_t)v;
	return 0;
}

static int add_file(struct cpio_writer *w, const struct entry *e)
{
	int fd = open(e->src, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "mkinitrd: %s: %s\n", e->src, strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) != 0)
		fprintf(stderr, "mkinitrd: %s: %s\n", e->src, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		fprintf(stderr, "mkinitrd: %s: not a regular file\n", e->src);
	else
		rc = cpio_add_fd(w, e->dest, e->perm, fd, (uint64_t)st.st_size);
	close(fd);
	return rc;
}

/* Reads a whole file for the boot image (kernel or initrd); NULL with a message printed. */
static uint8_t *read_input(const char *path, uint64_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "mkinitrd: %s: %s\n", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > BOOTIMG_SIZE_MAX) {
		fprintf(stderr, "mkinitrd: %s: expected a regular file below 4 GiB\n", path);
	} else if ((buf = malloc(st.st_size ? (size_t)st.st_size : 1)) == NULL) {
		fprintf(stderr, "mkinitrd: %s: out of memory\n", path);
	} else {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
			if (n <= 0) {
				fprintf(stderr, "mkinitrd: %s: %s\n", path,
					n == 0 ? "file shrank while read" : strerror(errno));
				free(buf);
				buf = NULL;
				break;
			}
			got += (size_t)n;
		}
		*len = (uint64_t)st.st_size;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The boot image of kernel and the initrd just written (initrd_path NULL: no ramdisk), to out
 * (via out.tmp). 0 or -1. */
static int write_bootimg(const char *out, const char *kernel_path, const char *initrd_path,
			 const char *cmdline)
{
	uint64_t kernel_len = 0, initrd_len = 0, size = 0;
	uint8_t *kernel = read_input(kernel_path, &kernel_len);
	/* no ramdisk: a zero-length one, which bootimg_build() takes and never reads */
	static uint8_t no_ramdisk;
	uint8_t *initrd = !kernel ? NULL : initrd_path ? read_input(initrd_path, &initrd_len)
						      : &no_ramdisk;
	uint8_t *image = NULL;
	int rc = -1;
	if (kernel && initrd) {
		char tmp[4096];
		err_clear();
		if (bootimg_size(kernel_len, initrd_len, BOOTIMG_PAGE_DEFAULT, &size) == 0 &&
		    (image = malloc((size_t)size)) == NULL)
			err_set("out of memory for %llu bytes", (unsigned long long)size);
		if (!image || bootimg_build(image, size, kernel, kernel_len, initrd, initrd_len,
					    cmdline, BOOTIMG_PAGE_DEFAULT) != 0)
			fprintf(stderr, "mkinitrd: --bootimg %s: %s\n", out, err_msg());
		else if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp))
			fprintf(stderr, "mkinitrd: --bootimg path too long\n");
		else {
			FILE *f = fopen(tmp, "wb");
			if (!f || fwrite(image, 1, (size_t)size, f) != size || fclose(f) != 0 ||
			    rename(tmp, out) != 0) {
				fprintf(stderr, "mkinitrd: %s: %s\n", out, strerror(errno));
				unlink(tmp);
			} else {
				rc = 0;
			}
		}
	}
	free(kernel);
	if (initrd != &no_ramdisk)
		free(initrd);
	free(image);
	return rc;
}

static int write_archive(struct cpio_writer *w, const struct entry *entries, int count)
{
	if (cpio_add_dir(w, "dev", 0755) || cpio_add_char_dev(w, "dev/console", 0600, 5, 1) ||
	    cpio_add_dir(w, "proc", 0755) || cpio_add_dir(w, "sys", 0755))
		return -1;
	for (int i = 0; i < count; i++) {
		int rc = entries[i].src ? add_file(w, &entries[i])
					: cpio_add_dir(w, entries[i].dest, entries[i].perm);
		if (rc != 0)
			return -1;
	}
	return cpio_finish(w);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "init", required_argument, NULL, 'i' },
		{ "file", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "package", required_argument, NULL, 'p' },
		{ "module", required_argument, NULL, 'm' },
		{ "no-gzip", no_argument, NULL, 'n' },
		{ "bootimg", required_argument, NULL, 'B' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "no-ramdisk", no_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct entry entries[MAX_ENTRIES];
	static char module_dest[MAX_ENTRIES][300];
	static const char *etc_dirs[] = { "etc", "etc/selfflash", NULL };
	static const char *module_dirs[] = { "lib", "lib/modules", NULL };
	static const char *no_dirs[] = { NULL };
	const char *output = NULL, *bootimg = NULL, *kernel = NULL, *cmdline = NULL;
	int count = 0, use_gzip = 1, no_ramdisk = 0, opt;

	while ((opt = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		if (strchr("ifdkcpm", opt) && count >= MAX_ENTRIES - 4) {
			fprintf(stderr, "mkinitrd: more than %d entries\n", MAX_ENTRIES);
			return 2;
		}
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'i':
			entries[count++] = (struct entry){ "init", optarg, 0755 };
			break;
		case 'f':
			if (parse_file_spec(optarg, &entries[count]) != 0)
				return 2;
			count++;
			break;
		case 'd':
			entries[count++] = (struct entry){ optarg, NULL, 0755 };
			break;
		case 'k':
			add_known(entries, &count, etc_dirs, "etc/selfflash/pubkey.pem", optarg);
			break;
		case 'c':
			add_known(entries, &count, etc_dirs, "etc/selfflash/flasher.conf", optarg);
			break;
		case 'p':
			add_known(entries, &count, no_dirs, "package.sfpkg", optarg);
			break;
		case 'm': {
			const char *base = strrchr(optarg, '/');
			base = base ? base + 1 : optarg;
			size_t n = strlen(base);
			if (n < 4 || strcmp(base + n - 3, ".ko") != 0) {
				fprintf(stderr, "mkinitrd: --module %s: expected a kernel module (NAME.ko)\n",
					optarg);
				return 2;
			}
			char *dest = module_dest[count];
			snprintf(dest, sizeof(module_dest[0]), "lib/modules/%s", base);
			add_known(entries, &count, module_dirs, dest, optarg);
			break;
		}
		case 'n':
			use_gzip = 0;
			break;
		case 'B':
			bootimg = optarg;
			break;
		case 'K':
			kernel = optarg;
			break;
		case 'C':
			cmdline = optarg;
			break;
		case 'R':
			no_ramdisk = 1;
			break;
		case 'V':
			printf("mkinitrd (selfflash) %s\n", SELFFLASH_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mkinitrd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (no_ramdisk && (!bootimg || output || count > 0 || !use_gzip)) {
		fprintf(stderr, "mkinitrd: --no-ramdisk writes only a boot image: it needs --bootimg "
			"and --kernel, and takes no -o, initrd entries or --no-gzip\n");
		return 2;
	}
	if (!output && !no_ramdisk) {
		fprintf(stderr, "mkinitrd: no output file given (-o FILE)\n");
		usage(stderr);
		return 2;
	}
	if (!bootimg != !kernel || (cmdline && !bootimg)) {
		fprintf(stderr, "mkinitrd: --bootimg and --kernel go together (--cmdline with them)\n");
		return 2;
	}
	if (cmdline && strlen(cmdline) > BOOTIMG_CMDLINE_MAX) {
		fprintf(stderr, "mkinitrd: --cmdline: %zu characters, a boot image holds at most "
			"%u\n", strlen(cmdline), BOOTIMG_CMDLINE_MAX);
		return 2;
	}
	if (no_ramdisk)
		return write_bootimg(bootimg, kernel, NULL, cmdline) == 0 ? 0 : 1;
	uint32_t mtime;
	if (source_date_epoch(&mtime) != 0)
		return 2;

	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", output) >= (int)sizeof(tmp)) {
		fprintf(stderr, "mkinitrd: output path too long\n");
		return 2;
	}
	struct gzip_sink g = { .out = fopen(tmp, "wb"), .path = tmp };
	if (!g.out) {
		fprintf(stderr, "mkinitrd: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	/* windowBits 15 + 16: a gzip wrapper; the explicit header fixes mtime 0 and OS "Unix" */
	gz_header header = { .os = 3 };
	if (use_gzip && (deflateInit2(&g.zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK ||
			 deflateSetHeader(&g.zs, &header) != Z_OK)) {
		fprintf(stderr, "mkinitrd: zlib: cannot start a gzip stream\n");
		fclose(g.out);
		unlink(tmp);
		return 1;
	}
	struct cpio_writer w;
	cpio_writer_init(&w, use_gzip ? gzip_sink_write : plain_sink_write, &g, mtime);
	int rc = write_archive(&w, entries, count);
	if (rc == 0 && use_gzip)
		rc = gzip_push(&g, NULL, 0, Z_FINISH);
	if (use_gzip)
		deflateEnd(&g.zs);
	if (fclose(g.out) != 0 && rc == 0) {
		fprintf(stderr, "mkinitrd: %s: %s\n", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, output) != 0) {
		fprintf(stderr, "mkinitrd: %s: %s\n", output, strerror(errno));
		rc = -1;
	}
	if (rc != 0) {
		unlink(tmp);
		return 1;
	}
	if (bootimg && write_bootimg(bootimg, kernel, output, cmdline) != 0)
		return 1;
	return 0;
}
