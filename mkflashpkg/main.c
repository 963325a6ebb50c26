/* SPDX-License-Identifier: MIT */
/*
 * mkflashpkg: signing keys, NVIDIA layouts, and flash packages (build, show, verify).
 */
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cmd_rootfs.h"
#include "chunker.h"
#include "identify.h"
#include "le.h"
#include "error.h"
#include "inspect.h"
#include "keys.h"
#include "l4t.h"
#include "layout.h"
#include "rootfs_tar.h"
#include "sign.h"
#include "variants.h"
#include "version.h"

/* most repetitions of one option: a bound, not a budget */
#define MAX_REPEAT 512

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mkflashpkg COMMAND [options]\n"
		"\n"
		"  keygen BASENAME\n"
		"      write a P-256 signing key: BASENAME.key (private, mode 0600) and BASENAME.pub\n"
		"  layout [--set KEY=VALUE]... FILE.xml\n"
		"  layout --flash-idx FILE\n"
		"      print every partition: device, name, offset and size (decimal and hex)\n"
		"  build -o PKG (--layout FILE.xml | --flash-idx FILE) (--key FILE.key | --unsigned)\n"
		"        [--set KEY=VALUE]... [--file KEY=PATH]... [--no-file NAME]... [--dir DIR]\n"
		"        [--variants TABLE] [--zero-holes PART]... [--replicate PART=STRIDE]...\n"
		"        [--chunk-size BYTES] [-j|--jobs N] [--codec zstd[:LEVEL]|zlib]\n"
		"        [--system-version N] [--capsule FILE]\n"
		"      build a package; KEY in --file is a layout placeholder (MB1FILE) or a\n"
		"      partition name; literal file names are looked up in DIR (default: the\n"
		"      layout's directory); --no-file leaves a partition empty; a file may be a\n"
		"      raw image or an Android sparse image (img2simg, mksparse); chunks are\n"
		"      read, hashed and compressed by N threads (default: one per online CPU,\n"
		"      %u here; 1: no threads), the package is the same for every N;\n"
		"      --codec picks the compression of chunks where it helps (default zstd:\n"
		"      smaller and several times faster for the board to decode; zlib for\n"
		"      flashers older than zstd chunks); zstd:LEVEL (1..19, default 12)\n"
		"      trades build time for size: 19 stores a rootfs about 5 %% smaller and\n"
		"      takes about ten times as long to build, the board decodes it as fast\n"
		"      --system-version N (1..2^64-1) is what the package installs: a board\n"
		"      refuses to update to a lower one unless told to (anti-rollback); an\n"
		"      APP or APP_b image in raw ext4 must then hold /etc/selfflash/system-version\n"
		"      saying N (another number is refused; a missing file is warned about: a\n"
		"      tegra board records a first-flashed slot's version from it);\n"
		"      --capsule FILE carries the boot firmware's UEFI capsule (NVIDIA's\n"
		"      TEGRA_BL.Cap), checked to be for the package's boards, which an update\n"
		"      stages on the board's ESP for UEFI to apply at the next boot\n"
		"  show [--chunks] PKG\n"
		"      print the manifest\n"
		"  verify (--pubkey FILE.pub | --allow-unsigned) PKG\n"
		"      check the signature and every chunk\n"
		"  l4t L4T_DIR -o OUTDIR (--key FILE.key | --unsigned) [options]\n"
		"      from NVIDIA's Linux_for_Tegra tree (R35, R36): package, kernel, flasher\n"
		"      initrd with the kernel's modules, RCM bundle (mkflashpkg l4t --help)\n"
		"  eeprom -o FILE --part-number \"699-13701-0005-500 M.0\" [--serial TEXT]\n"
		"      write a 256-byte module EEPROM image (for test boards and the QEMU board)\n"
		"  rootfs-from-tar [--uuid-seed TEXT] [--tmp-dir DIR] [--fakeroot] [-q] TAR SIZE OUT\n"
		"      turn NVIDIA's rootfs tar (tools/kernel_flash/images/*/system.img) into an\n"
		"      ext4 image of SIZE bytes, sparse, with the tar's owners, modes, links,\n"
		"      devices and xattrs (bsdtar and mke2fs; under fakeroot when not root);\n"
		"      --uuid-seed: UUID derived from TEXT and the tar instead of random\n"
		"\n"
		"Keys are PEM files as openssl writes them (\"EC PRIVATE KEY\", \"PUBLIC KEY\").\n"
		"The default chunk size is %u bytes.\n",
		chunker_count_cpus(), PKG_DEFAULT_CHUNK_SIZE);
}

