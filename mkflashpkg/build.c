/* SPDX-License-Identifier: MIT */
/*
 * Package builder: resolves every partition's file for every variant, cuts images (raw files or
 * Android sparse images) into chunks on every CPU (chunker.c; holes and all-zero chunks are not
 * stored, zlib only where it is smaller), writes the data region to a temporary file in chunk
 * order, then header + manifest + data, signed.
 */
#include "build.h"
#include "build_capsule.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl_hash.h>

#include "chunker.h"
#include "error.h"
#include "io.h"
#include "le.h"
#include "pkg.h"
#include "esp_version.h"
#include "rootfs_version.h"
#include "sign.h"
#include "sparse.h"

struct builder {
	const struct build_opts *o;
	struct pkg_chunk *chunks;
	uint32_t nchunks, chunk_cap;
	uint64_t data_size;
	int data_fd;
	struct chunker *chunker;
	uint64_t holes_skipped, zero_skipped;
};

int guid_parse(const char *text, uint8_t out[16])
{
	/* 8-4-4-4-12 hex digits; the first three groups are little-endian on disk */
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t raw[16];
	int n = 0;
	for (int i = 0; text[i]; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return -1;
			continue;
		}
		if (!isxdigit((unsigned char)text[i]) || n == 32)
			return -1;
		int v = isdigit((unsigned char)text[i]) ? text[i] - '0' : tolower(text[i]) - 'a' + 10;
		if (n % 2 == 0)
			raw[n / 2] = (uint8_t)(v << 4);
		else
			raw[n / 2] |= (uint8_t)v;
		n++;
	}
	if (n != 32 || strlen(text) != 36)
		return -1;
	for (int i = 0; i < 16; i++)
		out[i] = raw[order[i]];
	return 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

static const char *set_lookup(const struct layout_set *sets, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(sets[i].key, key) == 0)
			return sets[i].value;
	return NULL;
}

/*
 * The file a partition gets for one variant: "" for none, or a path in `path`.
 * Order: deliberately empty, the variant's own file, --file, a literal file in file_dir.
 */
static int resolve_file(const struct build_opts *o, const struct layout_part *p,
			const struct variant *v, char *path, size_t size)
{
	const char *key = p->filename;
	path[0] = '\0';
	if (in_list(p->name, o->no_file, o->n_no_file) ||
	    (key[0] && in_list(key, o->no_file, o->n_no_file)))
		return 0;
	const char *found = NULL;
	if (v)
		found = key[0] ? variant_file_for(v, key) : NULL;
	if (!found && v)
		found = variant_file_for(v, p->name);
	if (!found && key[0])
		found = set_lookup(o->files, o->nfiles, key);
	if (!found)
		found = set_lookup(o->files, o->nfiles, p->name);
	if (found) {
		if (snprintf(path, size, "%s", found) >= (int)size)
			return err_set("partition %s: path too long", p->name);
		return 0;
	}
	if (!key[0])
		return 0;
	if (!strchr(key, '/')) {
		int n = snprintf(path, size, "%s/%s", o->file_dir ? o->file_dir : ".", key);
		if (n > 0 && (size_t)n < size && access(path, R_OK) == 0)
			return 0;
	}
	path[0] = '\0';
	return err_set("partition %s: no file for %s (give --file %s=PATH, or --no-file %s to "
		       "leave it empty)",
		       p->name, key, key, key);
}

static int add_chunk(struct builder *b, const struct pkg_chunk *c)
{
	if (b->nchunks == b->chunk_cap) {
		if (b->chunk_cap >= PKG_MAX_CHUNKS)
			return err_set("more than %u chunks (use a larger --chunk-size)", PKG_MAX_CHUNKS);
		uint32_t cap = b->chunk_cap ? b->chunk_cap * 2 : 1024;
		struct pkg_chunk *n = realloc(b->chunks, (size_t)cap * sizeof(*n));
		if (!n)
			return err_set("out of memory");
		b->chunks = n;
		b->chunk_cap = cap;
	}
	b->chunks[b->nchunks++] = *c;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, const char *what)
{
	if (io_write_all(fd, buf, len) != 0)
		return err_set("%s: %s", what, strerror(errno));
	return 0;
}

