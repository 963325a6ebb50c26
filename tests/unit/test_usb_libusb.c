/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the libusb layer and transport as far as they go without a board: port path
 * parsing and writing, the sentences libusb errors become, and that listing and opening with
 * no recovery-mode device attached say so (or, where USB cannot be enumerated at all, as in a
 * container, say that) instead of failing silently.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "usb/usb_libusb.h"
#include "usb/usb_transport.h"
#include "check.h"
#include "error.h"

static const struct usb_id ids[] = {
	{ 0x0955, 0x7023, 0x23, "Jetson AGX Orin 64GB" },
	{ 0x0955, 0x7e19, 0x19, "Jetson Xavier NX" },
};
#define N_IDS (sizeof(ids) / sizeof(ids[0]))

static int mentions(const char *text, const char *part)
{
	if (strstr(text, part))
		return 1;
	fprintf(stderr, "  \"%s\" does not mention \"%s\"\n", text, part);
	return 0;
}

static void test_port_paths_parse(void)
{
	uint8_t bus = 0, ports[7];
	CHECK(usb_parse_port_path("1-2.3", &bus, ports, 7) == 2);
	CHECK(bus == 1 && ports[0] == 2 && ports[1] == 3);
	CHECK(usb_parse_port_path("12-4", &bus, ports, 7) == 1);
	CHECK(bus == 12 && ports[0] == 4);
	CHECK(usb_parse_port_path("3-1.2.3.4.5.6.7", &bus, ports, 7) == 7);
	CHECK(ports[6] == 7);
	CHECK(usb_parse_port_path("255-255", &bus, ports, 7) == 1);
	CHECK(bus == 255 && ports[0] == 255);
}

static void test_bad_port_paths_are_refused(void)
{
	static const char *const bad[] = { "",     "1",     "1-",   "1-2.",  "0-1",
					   "1-0",  "1-256", "256-1", "1-2.x", "a-1",
					   "1-2-3", " 1-2", "1-2 ", "3-1.2.3.4.5.6.7.8" };
	uint8_t bus, ports[7];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		if (usb_parse_port_path(bad[i], &bus, ports, 7) != -1) {
			fprintf(stderr, "  \"%s\" was accepted\n", bad[i]);
			CHECK(0);
		}
		CHECK(mentions(err_msg(), "expected BUS-PORT[.PORT...]"));
	}
}

static void test_port_paths_format(void)
{
	static const uint8_t ports[7] = { 255, 255, 255, 255, 255, 255, 255 };
	char path[USB_PATH_MAX];
	usb_format_port_path(path, 1, (const uint8_t[]){ 2, 3 }, 2);
	CHECK_STR_EQ(path, "1-2.3");
	usb_format_port_path(path, 3, NULL, 0); /* a root hub */
	CHECK_STR_EQ(path, "3-0");
	/* the longest path there can be still fits, and reads back */
	usb_format_port_path(path, 255, ports, 7);
	CHECK_STR_EQ(path, "255-255.255.255.255.255.255.255");
	uint8_t bus = 0, back[7];
	CHECK(usb_parse_port_path(path, &bus, back, 7) == 7);
	CHECK(bus == 255 && memcmp(back, ports, 7) == 0);
}

static void test_libusb_errors_read_as_sentences(void)
{
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_COMPLETED) == 0);
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_NO_DEVICE) == LIBUSB_ERROR_NO_DEVICE);
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_STALL) == LIBUSB_ERROR_PIPE);
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_OVERFLOW) == LIBUSB_ERROR_OVERFLOW);
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_TIMED_OUT) == LIBUSB_ERROR_TIMEOUT);
	CHECK(usb_libusb_transfer_error(LIBUSB_TRANSFER_ERROR) == LIBUSB_ERROR_IO);
	CHECK(mentions(usb_libusb_error_text(LIBUSB_ERROR_NO_DEVICE), "the device went away"));
	CHECK(mentions(usb_libusb_error_text(LIBUSB_ERROR_PIPE), "the device stalled the endpoint"));
	CHECK(mentions(usb_libusb_error_text(LIBUSB_ERROR_IO), "a bad cable"));
	CHECK(mentions(usb_libusb_error_text(LIBUSB_ERROR_NO_MEM), "usbfs_memory_mb"));
	/* nothing to add: libusb's own words */
	CHECK_STR_EQ(usb_libusb_error_text(LIBUSB_ERROR_NOT_SUPPORTED),
		     libusb_strerror(LIBUSB_ERROR_NOT_SUPPORTED));
}