static int fail(const char *cmd)
{
	fprintf(stderr, "mkflashpkg %s: %s\n", cmd, err_msg());
	return 1;
}

/* Splits KEY=VALUE (in place); VALUE may be empty only when allow_empty. */
static int split_set(char *arg, struct layout_set *set, const char *option, int allow_empty)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || (!allow_empty && !eq[1]))
		return err_set("%s '%s': expected KEY=VALUE", option, arg);
	*eq = '\0';
	set->key = arg;
	set->value = eq + 1;
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkflashpkg keygen BASENAME\n");
		return 2;
	}
	struct pkg_privkey key;
	if (pkg_keygen(&key) != 0 || pkg_keys_write(&key, argv[1]) != 0)
		return fail("keygen");
	char id[2 * PKG_KEY_ID_LEN + 1];
	pkg_key_id_hex(key.pub.key_id, id);
	printf("wrote %s.key and %s.pub (key id %s)\n", argv[1], argv[1], id);
	memset(&key, 0, sizeof(key));
	return 0;
}

static int load_layout(const char *xml, const char *idx, const struct layout_set *sets,
		       size_t nsets, struct layout *l)
{
	const char *path = xml ? xml : idx;
	size_t len;
	char *text = read_small_file(path, 16u << 20, &len);
	if (!text)
		return -1;
	int rc = xml ? layout_from_xml(text, len, sets, nsets, l) : layout_from_flash_idx(text, len, l);
	free(text);
	return rc ? err_prefix("%s", path) : 0;
}