static int read_at(int fd, uint8_t *buf, size_t len, uint64_t off, const char *path)
{
	if (io_pread_all(fd, buf, len, off) != 0)
		return err_set("%s: %s at offset %" PRIu64, path,
			       errno ? strerror(errno) : "file shrank", off);
	return 0;
}

/*
 * Where an image's bytes come from. A raw file finds its holes with SEEK_DATA; an Android
 * sparse image knows them from its DONT_CARE chunks. The chunker sees only this, from several
 * threads at once: both readers use pread and read-only tables, never the file position.
 */
struct image_input {
	/* Fills buf with [off, off + len) of the image; 1 when that range is a hole and was not
	 * read, 0 when buf holds it, -1 with err_msg() set. */
	int (*read_range)(struct image_input *in, uint64_t off, uint8_t *buf, size_t len);
	int fd;
	const char *path;
	uint64_t size;             /* of the image as written to the partition */
	struct sparse_source source; /* the file's bytes, for the sparse reader */
	struct sparse_image sparse;
};

static int raw_read_range(struct image_input *in, uint64_t off, uint8_t *buf, size_t len)
{
	/* holes of sparse files are never read */
	off_t data = lseek(in->fd, (off_t)off, SEEK_DATA);
	if ((data < 0 && errno == ENXIO) || (data >= 0 && (uint64_t)data >= off + len))
		return 1;
	return read_at(in->fd, buf, len, off, in->path);
}

static int sparse_input_read_range(struct image_input *in, uint64_t off, uint8_t *buf,
				   size_t len)
{
	return sparse_read_range(&in->sparse, &in->source, off, buf, len);
}

static int source_read_file(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct image_input *in = ctx;
	return read_at(in->fd, buf, len, off, in->path);
}

/*
 * Sets `in` up for the file open at fd: an Android sparse image (its magic) is checked in full
 * here, before any byte of it is chunked; anything else is a raw image.
 */
static int image_input_open(struct image_input *in, int fd, uint64_t file_size, const char *path)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->path = path;
	in->size = file_size;
	in->read_range = raw_read_range;
	in->source = (struct sparse_source){ .read = source_read_file, .ctx = in,
					     .size = file_size };
	int sparse = sparse_detect_image(&in->source);
	if (sparse <= 0)
		return sparse;
	if (sparse_parse_image(&in->source, &in->sparse) != 0)
		return err_prefix("%s: Android sparse image", path);
	in->size = in->sparse.size;
	in->read_range = sparse_input_read_range;
	return 1;
}

static int image_input_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct image_input *in = ctx;
	return in->read_range(in, off, buf, len);
}

/* Takes one window's result, in window order: the data region grows exactly as it did when
 * one thread did everything. */
static int builder_emit_chunk(void *ctx, const struct chunk_result *r)
{
	struct builder *b = ctx;
	if (r->kind == CHUNK_HOLE) {
		b->holes_skipped += r->raw_size;
		return 0;
	}
	if (r->kind == CHUNK_ZERO) {
		b->zero_skipped += r->raw_size;
		return 0;
	}
	struct pkg_chunk c = { .offset = r->offset, .stored_offset = b->data_size,
			       .raw_size = r->raw_size, .stored_size = r->stored_size,
			       .compression = r->compression, .stored_crc32 = r->stored_crc32 };
	memcpy(c.sha256, r->sha256, sizeof(c.sha256));
	if (write_all(b->data_fd, r->stored, r->stored_size, "package data") != 0 ||
	    add_chunk(b, &c) != 0)
		return -1;
	b->data_size += r->stored_size;
	return 0;
}

/* Cuts [0, in->size) into chunk-aligned windows; stores what holds data. */
static int chunk_image(struct builder *b, struct image_input *in)
{
	return chunker_cut_image(b->chunker, image_input_read, in, in->size, builder_emit_chunk, b);
}

/* A BCT-style image: the file copied into every `stride`-byte slot of the partition, into a
 * temporary raw file that then stands for the image. */
