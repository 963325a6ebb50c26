/* SPDX-License-Identifier: MIT */
/*
 * The command line of updates, as the board's own system runs it (`selfflash update ...`):
 * settings from /etc/selfflash/selfflash.conf (config.h), a few of them overridable.
 */
#include "cmd_update.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "io.h"
#include "run/update.h"
#include "slot/slot_backend.h"

#define SYSTEM_CONFIG "/etc/selfflash/selfflash.conf"

static void update_usage(FILE *out)
{
	fprintf(out,
		"usage: selfflash update SOURCE [--config FILE] [--dry-run] [--allow-downgrade]\n"
		"                        [--no-delta] [--link-timeout S] [--run-timeout S]\n"
		"                        [--root-partition NAME] [--ca FILE] [--report URL]\n"
		"       selfflash mark-good [--config FILE] [--root-partition NAME] [--restore-other]\n"
		"       selfflash status [--config FILE] [--root-partition NAME] [--efivars DIR]\n"
		"       selfflash doctor [--config FILE] [--root-partition NAME]\n"
		"\n"
		"update writes the slot that is not running and arms it for a trial boot:\n"
		"the package is verified (signature, board, version) before anything is written;\n"
		"the other slot is marked unbootable first, every byte is read back, and arming is\n"
		"the last write, so a power cut at any moment leaves the running slot booting.\n"
		"Chunks the running slot already holds are copied on the board, not fetched.\n"
		"mark-good confirms the running slot; run it on every healthy boot (a T234 takes\n"
		"a try on every boot and gives them back only then): without it the board goes\n"
		"back to the other slot by itself after its tries. status tells both slots'\n"
		"state and how the last update ended. doctor checks everything that would make\n"
		"an update fail without a word and names the fix (exit status 1 on a problem).\n"
		"\n"
		"  SOURCE               a package file, or a link: tcp:HOST:PORT, unix:PATH,\n"
		"                       virtio:PORTNAME, dev:PATH (hostload serve on the host),\n"
		"                       or a URL: http://HOST[:PORT]/PATH, https://... (a web\n"
		"                       server that answers Range requests)\n"
		"  --config FILE        settings (default " SYSTEM_CONFIG "): pubkey,\n"
		"                       target, slot-backend, esp, efivars, boot-tries, rootfs, ...\n"
		"  --dry-run            print the plan, write nothing\n"
		"  --allow-downgrade    accept a package older than the installed system\n"
		"  --no-delta           fetch every chunk (default: copy what the running slot has)\n"
		"  --link-timeout S     give up when the host or web server is gone for S seconds,\n"
		"                       or has answered nothing useful (503s, answers under 1 KiB/s)\n"
		"                       for that long (default 600)\n"
		"  --run-timeout S      a URL: stop fetching S seconds after the update began,\n"
		"                       however the server answers; nothing is armed then\n"
		"                       (default: run-timeout in the config, else 86400)\n"
		"  --ca FILE            trust anchors (PEM) for https:// (default: ca in the config)\n"
		"  --report URL         POST the result as JSON to URL (default: report in the\n"
		"                       config); a report that cannot be sent changes nothing\n"
		"  --root-partition N   the running root's partition name (default: found from /)\n"
		"  --efivars DIR        status: also the T234 boot-chain variables there\n"
		"  --restore-other      mark-good: also make the other slot bootable again when\n"
		"                       the firmware gave up on it (only if its system is sound)\n");
}

enum { OPT_CONFIG = 256, OPT_DRY_RUN, OPT_DOWNGRADE, OPT_NO_DELTA, OPT_TIMEOUT, OPT_RUN_TIMEOUT,
       OPT_ROOT, OPT_EFIVARS, OPT_CA, OPT_REPORT, OPT_RESTORE_OTHER };

static const struct option options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "allow-downgrade", no_argument, NULL, OPT_DOWNGRADE },
	{ "no-delta", no_argument, NULL, OPT_NO_DELTA },
	{ "link-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "run-timeout", required_argument, NULL, OPT_RUN_TIMEOUT },
	{ "root-partition", required_argument, NULL, OPT_ROOT },
	{ "efivars", required_argument, NULL, OPT_EFIVARS },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "restore-other", no_argument, NULL, OPT_RESTORE_OTHER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	const char *config, *root, *efivars, *source, *ca, *report;
	int dry_run, downgrade, no_delta, restore_other;
	unsigned timeout, run_timeout;
	int config_given;
};

