/* SPDX-License-Identifier: MIT */
/* Board inventory from sysfs: MTD devices, disks, virtio ports, EEPROM sources. */
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"

/* Reads a one-line sysfs attribute into buf without its trailing newline; 0 or -1. */
static int read_attr(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path) || size == 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Parses a decimal sysfs number; 0 or -1 (empty, trailing junk, overflow). */
static int parse_u64(const char *text, uint64_t *value)
{
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*value = v;
	return 0;
}

static int read_u64_attr(const char *dir, const char *name, uint64_t *value)
{
	char buf[32];
	if (read_attr(dir, name, buf, sizeof(buf)) != 0)
		return -1;
	return parse_u64(buf, value);
}

/* Formats a number for an inventory line, or "?" when it could not be read. */
static const char *fmt_u64(int ok, uint64_t value, char buf[24])
{
	if (!ok)
		return "?";
	snprintf(buf, 24, "%" PRIu64, value);
	return buf;
}

static int is_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Prints one device of a sysfs class (dev is its directory); 1 when it is one, 0 when not. */
typedef int (*print_entry_fn)(FILE *out, const char *dev, const char *name);

/* Each entry of a sysfs class directory, in version order (mtd2 before mtd10); how many
 * were printed (an absent class has none). */
static int print_class(FILE *out, const char *root, const char *class_dir, print_entry_fn print)
{
	char class[PATH_MAX], dev[PATH_MAX + 256];
	int n = snprintf(class, sizeof(class), "%s%s", root, class_dir);
	if (n < 0 || (size_t)n >= sizeof(class))
		return 0;
	struct dirent **e;
	n = scandir(class, &e, is_entry, versionsort);
	int count = 0;
	for (int i = 0; i < n; i++) {
		snprintf(dev, sizeof(dev), "%s/%s", class, e[i]->d_name);
		count += print(out, dev, e[i]->d_name);
		free(e[i]);
	}
	if (n >= 0)
		free(e);
	return count;
}

static int print_mtd(FILE *out, const char *dev, const char *name)
{
	size_t len = strlen(name);
	/* mtdNro is the read-only twin of mtdN, not another device */
	if (strncmp(name, "mtd", 3) != 0 || (len > 2 && strcmp(name + len - 2, "ro") == 0))
		return 0;
	char label[128] = "?", type[32] = "?", b1[24], b2[24];
	uint64_t size = 0, erasesize = 0;
	(void)read_attr(dev, "name", label, sizeof(label));
	(void)read_attr(dev, "type", type, sizeof(type));
	int size_ok = read_u64_attr(dev, "size", &size) == 0;
	int erase_ok = read_u64_attr(dev, "erasesize", &erasesize) == 0;
	fprintf(out, "inventory: mtd %s name=\"%s\" type=%s size=%s erasesize=%s\n", name, label,
		type, fmt_u64(size_ok, size, b1), fmt_u64(erase_ok, erasesize, b2));
	return 1;
}

static int print_block(FILE *out, const char *dev, const char *name)
{
	char probe[PATH_MAX + 512];
	snprintf(probe, sizeof(probe), "%s/partition", dev);
	struct stat st;
	/* partitions are part of a disk's layout, not devices of their own */
	if (stat(probe, &st) == 0)
		return 0;
	uint64_t sectors = 0;
	char b[24];
	/* sysfs gives the size in 512-byte units whatever the logical block size */
	int ok = read_u64_attr(dev, "size", &sectors) == 0 && sectors <= UINT64_MAX / 512;
	fprintf(out, "inventory: block %s size=%s\n", name, fmt_u64(ok, sectors * 512, b));
	return 1;
}

static int print_port(FILE *out, const char *dev, const char *name)
{
	char label[128];
	/* a port without a name is the console, not a link */
	if (read_attr(dev, "name", label, sizeof(label)) != 0)
		label[0] = '\0';
	fprintf(out, "inventory: port %s name=%s\n", name, label[0] ? label : "(none)");
	return 1;
}

/* The EEPROM identify would read (fw_cfg files report size 0 in stat: no size is told). */
static int print_eeprom(FILE *out, const char *root)
{
	char path[PATH_MAX];
	const char *place = discover_eeprom(root, path, sizeof(path));
	if (place)
		fprintf(out, "inventory: eeprom present at %s\n", place);
	else
		fprintf(out, "inventory: eeprom absent\n");
	return place != NULL;
}

int inventory_print(FILE *out, const char *root)
{
	int count = print_class(out, root, "/sys/class/mtd", print_mtd);
	count += print_class(out, root, "/sys/class/block", print_block);
	count += print_class(out, root, "/sys/class/virtio-ports", print_port);
	count += print_eeprom(out, root);
	return count;
}