static int replicate_image(struct image_input *in, uint64_t stride, uint64_t part_size,
			   int *out_fd, uint64_t *out_size)
{
	const uint64_t file_size = in->size;
	if (stride == 0 || file_size > stride)
		return err_set("%s: %" PRIu64 " bytes do not fit the replication stride %" PRIu64,
			       in->path, file_size, stride);
	uint8_t *buf = malloc(file_size ? file_size : 1);
	if (!buf)
		return err_set("out of memory");
	FILE *tmp = tmpfile();
	int rc = tmp ? in->read_range(in, 0, buf, file_size) : err_set("tmpfile: %s", strerror(errno));
	if (rc == 1) {
		memset(buf, 0, file_size);
		rc = 0;
	}
	uint64_t copies = part_size / stride;
	for (uint64_t i = 0; rc == 0 && i < copies; i++)
		if (fseeko(tmp, (off_t)(i * stride), SEEK_SET) != 0 ||
		    fwrite(buf, 1, file_size, tmp) != file_size)
			rc = err_set("replicating %s: write failed", in->path);
	free(buf);
	if (rc == 0 && fflush(tmp) != 0)
		rc = err_set("replicating %s: write failed", in->path);
	if (rc != 0) {
		if (tmp)
			fclose(tmp);
		return -1;
	}
	*out_fd = dup(fileno(tmp));
	fclose(tmp);
	*out_size = (copies - 1) * stride + file_size;
	return *out_fd < 0 ? err_set("dup: %s", strerror(errno)) : 0;
}

static int check_idx_file(const struct layout_part *p, int fd, uint64_t size, const char *path)
{
	if (size != p->file_size)
		return err_set("partition %s: %s is %" PRIu64 " bytes, flash.idx recorded %" PRIu64,
			       p->name, path, size, p->file_size);
	if (!p->sha1[0])
		return 0;
	br_sha1_context sha;
	br_sha1_init(&sha);
	uint8_t buf[65536], digest[20];
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		if (read_at(fd, buf, n, off, path) != 0)
			return -1;
		br_sha1_update(&sha, buf, n);
		off += n;
	}
	br_sha1_out(&sha, digest);
	char hex[41];
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (strcasecmp(hex, p->sha1) != 0)
		return err_set("partition %s: %s has SHA-1 %s, flash.idx recorded %s", p->name, path,
			       hex, p->sha1);
	return 0;
}

static int add_image(struct builder *b, const struct layout_part *p, uint32_t part_index,
		     int is_mtd, const char *path, uint64_t mask, struct pkg_image *im)
{
	const struct build_opts *o = b->o;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("partition %s: %s: %s", p->name, path, strerror(errno));
	struct stat st;
	struct image_input in;
	memset(&in, 0, sizeof(in));
	int rc = 0, sparse = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = err_set("partition %s: %s is not a regular file", p->name, path);
	/* flash.idx records the file as it is, sparse or not */
	if (rc == 0 && o->from_flash_idx)
		rc = check_idx_file(p, fd, (uint64_t)st.st_size, path);
	if (rc == 0) {
		sparse = image_input_open(&in, fd, (uint64_t)st.st_size, path);
		if (sparse < 0)
			rc = err_prefix("partition %s", p->name);
	}
	if (rc == 0 && in.size > p->size)
		rc = err_set("partition %s: %s %s %s %" PRIu64 " bytes, partition holds %" PRIu64,
			     p->name, sparse ? "Android sparse image" : "file", path,
			     sparse ? "expands to" : "is", in.size, p->size);
	const char *stride_text = set_lookup(o->replicate, o->nreplicate, p->name);
	if (rc == 0 && stride_text) {
		uint64_t stride, size = 0;
		int rfd = -1;
		if (layout_parse_u64(stride_text, &stride) != 0)
			rc = err_set("--replicate %s=%s: not a number", p->name, stride_text);
		else if (replicate_image(&in, stride, p->size, &rfd, &size) == 0) {
			/* from here on the image is the replicated raw file */
			sparse_free_image(&in.sparse);
			close(fd);
			fd = in.fd = rfd;
			in.size = size;
			in.read_range = raw_read_range;
		} else
			rc = -1;
	}
	memset(im, 0, sizeof(*im));
	im->partition = part_index;
	im->first_chunk = b->nchunks;
	im->variant_mask = mask;
	im->size = in.size;
	if (is_mtd || in_list(p->name, o->zero_holes, o->n_zero_holes))
		im->flags |= PKG_IMAGE_ZERO_HOLES;
	if (rc == 0)
		rc = chunk_image(b, &in);
	sparse_free_image(&in.sparse);
	close(fd);
	im->chunk_count = b->nchunks - im->first_chunk;
	return rc;
}

