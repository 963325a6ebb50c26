/* SPDX-License-Identifier: MIT */
/* The flasher's configuration file: its settings in tables, and the board's defaults. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "board/discover.h"
#include "error.h"
#include "link/link_transport.h"
#include "lines.h"

static const char *keep(struct flasher_config *cfg, const char *s, unsigned line)
{
	size_t n = strlen(s) + 1;
	if (n > sizeof(cfg->storage) - cfg->used) {
		err_set("config line %u: too much text", line);
		return NULL;
	}
	char *p = cfg->storage + cfg->used;
	memcpy(p, s, n);
	cfg->used += n;
	return p;
}

int config_seconds(const char *text, unsigned long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (!isdigit((unsigned char)text[0]) || *end || errno || v == 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A USB id: 0x and one to four hex digits, not 0. */
static int usb_id(const char *key, const char *value, unsigned line, uint16_t *id)
{
	size_t n = strlen(value);
	int ok = n > 2 && n <= 6 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
	for (size_t i = 2; ok && i < n; i++)
		ok = isxdigit((unsigned char)value[i]);
	unsigned long v = ok ? strtoul(value + 2, NULL, 16) : 0;
	if (!ok || v == 0)
		return err_set("config line %u: %s takes a 16-bit hex id such as 0x1d6b, not '%s'",
			       line, key, value);
	*id = (uint16_t)v;
	return 0;
}

/* The settings that keep their text: the field of struct flash_config it goes to. */
static const struct text_setting {
	const char *key;
	size_t field;  /* offset of a const char * */
	size_t max;    /* a USB string descriptor's limit; 0: as long as the storage allows */
} text_settings[] = {
	{ "ca", offsetof(struct flash_config, ca), 0 },
	{ "report", offsetof(struct flash_config, report_url), 0 },
	{ "pubkey", offsetof(struct flash_config, pubkey), 0 },
	{ "eeprom", offsetof(struct flash_config, eeprom), 0 },
	{ "chip-sku", offsetof(struct flash_config, chip_sku), 0 },
	{ "chip-sku-file", offsetof(struct flash_config, chip_sku_file), 0 },
	{ "efivars", offsetof(struct flash_config, efivars), 0 },
	{ "slot-backend", offsetof(struct flash_config, slot_backend), 0 },
	{ "esp", offsetof(struct flash_config, esp), 0 },
	{ "esrt", offsetof(struct flash_config, esrt), 0 },
	{ "rootfs", offsetof(struct flash_config, rootfs_name), 0 },
	{ "root-partition", offsetof(struct flash_config, root_partition), 0 },
	{ "mem-device", offsetof(struct flash_config, mem_device), 0 },
	{ "sysfs", offsetof(struct flash_config, sysfs), 0 },
	{ "firmware-release", offsetof(struct flash_config, firmware_release), 0 },
	{ "system-version-file", offsetof(struct flash_config, system_version_file), 0 },
	{ "usb-serial", offsetof(struct flash_config, usb.serial), USB_GADGET_STRING_MAX },
	{ "usb-manufacturer", offsetof(struct flash_config, usb.manufacturer),
	  USB_GADGET_STRING_MAX },
	{ "usb-product-name", offsetof(struct flash_config, usb.product_name),
	  USB_GADGET_STRING_MAX },
};

