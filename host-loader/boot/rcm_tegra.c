/* SPDX-License-Identifier: MIT */
/* Tegra recovery-mode boot as a whole: check the device, read its id, send the bootrom stage,
 * wait for MB1, send the MB1 stage, each chip in its own order (rcm_internal.h: the files). */
#include "rcm_internal.h"

#include <stdio.h>

#include "error.h"
#include "timing.h"

void rcm_tegra_options_init(struct rcm_tegra_options *o)
{
	o->log = NULL;
	o->mb1_settle_ms = 1000;
	o->mb1_wait_ms = 30000;
	o->timeout_ms = 10000;
	o->nv3p_data_max = RCM_TEGRA_NV3P_DATA_MAX;
}

static int check_options(const struct rcm_tegra_options *o)
{
	if (o->nv3p_data_max == 0 || o->nv3p_data_max > RCM_TEGRA_NV3P_DATA_MAX)
		return err_set("nv3p data packet size %u: expected 1..%u", o->nv3p_data_max,
			       RCM_TEGRA_NV3P_DATA_MAX);
	return 0;
}

int rcm_tegra_send_bootrom_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
				 const struct rcm_tegra_options *o)
{
	if (b->chip == RCM_TEGRA_T234)
		return rcm_t234_send_stage(t, b, o, RCM_TEGRA_STAGE_BOOTROM);
	return rcm_t194_send_bootrom_stage(t, b, o);
}

int rcm_tegra_send_mb1_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			     const struct rcm_tegra_options *o)
{
	if (b->chip == RCM_TEGRA_T234)
		return rcm_t234_send_stage(t, b, o, RCM_TEGRA_STAGE_MB1);
	if (check_options(o) != 0)
		return -1;
	return rcm_t194_send_mb1_stage(t, b, o);
}

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
	rcm_log_step(o, "looking for MB1 at %s again (up to %u ms; it may or may not "
		     "re-enumerate)", t->path, o->mb1_wait_ms);
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
	rcm_log_step(o, "BR_CID %s", id);
	if (rcm_t234_send_stage(t, b, o, RCM_TEGRA_STAGE_BOOTROM) != 0)
		return -1;
	if (wait_for_mb1(t, b, o) != 0)
		return -1;
	char version[RCM_TEGRA_MB1_VERSION_TEXT + 1];
	uint32_t error = 0;
	if (rcm_tegra_read_mb1_version(t, version, &error) != 0)
		return -1;
	rcm_log_step(o, "MB1: version %s, last_boot_error %u", version, error);
	/* NVIDIA's tegrarcm_v2 (R35.3.1 bootloader/tegrarcm_v2, mainT23x: the 68-byte read at
	 * 0x804af5f, " last_boot_error: %u" printed at 0x804afd9) goes on to the next stage
	 * (UpdateRcmState at 0x804b010) without comparing the value with anything: a non-zero
	 * one is told, always (a log or not), and the boot goes on */
	if (error != 0)
		fprintf(o->log ? o->log : stderr,
			"rcm: warning: MB1 (version %s) reports last_boot_error %u (0x%08x), not 0; "
			"NVIDIA's tegrarcm_v2 prints it and carries on, and so does hostload (the "
			"board's UART log says what it means)\n",
			version, error, error);
	return rcm_t234_send_stage(t, b, o, RCM_TEGRA_STAGE_MB1);
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
	rcm_log_step(o, "chip UID %s%s", id, t->dry_run ? " (dry run)" : "");
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
	rcm_log_step(o, "%s: %s (%s), bundle from %s", t->path, dev->name,
		     rcm_tegra_chip_name(b->chip), b->source);
	int rc = b->chip == RCM_TEGRA_T234 ? t234_boot(t, b, o, id) : t194_boot(t, b, o, id);
	if (rc != 0)
		return -1;
	rcm_log_step(o, "boot files sent; the board should now start the selfflash kernel");
	return 0;
}
