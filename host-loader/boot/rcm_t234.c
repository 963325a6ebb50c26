/* SPDX-License-Identifier: MIT */
/*
 * T234 recovery-mode boot, the path for every recovery-mode product except 0x7019 and 0x7e19
 * (DESIGN.md §6): the chip UID by a control request, both stages raw, MB1's version between.
 *
 * Where each fact comes from (none of this has been tried on a board):
 * - The two tegrarcm_v2 runs and their file order: NVIDIA's tegraflash_impl_t234.py,
 *   tegraflash_send_to_bootrom() ("--new_session --chip 0x23 0 --uid --download bct_br
 *   --download mb1 --download psc_bl1 --download bct_mb1") and tegraflash_send_to_bootloader()
 *   ("--pollbl --download bct_mem MEM_BCT --download blob blob.bin"), which rcmboot calls
 *   (read in the L4T bootloader/ folder as mirrored in Seeed-Studio/Linux_for_Tegra).
 *   Its rcmbootcmd.txt names the files; secure-boot bundles rename them, hence the parse.
 * - What each tegrarcm_v2 option does on the wire (UID by GET_DESCRIPTOR string 3 read
 *   backwards; 16 KiB raw pieces, 5 s each, no zero-length packet, no status read; "NVDA"
 *   at the start of mb1/psc_bl1/bct_mb1; --pollbl as one 96-byte read bringing a 64-byte
 *   version and u32 last_boot_error; bct_mem and blob raw): DESIGN.md §6, from reading the
 *   tegrarcm_v2 binary instruction by instruction. No public source or USB capture was found
 *   to cite for these, so every step is printed by --dry-run and logged.
 * - Whether the device re-enumerates between the two runs is unconfirmed: it is looked for
 *   again at the same bus port, and a device that stayed is just as good (§6 step 7).
 */
#include "rcm_internal.h"

#include <stdio.h>

#include "error.h"
#include "le.h"

static int hex_digit(uint16_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int rcm_tegra_read_cid(struct usb_transport *t, char text[RCM_TEGRA_ID_TEXT])
{
	uint8_t desc[RCM_TEGRA_CID_LENGTH];
	size_t got = 0;
	snprintf(text, RCM_TEGRA_ID_TEXT, "(dry run)");
	if (!t->ops->control_in)
		return err_set("%s: this USB transport cannot make control transfers", t->path);
	if (t->ops->control_in(t, RCM_TEGRA_CID_REQUEST_TYPE, RCM_TEGRA_CID_REQUEST,
			       RCM_TEGRA_CID_VALUE, RCM_TEGRA_CID_INDEX, desc, sizeof(desc),
			       RCM_TEGRA_T234_TIMEOUT_MS, &got,
			       "GET_DESCRIPTOR string 3: chip UID") != 0)
		return err_prefix("%s: no chip UID from the bootrom (if another program talked to "
				  "the board since it entered recovery mode, put it into recovery "
				  "mode again)", t->path);
	if (t->dry_run)
		return 0;
	/* a string descriptor: bLength, bDescriptorType 3, then UTF-16LE characters */
	size_t want = 2 + 2 * RCM_TEGRA_CID_DIGITS;
	if (got < want || desc[0] < want || desc[0] > got || desc[1] != 3)
		return err_set("%s: chip UID: expected string descriptor 3 of %zu bytes holding %d "
			       "hex digits, got %zu bytes (bLength %u, type %u)", t->path, want,
			       RCM_TEGRA_CID_DIGITS, got, got ? desc[0] : 0, got > 1 ? desc[1] : 0);
	if (desc[0] != want)
		return err_set("%s: chip UID: string of %u characters, expected %d hex digits",
			       t->path, (unsigned)(desc[0] - 2) / 2, RCM_TEGRA_CID_DIGITS);
	text[0] = '0';
	text[1] = 'x';
	for (int i = 0; i < RCM_TEGRA_CID_DIGITS; i++) {
		/* the characters in reverse order give the BR_CID NVIDIA's tools print */
		const uint8_t *c = desc + 2 + 2 * (RCM_TEGRA_CID_DIGITS - 1 - i);
		uint16_t ch = (uint16_t)(c[0] | c[1] << 8);
		if (!hex_digit(ch))
			return err_set("%s: chip UID: character %d is U+%04X, expected a hex digit",
				       t->path, RCM_TEGRA_CID_DIGITS - 1 - i, ch);
		text[2 + i] = (char)(ch >= 'a' ? ch - 'a' + 'A' : ch);
	}
	text[2 + RCM_TEGRA_CID_DIGITS] = '\0';
	return 0;
}

int rcm_tegra_read_mb1_version(struct usb_transport *t,
			       char version[RCM_TEGRA_MB1_VERSION_TEXT + 1], uint32_t *error)
{
	uint8_t buf[RCM_TEGRA_MB1_VERSION_ASK];
	size_t got = 0;
	*error = 0;
	snprintf(version, RCM_TEGRA_MB1_VERSION_TEXT + 1, "(dry run)");
	if (t->ops->bulk_in(t, buf, sizeof(buf), RCM_TEGRA_T234_TIMEOUT_MS, &got,
			    "MB1 version and last_boot_error (68 bytes expected)") != 0)
		return err_prefix("%s: no answer from MB1 after the bootrom stage (did the bootrom "
				  "accept the files? the board's UART log says why)", t->path);
	if (t->dry_run)
		return 0;
	if (got != RCM_TEGRA_MB1_VERSION_LEN)
		return err_set("%s: MB1 answered %zu bytes, expected %u (a 64-byte version and a "
			       "u32 last_boot_error)", t->path, got, RCM_TEGRA_MB1_VERSION_LEN);
	size_t i = 0;
	for (; i < RCM_TEGRA_MB1_VERSION_TEXT && buf[i]; i++)
		version[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '?';
	version[i] = '\0';
	*error = le32_load(buf + RCM_TEGRA_MB1_VERSION_TEXT);
	return 0;
}

int rcm_t234_send_stage(struct usb_transport *t, const struct rcm_tegra_bundle *b,
			const struct rcm_tegra_options *o, enum rcm_tegra_stage stage)
{
	/* one file, raw, in pieces: the whole of a T234 transfer (§6 steps 4 and 6) */
	for (unsigned i = 0; i < b->count; i++)
		if (b->files[i].stage == stage &&
		    rcm_send_file(t, b, &b->files[i], o, RCM_TEGRA_T234_TIMEOUT_MS) != 0)
			return -1;
	return 0;
}
