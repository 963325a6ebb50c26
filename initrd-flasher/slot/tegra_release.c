/* SPDX-License-Identifier: MIT */
/* The T234 firmware release from sysfs, and its rules (tegra_release.h). */
#include "tegra_release.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "io.h"

/* Reads up to n decimal digits at *p (at least one); 0 or -1. */
static int digits(const char **p, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;
	while (isdigit((unsigned char)*s) && n < 6) {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || isdigit((unsigned char)*s))
		return -1;
	*out = v;
	*p = s;
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int tegra_release_parse_bios(const char *text, unsigned *major, unsigned *minor, unsigned *patch)
{
	const char *p = text;
	unsigned a, b, c;
	const int tagged = *p == 'r'; /* a build from the edk2-nvidia tag: "r35.3.1-..." */
	if (tagged)
		p++;
	if (digits(&p, &a) != 0 || *p++ != '.' || digits(&p, &b) != 0)
		return -1;
	if (*p == '.') {
		/* "36.2.0-gcid-34956989" (NVIDIA's R36 builds) or "r35.3.1-g1234abc" */
		p++;
		if (digits(&p, &c) != 0 || (*p != '-' && *p != '\0'))
			return -1;
		if (!tagged && strncmp(p, "-gcid-", 6) != 0)
			return -1;
		*major = a, *minor = b, *patch = c;
		return 0;
	}
	/* "3.1-32827747": NVIDIA's R35 builds give the release without its branch (35), then
	 * the GCID (R35.3.1's uefi_jetson.bin) */
	if (tagged || *p != '-' || !all_digits(p + 1))
		return -1;
	*major = 35, *minor = a, *patch = b;
	return 0;
}

int tegra_release_rollback_ends(unsigned major, unsigned minor, unsigned patch)
{
	if (major != 35)
		return major > 35;
	return minor > 4 || (minor == 4 && patch >= 1);
}

/* The first line of a small sysfs file, without its newline; 0, or -1 when unreadable. */
static int read_line(const char *path, char *out, size_t size)
{
	size_t len;
	char *text = read_small_file(path, 4096, &len);
	if (!text)
		return -1;
	size_t n = strcspn(text, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, text, n);
	out[n] = '\0';
	free(text);
	return 0;
}

/* The T234 entry's fw_version among the ESRT entries. */
static void read_esrt(const char *esrt, struct tegra_release *r)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/entries", esrt);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[800], line[64];
		snprintf(path, sizeof(path), "%s/%s/fw_class", dir, de->d_name);
		if (read_line(path, line, sizeof(line)) != 0 || strcasecmp(line, TEGRA_T234_FMP_GUID))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fw_version", dir, de->d_name);
		char *end;
		if (read_line(path, line, sizeof(line)) != 0)
			continue;
		unsigned long v = strtoul(line, &end, 0);
		if (end == line || *end || v > 0xffffffffu)
			continue;
		r->esrt_present = 1;
		r->esrt_version = (uint32_t)v;
		break;
	}
	closedir(d);
}

int tegra_release_read(const char *sysfs, const char *esrt, const char *given,
		       struct tegra_release *r)
{
	memset(r, 0, sizeof(*r));
	if (!sysfs)
		sysfs = "/sys";
	char path[512];
	snprintf(path, sizeof(path), "%s/class/dmi/id/bios_version", sysfs);
	const int have_bios = read_line(path, r->bios_version, sizeof(r->bios_version)) == 0;
	if (esrt) {
		read_esrt(esrt, r);
	} else {
		snprintf(path, sizeof(path), "%s/firmware/efi/esrt", sysfs);
		read_esrt(path, r);
	}
	if (given) {
		const char *p = given[0] == 'r' ? given + 1 : given;
		if (digits(&p, &r->major) != 0 || *p++ != '.' || digits(&p, &r->minor) != 0 ||
		    *p++ != '.' || digits(&p, &r->patch) != 0 || *p)
			return err_set("firmware-release '%s': expected MAJOR.MINOR.PATCH, e.g. 35.4.1",
				       given);
		r->known = 1;
		snprintf(r->source, sizeof(r->source), "firmware-release in the config");
		return 0;
	}
	if (have_bios && tegra_release_parse_bios(r->bios_version, &r->major, &r->minor,
						  &r->patch) == 0) {
		r->known = 1;
		snprintf(r->source, sizeof(r->source), "bios_version \"%s\"", r->bios_version);
		return 0;
	}
	const uint32_t v = r->esrt_version;
	if (r->esrt_present && (v >> 24) == 0 && (v >> 16) >= 30) {
		r->known = 1;
		r->major = v >> 16, r->minor = (v >> 8) & 0xff, r->patch = v & 0xff;
		snprintf(r->source, sizeof(r->source), "ESRT fw_version 0x%06x", (unsigned)v);
	}
	return 0;
}

const char *tegra_release_name(const struct tegra_release *r, char *buf, unsigned size)
{
	if (!r->known)
		return "unknown";
	snprintf(buf, size, "r%u.%u.%u", r->major, r->minor, r->patch);
	return buf;
}
