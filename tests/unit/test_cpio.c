/* SPDX-License-Identifier: MIT */
/* Unit tests for the newc cpio writer: exact header bytes, alignment, trailer, limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../mkinitrd/cpio.h"
#include "check.h"

struct mem_sink {
	unsigned char buf[8192];
	size_t len;
	int fail_after; /* fail the Nth write (1-based); 0 = never */
	int writes;
};

static int mem_write(void *ctx, const void *data, size_t len)
{
	struct mem_sink *m = ctx;
	if (m->fail_after && ++m->writes >= m->fail_after)
		return -1;
	if (m->len + len > sizeof(m->buf))
		return -1;
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return 0;
}

static struct mem_sink sink;
static struct cpio_writer w;

static void start(uint32_t mtime)
{
	memset(&sink, 0, sizeof(sink));
	cpio_writer_init(&w, mem_write, &sink, mtime);
}

static void test_directory_header_is_exact_newc(void)
{
	start(0x5f5e1000);
	CHECK(cpio_add_dir(&w, "/dev", 0755) == 0);
	/* 110-byte header + "dev\0" = 114, padded to 116 */
	CHECK(sink.len == 116);
	CHECK(memcmp(sink.buf,
		     "070701"
		     "00000001" /* ino */
		     "000041ED" /* mode: directory 0755 */
		     "00000000" "00000000" /* uid gid */
		     "00000002" /* nlink */
		     "5F5E1000" /* mtime */
		     "00000000" /* filesize */
		     "00000000" "00000000" "00000000" "00000000" /* dev, rdev */
		     "00000004" /* namesize with NUL */
		     "00000000", /* check */
		     110) == 0);
	CHECK(memcmp(sink.buf + 110, "dev\0\0\0", 6) == 0);
}

static void test_file_data_is_aligned_and_inodes_count_up(void)
{
	start(0);
	CHECK(cpio_add_data(&w, "a", 0644, "hello", 5) == 0);
	/* header 110 + "a\0" = 112 (aligned) + 5 data + 3 pad = 120 */
	CHECK(sink.len == 120);
	CHECK(memcmp(sink.buf + 112, "hello\0\0\0", 8) == 0);
	CHECK(memcmp(sink.buf + 54, "00000005", 8) == 0); /* filesize */
	CHECK(cpio_add_data(&w, "b", 0600, "", 0) == 0);
	CHECK(memcmp(sink.buf + 120 + 6, "00000002", 8) == 0); /* second inode */
	CHECK(memcmp(sink.buf + 120 + 14, "00008180", 8) == 0); /* regular 0600 */
}

static void test_char_device_carries_rdev(void)
{
	start(0);
	CHECK(cpio_add_char_dev(&w, "dev/console", 0600, 5, 1) == 0);
	CHECK(memcmp(sink.buf + 14, "00002180", 8) == 0);  /* char device 0600 */
	CHECK(memcmp(sink.buf + 78, "00000005", 8) == 0);  /* rdevmajor */
	CHECK(memcmp(sink.buf + 86, "00000001", 8) == 0);  /* rdevminor */
}

static void test_trailer_pads_archive_to_512(void)
{
	start(0);
	CHECK(cpio_add_symlink(&w, "sbin/init", "/init") == 0);
	CHECK(cpio_finish(&w) == 0);
	CHECK(sink.len == 512);
	CHECK(memmem(sink.buf, sink.len, "TRAILER!!!", 11) != NULL);
}

static void test_bad_names_and_sizes_are_refused(void)
{
	start(0);
	CHECK(cpio_add_dir(&w, "", 0755) == -1);
	CHECK(cpio_add_dir(&w, "///", 0755) == -1);
	CHECK(cpio_add_data(&w, "big", 0644, "", CPIO_MAX_FILE_SIZE + 1) == -1);
	char *long_name = malloc(5000);
	CHECK(long_name != NULL);
	memset(long_name, 'x', 4999);
	long_name[4999] = '\0';
	int rc = cpio_add_dir(&w, long_name, 0755);
	free(long_name);
	CHECK(rc == -1);
	CHECK(sink.len == 0); /* nothing half-written */
}

static void test_sink_failure_is_reported(void)
{
	start(0);
	sink.fail_after = 2;
	CHECK(cpio_add_data(&w, "a", 0644, "data", 4) == -1);
}

static void test_file_that_is_shorter_or_longer_than_announced_fails(void)
{
	int fds[2];
	start(0);
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "abc", 3) == 3);
	close(fds[1]);
	CHECK(cpio_add_fd(&w, "short", 0644, fds[0], 10) == -1);
	close(fds[0]);

	start(0);
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "abcdef", 6) == 6);
	close(fds[1]);
	CHECK(cpio_add_fd(&w, "long", 0644, fds[0], 3) == -1);
	close(fds[0]);

	start(0);
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "abc", 3) == 3);
	close(fds[1]);
	CHECK(cpio_add_fd(&w, "exact", 0644, fds[0], 3) == 0);
	close(fds[0]);
	CHECK(memcmp(sink.buf + 116, "abc\0", 4) == 0);
}

int main(void)
{
	RUN(test_directory_header_is_exact_newc);
	RUN(test_file_data_is_aligned_and_inodes_count_up);
	RUN(test_char_device_carries_rdev);
	RUN(test_trailer_pads_archive_to_512);
	RUN(test_bad_names_and_sizes_are_refused);
	RUN(test_sink_failure_is_reported);
	RUN(test_file_that_is_shorter_or_longer_than_announced_fails);
	return CHECK_EXIT();
}