static void test_init_works_or_says_what_is_missing(void)
{
	libusb_context *ctx = NULL;
	err_clear();
	int rc = usb_libusb_init(&ctx);
	if (rc == 0) {
		CHECK(ctx != NULL);
		libusb_exit(ctx);
		return;
	}
	CHECK(rc < 0 && ctx == NULL);
	CHECK(mentions(err_msg(), "cannot enumerate USB devices: libusb_init"));
	CHECK(mentions(err_msg(), "/dev/bus/usb"));
}

static void test_list_without_a_board_says_so(void)
{
	static char text[4096];
	FILE *out = fmemopen(text, sizeof(text), "w");
	CHECK(out != NULL);
	err_clear();
	int n = usb_libusb_list(out, ids, N_IDS);
	fclose(out);
	if (n < 0) {
		/* no USB at all here (e.g. a container without /dev/bus/usb) */
		CHECK(mentions(err_msg(), "cannot enumerate USB devices"));
		printf("# this host cannot enumerate USB: %s\n", err_msg());
	} else if (n == 0) {
		CHECK(mentions(text, "no device in recovery mode found (looked for 0955:7023, "
				     "0955:7e19)"));
		CHECK(mentions(text, "Force Recovery"));
	} else {
		/* a board is attached: one line per device, starting with its port path */
		uint8_t bus, ports[7];
		char path[USB_PATH_MAX];
		CHECK(sscanf(text, "%31s", path) == 1);
		CHECK(usb_parse_port_path(path, &bus, ports, 7) > 0);
	}
}

static void test_open_without_a_board_says_what_to_do(void)
{
	struct usb_transport t;
	err_clear();
	int rc = usb_libusb_open(&t, ids, N_IDS, NULL);
	if (rc == 0) { /* a board is attached; nothing to check here */
		usb_transport_close(&t);
		return;
	}
	CHECK(rc == -1);
	CHECK(t.ops == NULL);
	const char *m = err_msg();
	CHECK(strstr(m, "cannot enumerate USB devices") ||
	      (mentions(m, "no device in recovery mode found") && mentions(m, "Force Recovery")));
}

static void test_open_by_serial_that_is_not_there(void)
{
	struct usb_transport t;
	struct usb_select sel = { NULL, "selfflash-no-such-serial" };
	CHECK(usb_libusb_open(&t, ids, N_IDS, &sel) == -1);
	CHECK(t.ops == NULL);
	const char *m = err_msg();
	CHECK(strstr(m, "cannot enumerate USB devices") || mentions(m, "selfflash-no-such-serial"));
}

static void test_open_by_port_that_is_not_there(void)
{
	struct usb_transport t;
	struct usb_select sel = { "254-7.7.7", NULL };
	CHECK(usb_libusb_open(&t, ids, N_IDS, &sel) == -1);
	const char *m = err_msg();
	CHECK(strstr(m, "cannot enumerate USB devices") ||
	      mentions(m, "no device at USB port 254-7.7.7"));
}

static void test_open_refuses_bad_selections_before_touching_usb(void)
{
	struct usb_transport t;
	struct usb_select both = { "1-2", "abc" };
	CHECK(usb_libusb_open(&t, ids, N_IDS, &both) == -1);
	CHECK(mentions(err_msg(), "not both"));
	struct usb_select bad = { "1-x", NULL };
	CHECK(usb_libusb_open(&t, ids, N_IDS, &bad) == -1);
	CHECK(mentions(err_msg(), "USB port path \"1-x\": expected BUS-PORT"));
}

int main(void)
{
	RUN(test_port_paths_parse);
	RUN(test_bad_port_paths_are_refused);
	RUN(test_port_paths_format);
	RUN(test_libusb_errors_read_as_sentences);
	RUN(test_init_works_or_says_what_is_missing);
	RUN(test_list_without_a_board_says_so);
	RUN(test_open_without_a_board_says_what_to_do);
	RUN(test_open_by_serial_that_is_not_there);
	RUN(test_open_by_port_that_is_not_there);
	RUN(test_open_refuses_bad_selections_before_touching_usb);
	return CHECK_EXIT();
}