/* One image per distinct file among the variants of a partition. */
static int add_partition_images(struct builder *b, const struct layout_part *p, uint32_t index,
				int is_mtd, struct pkg_image *images, uint32_t *nimages)
{
	const struct build_opts *o = b->o;
	size_t nv = o->variants ? o->nvariants : 1;
	static char paths[PKG_MAX_VARIANTS][4096];
	for (size_t i = 0; i < nv; i++)
		if (resolve_file(o, p, o->variants ? &o->variants[i] : NULL, paths[i],
				 sizeof(paths[i])) != 0)
			return -1;
	uint64_t done = 0;
	for (size_t i = 0; i < nv; i++) {
		if ((done >> i) & 1 || !paths[i][0])
			continue;
		uint64_t mask = 0;
		for (size_t j = i; j < nv; j++)
			if (strcmp(paths[i], paths[j]) == 0)
				mask |= (uint64_t)1 << j;
		done |= mask;
		if (*nimages == PKG_MAX_IMAGES)
			return err_set("more than %d images", PKG_MAX_IMAGES);
		/* a tegra board records a first-flashed slot's version from its rootfs's own file
		 * (rootfs_version.h): it must say what the manifest says */
		if (o->system_version && !is_mtd && rootfs_version_is_rootfs(p->name) &&
		    rootfs_version_check_image(p->name, paths[i], o->system_version,
					       o->quiet ? NULL : stdout) != 0)
			return -1;
		/* a systemd-boot board takes it from its ESP's loader entries (esp_version.h) */
		if (o->system_version && !is_mtd &&
		    esp_version_check_image(p->name, paths[i], o->system_version,
					    o->quiet ? NULL : stdout) != 0)
			return -1;
		if (add_image(b, p, index, is_mtd, paths[i], mask, &images[(*nimages)++]) != 0)
			return -1;
	}
	return 0;
}

static int fill_partition(const struct layout *l, const struct layout_device *d, uint16_t target,
			  const struct layout_part *p, struct pkg_partition *out)
{
	memset(out, 0, sizeof(*out));
	char dev[48];
	layout_device_name(d, dev, sizeof(dev));
	(void)l;
	if (!p->size_known)
		return err_set("partition %s on %s: size %s is unresolved (give --set %s=BYTES)",
			       p->name, dev, p->size_text[0] ? p->size_text : "(empty)",
			       p->size_text[0] ? p->size_text : "SIZE");
	if (!p->offset_known)
		return err_set("partition %s on %s: offset unknown (an earlier size is unresolved)",
			       p->name, dev);
	if (strlen(p->name) >= PKG_PART_NAME_LEN || strlen(p->type) >= PKG_PART_TYPE_LEN)
		return err_set("partition %s: name or type longer than the package holds", p->name);
	strcpy(out->name, p->name);
	strcpy(out->type, p->type);
	out->target = target;
	out->slot = p->slot;
	out->kind = p->kind;
	out->offset = p->offset;
	out->size = p->size;
	out->flags = (p->fill_to_end ? PKG_PART_FILL_TO_END : 0) | (p->at_end ? PKG_PART_AT_END : 0);
	if (p->type_guid[0] && guid_parse(p->type_guid, out->type_guid) != 0)
		return err_set("partition %s: partition_type_guid '%s' is not a GUID", p->name,
			       p->type_guid);
	/* an unresolved placeholder such as APPUUID means: let the board choose */
	if (p->unique_guid[0] && guid_parse(p->unique_guid, out->unique_guid) != 0 &&
	    strchr(p->unique_guid, '-'))
		return err_set("partition %s: unique_guid '%s' is not a GUID", p->name, p->unique_guid);
	return 0;
}