/* Parses argv; `allowed` names the options the command takes. 0, 1 (--help) or 2 (usage). */
static int parse(int argc, char **argv, const char *cmd, const char *allowed, int want_source,
		 struct cli *o)
{
	memset(o, 0, sizeof(*o));
	o->config = SYSTEM_CONFIG;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *p = options; p->name; p++)
			if (p->val == opt)
				name = p->name;
		if (opt == 'h') {
			update_usage(stdout);
			return 1;
		}
		if (opt == '?' || !name || !strstr(allowed, name)) {
			fprintf(stderr, "selfflash %s: %s%s is not an option of %s\n", cmd,
				name ? "--" : "", name ? name : "that", cmd);
			update_usage(stderr);
			return 2;
		}
		switch (opt) {
		case OPT_CONFIG: o->config = optarg; o->config_given = 1; break;
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_DOWNGRADE: o->downgrade = 1; break;
		case OPT_NO_DELTA: o->no_delta = 1; break;
		case OPT_ROOT: o->root = optarg; break;
		case OPT_EFIVARS: o->efivars = optarg; break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_REPORT: o->report = optarg; break;
		case OPT_RESTORE_OTHER: o->restore_other = 1; break;
		case OPT_TIMEOUT:
			if (config_seconds(optarg, 86400, &o->timeout) != 0) {
				fprintf(stderr, "selfflash %s: --link-timeout '%s': expected 1..86400 "
						"seconds\n", cmd, optarg);
				return 2;
			}
			break;
		case OPT_RUN_TIMEOUT:
			if (config_seconds(optarg, FLASH_RUN_TIMEOUT_MAX_S, &o->run_timeout) != 0) {
				fprintf(stderr, "selfflash %s: --run-timeout '%s': expected 1..%u "
						"seconds\n", cmd, optarg, FLASH_RUN_TIMEOUT_MAX_S);
				return 2;
			}
			break;
		}
	}
	if (want_source && optind == argc - 1) {
		o->source = argv[optind];
		return 0;
	}
	if (optind != argc) {
		fprintf(stderr, "selfflash %s: %s\n", cmd,
			want_source ? "expected one SOURCE (a package file or a link)"
				    : "takes no arguments");
		update_usage(stderr);
		return 2;
	}
	return 0;
}

/* The board's settings; the EEPROM and chip SKU found the way the flasher's /init finds
 * them when the config names none. 0 or -1. */
static int load(const struct cli *o, struct flasher_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	size_t len;
	char *text = read_small_file(o->config, 65536, &len);
	if (!text)
		return err_prefix("%s (the board's selfflash settings)", o->config);
	int rc = config_parse(text, len, cfg);
	free(text);
	if (rc != 0)
		return err_prefix("%s", o->config);
	struct flash_config *f = &cfg->flash;
	f->log = stdout;
	config_find_board(cfg, "");
	if (o->root)
		f->root_partition = o->root;
	if (o->efivars)
		f->efivars = o->efivars;
	return 0;
}

static int failed(const char *cmd)
{
	fprintf(stderr, "selfflash %s: FAILED: %s\n", cmd, err_msg());
	return 1;
}

int cmd_update(int argc, char **argv)
{
	struct cli o;
	int rc = parse(argc, argv, "update",
		       "config dry-run allow-downgrade no-delta link-timeout run-timeout root-partition "
		       "ca report",
		       1, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	static struct flasher_config cfg;
	if (load(&o, &cfg) != 0)
		return failed("update");
	struct flash_config *f = &cfg.flash;
	f->source = o.source; /* the command line's, whatever the config named */
	f->plan_only = o.dry_run;
	f->allow_downgrade = o.downgrade;
	f->no_delta = f->no_delta || o.no_delta;
	if (o.timeout)
		f->link_timeout_s = o.timeout;
	if (o.run_timeout)
		f->run_timeout_s = o.run_timeout;
	if (o.ca)
		f->ca = o.ca;
	if (o.report)
		f->report_url = o.report;
	if (!f->pubkey && !f->allow_unsigned) {
		err_set("%s names no pubkey: an update is only installed when signed by it",
			o.config);
		return failed("update");
	}
	return update_run(f) == 0 ? 0 : failed("update");
}

int cmd_mark_good(int argc, char **argv)
{
	struct cli o;
	int rc = parse(argc, argv, "mark-good", "config root-partition restore-other", 0, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	static struct flasher_config cfg;
	if (load(&o, &cfg) != 0)
		return failed("mark-good");
	cfg.flash.restore_other = o.restore_other;
	return update_mark_good(&cfg.flash) == 0 ? 0 : failed("mark-good");
}

int cmd_doctor(int argc, char **argv)
{
	struct cli o;
	int rc = parse(argc, argv, "doctor", "config root-partition efivars", 0, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	static struct flasher_config cfg;
	if (load(&o, &cfg) != 0)
		return failed("doctor");
	int problems = 0;
	if (update_doctor(&cfg.flash, stdout, time(NULL), &problems) != 0)
		return failed("doctor");
	printf("selfflash doctor: %d problem%s\n", problems, problems == 1 ? "" : "s");
	return problems ? 1 : 0;
}

int cmd_status(int argc, char **argv)
{
	struct cli o;
	int rc = parse(argc, argv, "status", "config root-partition efivars", 0, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	static struct flasher_config cfg;
	int have_config = o.config_given || access(o.config, F_OK) == 0;
	if (have_config) {
		if (load(&o, &cfg) != 0 || update_status(&cfg.flash, stdout) != 0)
			return failed("status");
	}
	/*
	 * The T234 boot-chain variables in words, where there are some: update_status had a tegra
	 * backend tell them; without a config, or beside another backend (--efivars: "also the
	 * T234 boot-chain variables there"), the tegra backend tells them here.
	 */
	const char *dir = o.efivars ? o.efivars : cfg.flash.efivars;
	if (!have_config && !dir)
		dir = "/sys/firmware/efi/efivars";
	/* update_status found the config's backend in the table already: it is known */
	const int told = have_config && slot_backend_find(cfg.flash.slot_backend) == &slot_backend_tegra;
	if (dir && !told) {
		const struct slot_env env = { .efivars = dir, .log = stdout };
		if (slot_backend_tegra.describe(&env, stdout) != 0)
			return failed("status");
	}
	return 0;
}