/* The settings that take one of two words: the field of struct flash_config they set. */
static const struct switch_setting {
	const char *key, *yes, *no;
	size_t field; /* offset of an int */
	int when_yes; /* what the field holds after the first word; the second sets the other */
} switch_settings[] = {
	{ "allow-unsigned", "yes", "no", offsetof(struct flash_config, allow_unsigned), 1 },
	{ "parallel", "on", "off", offsetof(struct flash_config, sequential), 0 },
	{ "delta", "on", "off", offsetof(struct flash_config, no_delta), 0 },
	{ "update-qspi", "yes", "no", offsetof(struct flash_config, update_qspi), 1 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int set_text(struct flasher_config *cfg, const struct text_setting *t, const char *value,
		    unsigned line)
{
	if (t->max && strlen(value) > t->max)
		return err_set("config line %u: %s is %zu characters, a USB string holds at most %zu",
			       line, t->key, strlen(value), t->max);
	const char *kept = keep(cfg, value, line);
	if (!kept)
		return -1;
	*(const char **)((char *)&cfg->flash + t->field) = kept;
	return 0;
}

static int set_switch(struct flasher_config *cfg, const struct switch_setting *w,
		      const char *value, unsigned line)
{
	int yes = strcmp(value, w->yes) == 0;
	if (!yes && strcmp(value, w->no) != 0)
		return err_set("config line %u: %s takes %s or %s", line, w->key, w->yes, w->no);
	*(int *)((char *)&cfg->flash + w->field) = yes ? w->when_yes : !w->when_yes;
	return 0;
}

/* One KEY VALUE line: a row of the tables above, or a setting with a parser of its own. */
static int set(struct flasher_config *cfg, const char *key, const char *value, unsigned line)
{
	for (size_t i = 0; i < COUNT(text_settings); i++)
		if (strcmp(key, text_settings[i].key) == 0)
			return set_text(cfg, &text_settings[i], value, line);
	for (size_t i = 0; i < COUNT(switch_settings); i++)
		if (strcmp(key, switch_settings[i].key) == 0)
			return set_switch(cfg, &switch_settings[i], value, line);
	struct flash_config *f = &cfg->flash;
	/* the package's place: both keys name it, the link's only as a link spec */
	if (strcmp(key, "package") == 0 || strcmp(key, "link") == 0) {
		if (key[0] == 'l' && !link_spec_known(value))
			return err_set("config line %u: link takes a link spec (unix:PATH, "
				       "tcp:HOST:PORT, virtio:NAME, dev:PATH, tty:PATH or "
				       "usb-gadget:[UDC]), not '%s'", line, value);
		cfg->sources++;
		return (f->source = keep(cfg, value, line)) ? 0 : -1;
	}
	if (strcmp(key, "usb-vendor") == 0)
		return usb_id(key, value, line, &f->usb.vendor);
	if (strcmp(key, "usb-product") == 0)
		return usb_id(key, value, line, &f->usb.product);
	if (strcmp(key, "module") == 0) {
		if (cfg->nmodules == CONFIG_MODULES_MAX)
			return err_set("config line %u: more than %d modules", line,
				       CONFIG_MODULES_MAX);
		return (cfg->modules[cfg->nmodules++] = keep(cfg, value, line)) ? 0 : -1;
	}
	if (strcmp(key, "boot-tries") == 0) {
		if (value[0] < '1' || value[0] > '9' || value[1])
			return err_set("config line %u: boot-tries takes 1 to 9, not '%s'", line, value);
		f->boot_tries = value[0] - '0';
		return 0;
	}
	if (strcmp(key, "link-timeout") == 0) {
		if (config_seconds(value, 86400, &f->link_timeout_s) != 0)
			return err_set("config line %u: link-timeout takes seconds, 1 to 86400, not '%s'",
				       line, value);
		return 0;
	}
	if (strcmp(key, "run-timeout") == 0) {
		if (config_seconds(value, FLASH_RUN_TIMEOUT_MAX_S, &f->run_timeout_s) != 0)
			return err_set("config line %u: run-timeout takes seconds, 1 to %u, not '%s'",
				       line, FLASH_RUN_TIMEOUT_MAX_S, value);
		return 0;
	}
	if (strcmp(key, "on-failure") == 0) {
		if (strcmp(value, "wait") == 0)
			cfg->on_failure = ON_FAILURE_WAIT;
		else if (strcmp(value, "halt") == 0)
			cfg->on_failure = ON_FAILURE_HALT;
		else if (strcmp(value, "poweroff") == 0)
			cfg->on_failure = ON_FAILURE_POWEROFF;
		else
			return err_set("config line %u: on-failure takes wait, halt or poweroff", line);
		return 0;
	}
	if (strcmp(key, "target") == 0) {
		char type[32];
		const char *sp = strchr(value, ' ');
		if (!sp || (size_t)(sp - value) >= sizeof(type) || f->ntargets == PKG_MAX_TARGETS)
			return err_set("config line %u: expected: target TYPE SPEC", line);
		memcpy(type, value, (size_t)(sp - value));
		type[sp - value] = '\0';
		while (*sp == ' ')
			sp++;
		const char *t = keep(cfg, type, line), *s = keep(cfg, sp, line);
		if (!t || !s)
			return -1;
		f->targets[f->ntargets++] = (struct flash_target_spec){ t, s };
		return 0;
	}
	return err_set("config line %u: unknown setting '%s'", line, key);
}

static int config_line(char *s, unsigned line, void *ctx)
{
	char *sp = s;
	while (*sp && !isspace((unsigned char)*sp))
		sp++;
	if (!*sp)
		return err_set("config line %u: '%s' has no value", line, s);
	*sp++ = '\0';
	while (isspace((unsigned char)*sp))
		sp++;
	return set(ctx, s, sp, line);
}

int config_parse(const char *text, size_t len, struct flasher_config *cfg)
{
	return text_each_line(text, len, "config", 1023, config_line, cfg);
}

void config_find_board(struct flasher_config *cfg, const char *root)
{
	struct flash_config *f = &cfg->flash;
	if (!f->eeprom && discover_eeprom(root, cfg->found_eeprom, sizeof(cfg->found_eeprom)))
		f->eeprom = cfg->found_eeprom;
	if (!f->chip_sku && !f->chip_sku_file &&
	    discover_chip_sku_file(root, cfg->found_chip_sku, sizeof(cfg->found_chip_sku)))
		f->chip_sku_file = cfg->found_chip_sku;
}
