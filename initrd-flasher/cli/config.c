/* SPDX-License-Identifier: MIT */
/* The flasher's configuration file. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "board/discover.h"
#include "error.h"
#include "net/http_parse.h"
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

static int set(struct flasher_config *cfg, const char *key, const char *value, unsigned line)
{
	struct flash_config *f = &cfg->flash;
	const char **str = NULL;
	if (strcmp(key, "package") == 0)
		str = http_url_is(value) ? &f->url : &f->package;
	else if (strcmp(key, "ca") == 0)
		str = &f->ca;
	else if (strcmp(key, "report") == 0)
		str = &f->report_url;
	else if (strcmp(key, "link") == 0)
		str = &f->link;
	else if (strcmp(key, "pubkey") == 0)
		str = &f->pubkey;
	else if (strcmp(key, "eeprom") == 0)
		str = &f->eeprom;
	else if (strcmp(key, "chip-sku") == 0)
		str = &f->chip_sku;
	else if (strcmp(key, "chip-sku-file") == 0)
		str = &f->chip_sku_file;
	else if (strcmp(key, "efivars") == 0)
		str = &f->efivars;
	else if (strcmp(key, "slot-backend") == 0)
		str = &f->slot_backend;
	else if (strcmp(key, "esp") == 0)
		str = &f->esp;
	else if (strcmp(key, "rootfs") == 0)
		str = &f->rootfs_name;
	else if (strcmp(key, "root-partition") == 0)
		str = &f->root_partition;
	else if (strcmp(key, "usb-serial") == 0)
		str = &f->usb.serial;
	else if (strcmp(key, "usb-manufacturer") == 0)
		str = &f->usb.manufacturer;
	else if (strcmp(key, "usb-product-name") == 0)
		str = &f->usb.product_name;
	if (str && strncmp(key, "usb-", 4) == 0 && strlen(value) > USB_GADGET_STRING_MAX)
		return err_set("config line %u: %s is %zu characters, a USB string holds at most %d",
			       line, key, strlen(value), USB_GADGET_STRING_MAX);
	if (str)
		return (*str = keep(cfg, value, line)) ? 0 : -1;
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
	if (strcmp(key, "allow-unsigned") == 0) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return err_set("config line %u: allow-unsigned takes yes or no", line);
		f->allow_unsigned = strcmp(value, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "parallel") == 0) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			return err_set("config line %u: parallel takes on or off", line);
		f->sequential = strcmp(value, "off") == 0;
		return 0;
	}
	if (strcmp(key, "delta") == 0) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			return err_set("config line %u: delta takes on or off", line);
		f->no_delta = strcmp(value, "off") == 0;
		return 0;
	}
	if (strcmp(key, "update-qspi") == 0) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return err_set("config line %u: update-qspi takes yes or no", line);
		f->update_qspi = strcmp(value, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "boot-tries") == 0) {
		if (value[0] < '1' || value[0] > '9' || value[1])
			return err_set("config line %u: boot-tries takes 1 to 9, not '%s'", line, value);
		f->boot_tries = value[0] - '0';
		return 0;
	}
	if (strcmp(key, "link-timeout") == 0) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end || v == 0 || v > 86400)
			return err_set("config line %u: link-timeout takes seconds, 1 to 86400, not '%s'",
				       line, value);
		f->link_timeout_s = (unsigned)v;
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