static int cmd_layout(int argc, char **argv)
{
	static const struct option options[] = {
		{ "set", required_argument, NULL, 's' },
		{ "flash-idx", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct layout_set sets[MAX_REPEAT];
	size_t nsets = 0;
	const char *idx = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt == 's') {
			if (nsets == MAX_REPEAT || split_set(optarg, &sets[nsets++], "--set", 0) != 0)
				return fail("layout");
		} else if (opt == 'i') {
			idx = optarg;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if ((idx && optind != argc) || (!idx && optind != argc - 1)) {
		fprintf(stderr, "usage: mkflashpkg layout [--set KEY=VALUE]... FILE.xml\n"
				"       mkflashpkg layout --flash-idx FILE\n");
		return 2;
	}
	struct layout l;
	if (load_layout(idx ? NULL : argv[optind], idx, sets, nsets, &l) != 0)
		return fail("layout");
	layout_print(stdout, &l);
	layout_free(&l);
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "layout", required_argument, NULL, 'l' },
		{ "flash-idx", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "unsigned", no_argument, NULL, 'u' },
		{ "set", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "no-file", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "variants", required_argument, NULL, 'v' },
		{ "zero-holes", required_argument, NULL, 'z' },
		{ "replicate", required_argument, NULL, 'r' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "codec", required_argument, NULL, 'Z' },
		{ "system-version", required_argument, NULL, 'V' },
		{ "capsule", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct layout_set sets[MAX_REPEAT], files[MAX_REPEAT], replicate[MAX_REPEAT];
	static const char *no_file[MAX_REPEAT], *zero_holes[MAX_REPEAT];
	static struct variant variants[PKG_MAX_VARIANTS];
	size_t nsets = 0, nvariants = 0;
	struct build_opts o = { .chunk_size = PKG_DEFAULT_CHUNK_SIZE, .files = files,
				.no_file = no_file, .zero_holes = zero_holes, .replicate = replicate };
	const char *xml = NULL, *idx = NULL, *table = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "o:qhj:", options, NULL)) != -1) {
		int rc = 0;
		uint64_t v;
		switch (opt) {
		case 'o': o.output = optarg; break;
		case 'l': xml = optarg; break;
		case 'i': idx = optarg; break;
		case 'k': o.key_path = optarg; break;
		case 'u': o.allow_unsigned = 1; break;
		case 'C': o.capsule = optarg; break;
		case 'd': o.file_dir = optarg; break;
		case 'v': table = optarg; break;
		case 'q': o.quiet = 1; break;
		case 's':
			rc = nsets == MAX_REPEAT ? err_set("too many --set")
						 : split_set(optarg, &sets[nsets++], "--set", 0);
			break;
		case 'f':
			rc = o.nfiles == MAX_REPEAT ? err_set("too many --file")
						    : split_set(optarg, &files[o.nfiles++], "--file", 0);
			break;
		case 'r':
			rc = o.nreplicate == MAX_REPEAT
				     ? err_set("too many --replicate")
				     : split_set(optarg, &replicate[o.nreplicate++], "--replicate", 0);
			break;
		case 'n':
			if (o.n_no_file == MAX_REPEAT)
				rc = err_set("too many --no-file");
			else
				no_file[o.n_no_file++] = optarg;
			break;
		case 'z':
			if (o.n_zero_holes == MAX_REPEAT)
				rc = err_set("too many --zero-holes");
			else
				zero_holes[o.n_zero_holes++] = optarg;
			break;
		case 'c':
			if (layout_parse_u64(optarg, &v) != 0 || v > UINT32_MAX)
				rc = err_set("--chunk-size '%s' is not a number", optarg);
			else
				o.chunk_size = (uint32_t)v;
			break;
		case 'j':
			rc = build_parse_jobs(optarg, &o.jobs);
			break;
		case 'Z':
			rc = build_parse_codec(optarg, &o.codec);
			break;
		case 'V':
			rc = build_parse_system_version(optarg, &o.system_version);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc != 0)
			return fail("build");
	}
	if (optind != argc || !o.output || (!xml == !idx)) {
		fprintf(stderr, "mkflashpkg build: needs -o PKG and exactly one of --layout, "
				"--flash-idx (see mkflashpkg --help)\n");
		return 2;
	}
	if (o.key_path && o.allow_unsigned) {
		fprintf(stderr, "mkflashpkg build: --key and --unsigned exclude each other\n");
		return 2;
	}
	struct layout l;
	if (load_layout(xml, idx, sets, nsets, &l) != 0)
		return fail("build");
	o.layout = &l;
	o.from_flash_idx = idx != NULL;
	if (!o.file_dir) {
		static char layout_dir[4096]; /* dirname() points into it; o outlives this block */
		snprintf(layout_dir, sizeof(layout_dir), "%s", xml ? xml : idx);
		o.file_dir = dirname(layout_dir);
	}
	int rc = 0;
	if (table) {
		size_t len;
		char *text = read_small_file(table, 1u << 20, &len);
		static char table_dir[4096];
		snprintf(table_dir, sizeof(table_dir), "%s", table);
		rc = text ? variants_parse(text, len, dirname(table_dir), variants, PKG_MAX_VARIANTS,
					   &nvariants)
			  : -1;
		free(text);
		if (rc != 0)
			err_prefix("%s", table);
		o.variants = variants;
		o.nvariants = nvariants;
	}
	if (rc == 0)
		rc = pkg_build(&o);
	layout_free(&l);
	return rc ? fail("build") : 0;
}