static int copy_data(int from, int to, uint64_t size)
{
	uint8_t buf[1 << 16];
	if (lseek(from, 0, SEEK_SET) != 0)
		return err_set("rewinding the data file: %s", strerror(errno));
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
		ssize_t got = read(from, buf, n);
		if (got <= 0)
			return err_set("reading back the data file: %s",
				       got < 0 ? strerror(errno) : "short");
		if (write_all(to, buf, (size_t)got, "package") != 0)
			return -1;
		done += (uint64_t)got;
	}
	return 0;
}

static int write_package(struct builder *b, const struct pkg_manifest_src *src,
			 const struct pkg_privkey *key)
{
	const struct build_opts *o = b->o;
	uint64_t msize = pkg_manifest_encoded_size(src);
	uint8_t *manifest = msize ? malloc(msize) : NULL;
	if (!manifest)
		return err_set("manifest too large or out of memory");
	int rc = pkg_manifest_encode(src, manifest, msize);
	/* the builder checks what it wrote with the same decoder the board uses */
	struct pkg_manifest check;
	if (rc == 0 && pkg_manifest_decode(manifest, msize, b->data_size, &check) != 0)
		rc = err_prefix("built manifest is invalid");
	struct pkg_header h = { .version = PKG_FORMAT_VERSION,
				.manifest_size = msize,
				.data_size = b->data_size,
				.package_size = PKG_PREFIX_SIZE + msize + b->data_size };
	uint8_t prefix[PKG_PREFIX_SIZE];
	if (rc == 0 && key) {
		h.flags = PKG_FLAG_SIGNED;
		memcpy(h.key_id, key->pub.key_id, PKG_KEY_ID_LEN);
		pkg_header_encode(&h, prefix);
		uint8_t digest[SHA256_LEN];
		pkg_signed_digest(prefix, manifest, msize, digest);
		rc = pkg_sign_digest(key, digest, h.sig, &h.sig_len);
	}
	pkg_header_encode(&h, prefix);

	char tmp[4096];
	if (rc == 0 && snprintf(tmp, sizeof(tmp), "%s.tmp", o->output) >= (int)sizeof(tmp))
		rc = err_set("output path too long");
	int fd = -1;
	if (rc == 0) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			rc = err_set("%s: %s", tmp, strerror(errno));
	}
	if (rc == 0)
		rc = write_all(fd, prefix, sizeof(prefix), tmp);
	if (rc == 0)
		rc = write_all(fd, manifest, (size_t)msize, tmp);
	if (rc == 0)
		rc = copy_data(b->data_fd, fd, b->data_size);
	if (rc == 0 && fsync(fd) != 0)
		rc = err_set("%s: %s", tmp, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = err_set("%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, o->output) != 0)
		rc = err_set("%s: %s", o->output, strerror(errno));
	if (rc != 0 && fd >= 0)
		unlink(tmp);
	free(manifest);
	if (rc == 0 && !o->quiet)
		printf("%s: %" PRIu64 " bytes (manifest %" PRIu64 ", data %" PRIu64 "), %" PRIu32
		       " chunks, %" PRIu64 " bytes of holes and %" PRIu64 " of zeros not stored, %s\n",
		       o->output, h.package_size, msize, b->data_size, src->chunk_count,
		       b->holes_skipped, b->zero_skipped, key ? "signed" : "UNSIGNED");
	return rc;
}

/* The disk holding the ESP (a partition named esp), else the first disk; -1 when none. */
static int esp_disk(const struct layout *l, const struct pkg_target *targets)
{
	int first = -1;
	for (size_t d = 0; d < l->ndev; d++) {
		if (targets[d].kind != PKG_TARGET_DISK)
			continue;
		if (first < 0)
			first = (int)d;
		for (size_t j = 0; j < l->dev[d].count; j++)
			if (strcasecmp(l->parts[l->dev[d].first + j].name, "esp") == 0)
				return (int)d;
	}
	return first;
}

/* o->capsule as a file partition (pkg.h PKG_PART_FILE) of every variant on the ESP's disk. */
static int add_capsule(struct builder *b, const struct layout *l, const struct pkg_target *targets,
		       const struct pkg_variant *variants, uint32_t nvariants,
		       struct pkg_partition *parts, uint32_t *pi, struct pkg_image *images,
		       uint32_t *nimages)
{
	const struct build_opts *o = b->o;
	uint64_t size;
	if (build_capsule_check(o->capsule, variants, nvariants, &size, o->quiet ? NULL : stdout))
		return -1;
	int disk = esp_disk(l, targets);
	if (disk < 0)
		return err_set("--capsule: the layout has no disk to stage it on (its ESP)");
	if (*pi == PKG_MAX_PARTITIONS || *nimages == PKG_MAX_IMAGES)
		return err_set("--capsule: the package has no room for one more partition");
	struct pkg_partition *p = &parts[*pi];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", BUILD_CAPSULE_NAME);
	snprintf(p->type, sizeof(p->type), "capsule");
	p->target = (uint16_t)disk;
	p->kind = PKG_PART_FILE;
	p->size = size;
	/* a capsule is no layout partition: no flash.idx entry to compare it with */
	struct build_opts plain = *o;
	plain.from_flash_idx = 0;
	struct layout_part lp = { .size = size, .size_known = 1, .kind = PKG_PART_FILE };
	snprintf(lp.name, sizeof(lp.name), "%s", BUILD_CAPSULE_NAME);
	b->o = &plain;
	uint64_t all = nvariants == 64 ? UINT64_MAX : ((uint64_t)1 << nvariants) - 1;
	int rc = add_image(b, &lp, *pi, 0, o->capsule, all, &images[*nimages]);
	b->o = o;
	if (rc != 0)
		return -1;
	(*pi)++;
	(*nimages)++;
	return 0;
}

int pkg_build(const struct build_opts *o)
{
	const struct layout *l = o->layout;
	struct pkg_privkey key;
	if (!o->key_path && !o->allow_unsigned)
		return err_set("no signing key (--key FILE, or --unsigned for development)");
	if (o->key_path && pkg_privkey_load(o->key_path, &key) != 0)
		return -1;
	if (o->chunk_size < 4096 || o->chunk_size > PKG_MAX_CHUNK_SIZE)
		return err_set("chunk size %" PRIu32 " outside 4096..%u", o->chunk_size,
			       PKG_MAX_CHUNK_SIZE);
	if (o->jobs > CHUNKER_MAX_JOBS)
		return err_set("%u jobs, expected 1..%d", o->jobs, CHUNKER_MAX_JOBS);
	if (o->variants && (o->nvariants == 0 || o->nvariants > PKG_MAX_VARIANTS))
		return err_set("%zu variants, expected 1..%d", o->nvariants, PKG_MAX_VARIANTS);
	if (l->ndev > PKG_MAX_TARGETS || l->nparts > PKG_MAX_PARTITIONS)
		return err_set("layout has more devices or partitions than a package holds");

	struct pkg_variant variants[PKG_MAX_VARIANTS];
	struct pkg_target targets[PKG_MAX_TARGETS];
	static struct pkg_partition parts[PKG_MAX_PARTITIONS];
	static struct pkg_image images[PKG_MAX_IMAGES];
	uint32_t nvariants = o->variants ? (uint32_t)o->nvariants : 1, nimages = 0;
	memset(variants, 0, sizeof(variants));
	if (o->variants)
		for (size_t i = 0; i < o->nvariants; i++)
			variants[i] = o->variants[i].v;
	else
		strcpy(variants[0].name, "any");

	struct builder b = { .o = o, .data_fd = -1 };
	FILE *data = tmpfile();
	int rc = 0;
	if (!data)
		rc = err_set("out of memory or no temporary file");
	else
		b.data_fd = fileno(data);
	if (rc == 0) {
		b.chunker = chunker_new(o->chunk_size, o->jobs ? o->jobs : chunker_count_cpus(),
				       o->codec.id ? &o->codec
						   : &(struct chunk_codec){ BUILD_DEFAULT_CODEC, 0 });
		if (!b.chunker)
			rc = -1;
	}

	uint32_t pi = 0;
	for (size_t d = 0; rc == 0 && d < l->ndev; d++) {
		const struct layout_device *dev = &l->dev[d];
		struct pkg_target *t = &targets[d];
		memset(t, 0, sizeof(*t));
		t->kind = strcmp(dev->type, "spi") == 0 ? PKG_TARGET_MTD : PKG_TARGET_DISK;
		t->instance = dev->instance;
		t->sector_size = dev->sector_size;
		t->size = dev->size;
		snprintf(t->type, sizeof(t->type), "%s", dev->type);
		for (size_t j = 0; rc == 0 && j < dev->count; j++, pi++) {
			const struct layout_part *p = &l->parts[dev->first + j];
			rc = fill_partition(l, dev, (uint16_t)d, p, &parts[pi]);
			if (rc == 0 && set_lookup(o->replicate, o->nreplicate, p->name))
				parts[pi].flags |= PKG_PART_REPLICATED;
			/* NOR partitions holding boot code or tables start with a header (NVIDIA's
			 * signed-binary header, a BCT, a firmware volume); "data" ones do not */
			if (rc == 0 && t->kind == PKG_TARGET_MTD && p->kind == PKG_PART_DATA &&
			    strcmp(p->type, "data") != 0)
				parts[pi].flags |= PKG_PART_HEADER_FIRST;
			if (rc == 0)
				rc = add_partition_images(&b, p, pi, t->kind == PKG_TARGET_MTD, images,
							  &nimages);
		}
	}
	if (rc == 0 && o->capsule)
		rc = add_capsule(&b, l, targets, variants, nvariants, parts, &pi, images, &nimages);
	/* every --replicate and --zero-holes must name a partition: a typo must not pass */
	for (size_t i = 0; rc == 0 && i < o->nreplicate + o->n_zero_holes; i++) {
		const char *name = i < o->nreplicate ? o->replicate[i].key
						     : o->zero_holes[i - o->nreplicate];
		int found = 0;
		for (size_t j = 0; j < l->nparts; j++)
			found |= strcmp(l->parts[j].name, name) == 0;
		if (!found)
			rc = err_set("no partition named %s in the layout", name);
	}
	if (rc == 0) {
		struct pkg_manifest_src src = {
			.variants = variants,
			.targets = targets,
			.partitions = parts,
			.images = images,
			.chunks = b.chunks,
			.variant_count = nvariants,
			.target_count = (uint32_t)l->ndev,
			.partition_count = pi,
			.image_count = nimages,
			.chunk_count = b.nchunks,
			.chunk_size = o->chunk_size,
			.system_version = o->system_version,
		};
		rc = write_package(&b, &src, o->key_path ? &key : NULL);
	}
	memset(&key, 0, sizeof(key));
	if (data)
		fclose(data);
	chunker_free(b.chunker);
	free(b.chunks);
	return rc;
}

int build_parse_jobs(const char *text, unsigned *jobs)
{
	uint64_t v;
	if (layout_parse_u64(text, &v) != 0 || v < 1 || v > CHUNKER_MAX_JOBS)
		return err_set("--jobs '%s': expected 1..%d", text, CHUNKER_MAX_JOBS);
	*jobs = (unsigned)v;
	return 0;
}

int build_parse_codec(const char *text, struct chunk_codec *codec)
{
	uint64_t level = 0;
	if (strcmp(text, "zstd") == 0) {
		*codec = (struct chunk_codec){ PKG_COMP_ZSTD, 0 };
	} else if (strncmp(text, "zstd:", 5) == 0 && layout_parse_u64(text + 5, &level) == 0 &&
		   level >= CHUNKER_ZSTD_LEVEL_MIN && level <= CHUNKER_ZSTD_LEVEL_MAX) {
		*codec = (struct chunk_codec){ PKG_COMP_ZSTD, (int)level };
	} else if (strcmp(text, "zlib") == 0) {
		*codec = (struct chunk_codec){ PKG_COMP_ZLIB, 0 };
	} else {
		return err_set("--codec '%s': expected zstd, zstd:LEVEL (%d..%d) or zlib", text,
			       CHUNKER_ZSTD_LEVEL_MIN, CHUNKER_ZSTD_LEVEL_MAX);
	}
	return 0;
}

int build_parse_system_version(const char *text, uint64_t *version)
{
	uint64_t v;
	if (layout_parse_u64(text, &v) != 0 || v == 0)
		return err_set("--system-version '%s': expected a number 1..2^64-1", text);
	*version = v;
	return 0;
}
