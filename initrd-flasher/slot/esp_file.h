/* SPDX-License-Identifier: MIT */
/*
 * Files on the ESP changed so that a power cut leaves the old or the new version, never a
 * mix: a new file is written under a temporary name, fsync'ed, renamed over the old one, and
 * the directory fsync'ed. Each function records a message naming the file on failure and
 * returns -1; 0 on success. Directories are descriptors the caller owns.
 */
#ifndef SELFFLASH_ESP_FILE_H
#define SELFFLASH_ESP_FILE_H

#include <stddef.h>

/*
 * Writes len bytes of buf as tmp_name in dir, fsyncs it, renames it to name and fsyncs dir.
 * label names dir in messages ("selfflash/slot-b").
 */
/* Renames from to to in dir, then fsyncs the renamed file and the directory (FAT writes a
 * renamed file's size and cluster only with its inode). 0 or -1 naming the file. */
int esp_file_rename(int dir, const char *label, const char *from, const char *to);

int esp_file_replace(int dir, const char *label, const char *tmp_name, const char *name,
		     const void *buf, size_t len);

/* Removes name from dir when it is there (a missing file is not an error); no fsync. */
int esp_file_remove(int dir, const char *label, const char *name);

/* fsync of a directory, so the renames and removals in it survive a power cut. */
int esp_dir_sync(int dir, const char *label);

/*
 * Opens the directory name in parent, making it (and fsyncing parent) when it is missing.
 * *fd gets the descriptor the caller closes.
 */
int esp_dir_open_made(int parent, const char *label, const char *name, int *fd);

/*
 * Reads the regular file name of dir (not a symlink) into buf when it holds at most max
 * bytes; *len gets its length. label names it in messages.
 */
int esp_file_read_small(int dir, const char *name, const char *label, char *buf, size_t max,
			size_t *len);

/* Reads path back and compares it with len bytes of want: 0 when equal, else -1 saying so. */
int esp_file_check_same(const char *path, const void *want, size_t len);

#endif