static int cmd_show(int argc, char **argv)
{
	int chunks = 0;
	if (argc == 3 && strcmp(argv[1], "--chunks") == 0) {
		chunks = 1;
		argv++;
		argc--;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkflashpkg show [--chunks] PKG\n");
		return 2;
	}
	struct pkg_file f;
	if (pkg_file_open(argv[1], &f) != 0)
		return fail("show");
	/* showing is not trusting: `verify` is what checks the signature */
	if (pkg_file_decode_unverified(&f) != 0) {
		err_prefix("%s", argv[1]);
		pkg_file_close(&f);
		return fail("show");
	}
	pkg_file_show(&f, stdout, chunks);
	pkg_file_close(&f);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub = NULL;
	int allow_unsigned = 0, opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'p')
			pub = optarg;
		else if (opt == 'u')
			allow_unsigned = 1;
		else
			return 2;
	}
	if (optind != argc - 1 || (!pub && !allow_unsigned)) {
		fprintf(stderr, "usage: mkflashpkg verify (--pubkey FILE.pub | --allow-unsigned) PKG\n");
		return 2;
	}
	struct pkg_pubkey key;
	if (pub && pkg_pubkey_load(pub, &key) != 0)
		return fail("verify");
	struct pkg_file f;
	if (pkg_file_open(argv[optind], &f) != 0)
		return fail("verify");
	/* with a key every package must be signed by it; --allow-unsigned alone accepts only
	 * unsigned ones (a signed package is checked only against a key) */
	const struct pkg_pubkey *trusted = pub ? &key : NULL;
	if (!pub && (f.header.flags & PKG_FLAG_SIGNED)) {
		pkg_file_close(&f);
		err_set("package is signed: give --pubkey to check it");
		return fail("verify");
	}
	int rc = pkg_file_verify(&f, trusted, stdout);
	pkg_file_close(&f);
	return rc ? fail("verify") : 0;
}

static int cmd_eeprom(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "part-number", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *pn = NULL, *serial = "";
	int opt;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 'p')
			pn = optarg;
		else if (opt == 's')
			serial = optarg;
		else
			return 2;
	}
	if (optind != argc || !out || !pn) {
		fprintf(stderr, "usage: mkflashpkg eeprom -o FILE --part-number PN [--serial TEXT]\n");
		return 2;
	}
	if (strlen(pn) > 30 || strlen(serial) > 15) {
		err_set("part number longer than 30 or serial longer than 15 characters");
		return fail("eeprom");
	}
	/* the layout of DESIGN.md §5: version 2 (T234), strings padded with 0xFF, CRC last */
	uint8_t ee[EEPROM_SIZE];
	memset(ee, 0xff, sizeof(ee));
	memset(ee, 0, 20);
	le16_store(ee, 2);
	le16_store(ee + 2, EEPROM_SIZE);
	memcpy(ee + 20, pn, strlen(pn));
	memcpy(ee + 74, serial, strlen(serial));
	memcpy(ee + 150, "NVCB", 4);
	ee[255] = identify_crc8_maxim(ee, 255);
	struct board_id id;
	if (identify_parse_eeprom(ee, sizeof(ee), &id) != 0)
		return fail("eeprom");
	le16_store(ee + 4, (uint16_t)atoi(id.board));
	le16_store(ee + 6, (uint16_t)atoi(id.sku));
	ee[255] = identify_crc8_maxim(ee, 255);
	FILE *f = fopen(out, "wb");
	if (!f || fwrite(ee, 1, sizeof(ee), f) != sizeof(ee) || fclose(f) != 0) {
		err_set("%s: write failed", out);
		return fail("eeprom");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* the second half of rootfs-from-tar, run again under fakeroot (rootfs_tar.h) */
	if (strcmp(argv[1], ROOTFS_TAR_SESSION_CMD) == 0)
		return rootfs_tar_session_main(argc - 1, argv + 1);
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("mkflashpkg (selfflash) %s\n", SELFFLASH_VERSION);
		return 0;
	}
	argc--;
	argv++;
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(argc, argv);
	if (strcmp(cmd, "layout") == 0)
		return cmd_layout(argc, argv);
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(cmd, "eeprom") == 0)
		return cmd_eeprom(argc, argv);
	if (strcmp(cmd, "l4t") == 0)
		return l4t_main(argc, argv);
	if (strcmp(cmd, "rootfs-from-tar") == 0)
		return cmd_rootfs_from_tar(argc, argv);
	fprintf(stderr, "mkflashpkg: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
