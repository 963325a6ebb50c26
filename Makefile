# SPDX-License-Identifier: MIT
# selfflash: the one entry point. `make help` lists the targets.
#
# Slow inputs (the kernel, the four libraries) are built by scripts under scripts/ and qemu/
# into a cache outside the checkout (SELFFLASH_CACHE, default ~/.cache/selfflash), keyed by
# their exact inputs. Each script runs on every make and returns at once when its cache entry
# exists; it touches its stamp in build/stamps/ only when the key changed, so nothing that
# depends on it is rebuilt otherwise.

BUILD ?= build
VERSION := $(shell cat VERSION)

A64_CC ?= aarch64-linux-musl-gcc
HOST_CC ?= cc
CLANG ?= clang

# -Wdate-time: __DATE__/__TIME__ would make two builds of one commit differ (the reproducibility
# test builds the flasher and the initrd twice and compares the bytes)
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wdate-time
COMMON_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -DSELFFLASH_VERSION='"$(VERSION)"' \
	-Icommon -MMD -MP -pthread
A64_SYSROOT := $(BUILD)/sysroot-aarch64
HOST_SYSROOT := $(BUILD)/sysroot-host
A64_CFLAGS := $(COMMON_CFLAGS) -Os -ffunction-sections -fdata-sections \
	-isystem $(A64_SYSROOT)/include -isystem $(BUILD)/linux-headers/include
A64_LDFLAGS := -static -Wl,--gc-sections -L$(A64_SYSROOT)/lib
HOST_CFLAGS := $(COMMON_CFLAGS) -O2 -g -isystem $(HOST_SYSROOT)/include
HOST_LDFLAGS := -L$(HOST_SYSROOT)/lib
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# the unit tests that run threads (pipeline, read-back, keepalive, gadget reader, mkflashpkg's
# chunk workers) also under TSan
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
LIBS := -lblkid -lmtd -lbearssl -lzstd -lz

STAMPS := $(BUILD)/stamps
KERNEL := $(BUILD)/kernel/Image
# the same kernel with the flasher's drivers as modules, and its module tree beside it
KERNEL_MODULAR := $(BUILD)/kernel-modular/Image
INITRD := $(BUILD)/selfflash.cpio.gz

# ---- sources ---------------------------------------------------------------------------
COMMON_SRCS := $(wildcard common/*.c)
# SHA-256: the interface and its backends (each backend file is empty on other CPUs)
SHA256_SRCS := common/sha256.c common/sha256_x86.c common/sha256_arm.c
# CRC-32: the interface and its backends (each backend file is empty on other CPUs)
CRC32_SRCS := common/crc32.c common/crc32_x86.c common/crc32_arm.c
# the RCM blob is the host tools' business: the flasher never sees one
FLASHER_SRCS := $(wildcard initrd-flasher/*/*.c) $(filter-out common/rcm_blob.c,$(COMMON_SRCS))
MKINITRD_SRCS := $(wildcard mkinitrd/*.c) common/bootimg.c common/error.c
MKFLASHPKG_SRCS := $(wildcard mkflashpkg/*.c) $(COMMON_SRCS)
LINK_SRCS := common/frame.c common/link_msg.c common/link_io.c common/error.c common/timing.c $(CRC32_SRCS)
# the usb: link (link_usb_internal.h lists its layers)
LINK_USB_SRCS := host-loader/serve/link_usb_listen.c host-loader/serve/link_usb_scan.c \
	host-loader/serve/link_usb_libusb.c host-loader/serve/link_usb_bridge.c \
	host-loader/serve/link_usb_in.c host-loader/serve/link_usb_out.c host-loader/serve/link_usb_spec.c
# what hostload shows: the report, its rates and its progress line
REPORT_SRCS := host-loader/report/report.c host-loader/report/report_show.c \
	host-loader/report/rate_window.c host-loader/report/bar.c
# the range server: start and stop, the links, one thread per board (serve_internal.h)
SERVE_SRCS := host-loader/serve/serve.c host-loader/serve/serve_listen.c \
	host-loader/serve/serve_connection.c
HOSTLOAD_SRCS := host-loader/cli/main.c $(SERVE_SRCS) $(REPORT_SRCS) \
	host-loader/boot/boot_qemu.c $(LINK_SRCS) \
	common/pkg.c $(LINK_USB_SRCS) host-loader/usb/usb_libusb.c host-loader/usb/usb_path.c
# Tegra RCM boot: the whole boot, each chip's path, sending, the bundle, the chips (rcm_internal.h)
RCM_TEGRA_SRCS := host-loader/boot/rcm_tegra.c host-loader/boot/rcm_t234.c \
	host-loader/boot/rcm_t194.c host-loader/boot/rcm_send.c host-loader/boot/rcm_bundle.c \
	host-loader/boot/rcm_chip.c
# Tegra RCM boot over USB (libusb for boards, a printer for --dry-run); needs common/error.c,
# common/io.c, common/lines.c and $(HOSTLOAD_USB_LIBS) at link time
HOSTLOAD_USB_SRCS := $(RCM_TEGRA_SRCS) host-loader/usb/usb_libusb_transport.c \
	host-loader/usb/usb_libusb.c host-loader/usb/usb_dryrun.c host-loader/usb/usb_path.c \
	common/rcm_blob.c common/bootimg.c
HOSTLOAD_USB_LIBS := -lusb-1.0
# hostload itself: the QEMU and the Tegra backends, `list`
HOSTLOAD_SRCS := $(sort $(HOSTLOAD_SRCS) host-loader/cli/cmd.c host-loader/cli/cmd_usb.c \
	$(HOSTLOAD_USB_SRCS) common/io.c common/lines.c)
# unit test name -> the modules it tests
TEST_inventory_SRCS := tests/unit/test_inventory.c initrd-flasher/board/inventory.c \
	initrd-flasher/board/discover.c
TEST_cpio_SRCS := tests/unit/test_cpio.c mkinitrd/cpio.c
TEST_pkg_SRCS := tests/unit/test_pkg.c $(COMMON_SRCS) mkflashpkg/sign.c
TEST_layout_SRCS := tests/unit/test_layout.c mkflashpkg/layout.c mkflashpkg/xml.c common/error.c common/lines.c \
	common/pkg.c common/slot_name.c $(SHA256_SRCS)
TEST_pkgfile_SRCS := tests/unit/test_pkgfile.c $(filter-out mkflashpkg/main.c,$(MKFLASHPKG_SRCS))
# counts the manifest decoder's calls: it must never see bytes whose signature failed
TEST_pkgfile_LIBS := -Wl,--wrap=pkg_manifest_decode
TEST_build_jobs_SRCS := tests/unit/test_build_jobs.c $(filter-out mkflashpkg/main.c,$(MKFLASHPKG_SRCS))
# reads fail on demand: a worker's error must stop the build and leave no file
TEST_build_jobs_LIBS := -Wl,--wrap=io_pread_all
# module trees (modules.dep, modules.builtin) and the flasher's drivers per platform
TEST_kmods_SRCS := tests/unit/test_kmods.c mkflashpkg/kmods.c mkflashpkg/l4t_modules.c \
	common/error.c common/io.c common/lines.c
TEST_identify_SRCS := tests/unit/test_identify.c common/identify.c common/io.c common/pkg.c \
	common/error.c $(SHA256_SRCS)
# the write loop and what it runs on: writers, read-back, chunk reader, pipeline, delta
WRITE_PATH_SRCS := initrd-flasher/write/write.c initrd-flasher/write/write_image.c initrd-flasher/write/write_nor.c \
	initrd-flasher/write/write_block.c initrd-flasher/write/target_kind.c initrd-flasher/write/write_spool.c \
	initrd-flasher/write/readback.c initrd-flasher/write/image_reader.c initrd-flasher/write/pipeline.c \
	initrd-flasher/source/source.c initrd-flasher/write/locate.c initrd-flasher/target/target_medium.c
TEST_write_SRCS := tests/unit/test_write.c initrd-flasher/target/target_file.c $(WRITE_PATH_SRCS) \
	initrd-flasher/source/source_file.c $(filter-out mkflashpkg/main.c,$(MKFLASHPKG_SRCS))
# placing partitions and the disk GPT (with the write path: plan asks the table of target kinds)
TEST_plan_gpt_SRCS := $(sort tests/unit/test_plan_gpt.c initrd-flasher/run/plan.c initrd-flasher/write/gpt.c \
	$(wildcard initrd-flasher/target/*.c) $(WRITE_PATH_SRCS) \
	initrd-flasher/cli/config.c initrd-flasher/board/discover.c $(wildcard initrd-flasher/link/*.c) \
	initrd-flasher/board/usb_gadget.c $(COMMON_SRCS))
# the QSPI GPT stage with NVIDIA's R35.3.1 layout (mkflashpkg's layout reader places it)
TEST_qspi_gpt_SRCS := tests/unit/test_qspi_gpt.c initrd-flasher/write/gpt.c initrd-flasher/write/gpt_write.c \
	$(WRITE_PATH_SRCS) mkflashpkg/layout.c mkflashpkg/xml.c $(COMMON_SRCS)
TEST_frame_SRCS := tests/unit/test_frame.c $(LINK_SRCS)
TEST_link_SRCS := tests/unit/test_link.c $(wildcard initrd-flasher/link/*.c) initrd-flasher/board/usb_gadget.c \
	$(SERVE_SRCS) \
	$(REPORT_SRCS) $(LINK_SRCS) common/pkg.c $(SHA256_SRCS) \
	$(LINK_USB_SRCS) host-loader/usb/usb_path.c host-loader/usb/usb_libusb.c
TEST_link_LIBS := $(HOSTLOAD_USB_LIBS)
TEST_link_usb_SRCS := tests/unit/test_link_usb.c $(LINK_USB_SRCS) host-loader/usb/usb_path.c \
	host-loader/usb/usb_libusb.c $(SERVE_SRCS) $(REPORT_SRCS) $(LINK_SRCS) common/pkg.c $(SHA256_SRCS)
TEST_link_usb_LIBS := $(HOSTLOAD_USB_LIBS)
TEST_usb_gadget_SRCS := tests/unit/test_usb_gadget.c initrd-flasher/board/usb_gadget.c \
	initrd-flasher/board/modules.c initrd-flasher/cli/config.c initrd-flasher/board/discover.c \
	initrd-flasher/net/http_url.c initrd-flasher/net/tls_name.c common/identify.c \
	$(wildcard initrd-flasher/link/*.c) common/io.c common/lines.c common/pkg.c $(LINK_SRCS) \
	$(SHA256_SRCS)
TEST_sha256_SRCS := tests/unit/test_sha256.c $(SHA256_SRCS) common/error.c
TEST_crc32_SRCS := tests/unit/test_crc32.c $(CRC32_SRCS) common/error.c
TEST_rcm_tegra_SRCS := tests/unit/test_rcm_tegra.c $(RCM_TEGRA_SRCS) host-loader/usb/usb_dryrun.c \
	common/error.c common/io.c common/lines.c common/timing.c
TEST_rcm_blob_SRCS := tests/unit/test_rcm_blob.c common/rcm_blob.c common/bootimg.c \
	common/error.c
TEST_usb_libusb_SRCS := tests/unit/test_usb_libusb.c host-loader/usb/usb_libusb_transport.c \
	host-loader/usb/usb_libusb.c host-loader/usb/usb_path.c common/error.c common/timing.c
TEST_usb_libusb_LIBS := $(HOSTLOAD_USB_LIBS)
TEST_sparse_SRCS := tests/unit/test_sparse.c mkflashpkg/sparse.c common/error.c $(CRC32_SRCS)
# the progress report on a fake clock: rate window, ETA, the line's text, JSON and plain events
TEST_report_SRCS := tests/unit/test_report.c $(REPORT_SRCS) common/link_msg.c common/error.c \
	common/timing.c
# every slot backend (the tests of one link them all: the table names both)
SLOT_SRCS := $(wildcard initrd-flasher/slot/*.c) common/capsule.c common/version_text.c
# capsules read as hostile bytes, and every ESRT status in words
TEST_capsule_SRCS := tests/unit/test_capsule.c tests/unit/capsule_fixture.c common/capsule.c \
	initrd-flasher/slot/capsule_status.c common/error.c
# the capsule staged on an ESP directory, power cut after every step, and applied by a model of
# edk2-nvidia's capsule-on-disk (tests/unit/t234_model_capsule.c)
TEST_tegra_capsule_SRCS := tests/unit/test_tegra_capsule.c tests/unit/t234_model_capsule.c \
	tests/unit/capsule_fixture.c $(SLOT_SRCS) common/error.c common/io.c
TEST_tegra_capsule_LIBS := -Wl,--wrap=bootslot_var_write -Wl,--wrap=bootslot_var_remove \
	-Wl,--wrap=renameat,--wrap=tegra_scratch_write
# the tegra slot backend against a model of the T234 firmware; every variable write and removal
# goes through a counter, so the power can be cut after any of them
TEST_slot_tegra_SRCS := tests/unit/test_slot_tegra.c tests/unit/t234_model.c tests/unit/t234_harness.c \
	tests/unit/t234_model_capsule.c $(SLOT_SRCS) \
	common/error.c common/io.c
TEST_slot_tegra_LIBS := -Wl,--wrap=bootslot_var_write -Wl,--wrap=bootslot_var_remove \
	-Wl,--wrap=tegra_scratch_write
# the same model release by release: reboots, rollbacks, first flashes, random sequences
TEST_t234_release_SRCS := tests/unit/test_t234_release.c tests/unit/t234_model.c \
	tests/unit/t234_harness.c tests/unit/t234_model_capsule.c $(SLOT_SRCS) common/error.c \
	common/io.c
TEST_t234_release_LIBS := $(TEST_slot_tegra_LIBS)
# an update carrying its boot firmware as a capsule, lived through on the same model
TEST_t234_capsule_SRCS := tests/unit/test_t234_capsule.c tests/unit/t234_model.c \
	tests/unit/t234_harness.c tests/unit/t234_model_capsule.c tests/unit/capsule_fixture.c \
	$(SLOT_SRCS) common/error.c common/io.c
TEST_t234_capsule_LIBS := $(TEST_slot_tegra_LIBS)
# the systemd-boot slot backend against a model of systemd-boot 252; its file operations are
# wrapped so a power cut can come after any of them
TEST_slot_sdboot_SRCS := tests/unit/test_slot_sdboot.c tests/unit/sdboot_model.c $(SLOT_SRCS) \
	common/error.c common/io.c
TEST_slot_sdboot_LIBS := -Wl,--wrap=write,--wrap=renameat,--wrap=unlinkat,--wrap=fsync,--wrap=mkdirat
# what an update writes: slot names, twins, the selection, the write guard, the board's QSPI
# GPT read as hostile input (with the write path: the table of target kinds it asks names the
# writers; the GPT builder makes the tables it reads)
TEST_update_plan_SRCS := $(sort tests/unit/test_update_plan.c initrd-flasher/run/update_plan.c \
	initrd-flasher/run/update_layout.c initrd-flasher/run/update_qspi.c \
	initrd-flasher/write/gpt.c initrd-flasher/write/gpt_write.c \
	initrd-flasher/target/target_guard.c initrd-flasher/target/target_file.c $(WRITE_PATH_SRCS) \
	$(COMMON_SRCS))
# the HTTP client: its parsers with hostile inputs, range fetches against canned answers
TLS_ANCHORS_SRCS := initrd-flasher/net/tls_anchors.c initrd-flasher/net/tls_error.c common/error.c common/io.c
# the TLS client: the connection, the X.509 check, the name rules, the anchors
TLS_SRCS := initrd-flasher/net/tls.c initrd-flasher/net/tls_x509.c initrd-flasher/net/tls_name.c \
	$(TLS_ANCHORS_SRCS)
TEST_http_SRCS := tests/unit/test_http.c initrd-flasher/net/http_parse.c initrd-flasher/net/http_url.c \
	initrd-flasher/net/tls_name.c common/error.c
# the client against canned answers: retries, deadlines, refusals
TEST_http_get_SRCS := tests/unit/test_http_get.c initrd-flasher/net/http.c initrd-flasher/net/http_read.c \
	initrd-flasher/net/http_parse.c initrd-flasher/net/http_url.c initrd-flasher/net/net_tcp.c \
	$(TLS_SRCS) common/timing.c
# the PEM bundle loader of the https source
TEST_tls_anchors_SRCS := tests/unit/test_tls_anchors.c $(TLS_ANCHORS_SRCS)
# the TLS client against openssl s_server (tests/host/tls_client.sh)
TLS_PROBE_SRCS := tests/unit/tls_probe.c initrd-flasher/net/net_tcp.c $(TLS_SRCS) common/timing.c
# a hostile server for it that sends empty TLS records for ever (BearSSL's server API)
TLS_EMPTY_SERVER_SRCS := tests/unit/tls_empty_server.c
# the RFC 6125 name rules of the TLS client, by known answers
TEST_tls_name_SRCS := tests/unit/test_tls_name.c initrd-flasher/net/tls_name.c common/error.c
# the edk2 variable store reader the first flash reports a stale store with
TEST_efi_varstore_SRCS := tests/unit/test_efi_varstore.c initrd-flasher/board/efi_varstore.c common/error.c
# timing models of file targets: the spec's model parameters, the modelled times, the queue
TEST_target_model_SRCS := tests/unit/test_target_model.c $(wildcard initrd-flasher/target/*.c) \
	common/error.c common/io.c common/timing.c
# zstd chunks: a round trip and every hostile frame refused by name
TEST_zstd_SRCS := tests/unit/test_zstd.c common/chunk.c common/chunk_zstd.c common/error.c \
	$(SHA256_SRCS) $(CRC32_SRCS)
UNIT_TESTS := zstd inventory cpio pkg layout pkgfile build_jobs identify write plan_gpt qspi_gpt sha256 \
	frame link rcm_tegra rcm_blob usb_libusb crc32 link_usb usb_gadget sparse report slot_tegra \
	slot_sdboot update_plan http http_get tls_anchors tls_name kmods t234_release t234_capsule \
	efi_varstore capsule tegra_capsule target_model
BENCH_hash_SRCS := tests/bench/bench_hash.c $(SHA256_SRCS) $(CRC32_SRCS) common/error.c
# the chunk codecs' decode speed alone (the board's decoders, no hashing)
BENCH_codec_SRCS := tests/bench/bench_codec.c $(COMMON_SRCS)
ALL_SRCS := $(sort $(FLASHER_SRCS) $(MKINITRD_SRCS) $(MKFLASHPKG_SRCS) $(HOSTLOAD_SRCS) \
	$(foreach t,$(UNIT_TESTS),$(TEST_$(t)_SRCS)) $(TLS_PROBE_SRCS) $(TLS_EMPTY_SERVER_SRCS) $(BENCH_hash_SRCS) $(BENCH_codec_SRCS) tests/bench/sockcopy.c \
	tests/bench/relay.c tests/bench/guest_copy.c tests/e2e/usb_launcher.c)

# ---- object rules, one per variant -----------------------------------------------------
# Only the flasher's own files and the tests see initrd-flasher/ on the include path: the host
# tools (hostload, mkflashpkg, mkinitrd) and common/ must not depend on the board's code. In the
# same way only hostload's files and the tests see host-loader/ (a header of another folder is
# "folder/name.h" in both).
dir_includes = $(if $(filter initrd-flasher/% tests/%,$(1)),-Iinitrd-flasher) \
	$(if $(filter host-loader/% tests/%,$(1)),-Ihost-loader)
# $(1) variant dir, $(2) compiler, $(3) flags, $(4) sysroot stamp
define variant
$(BUILD)/$(1)/%.o: %.c $(STAMPS)/$(4) $(STAMPS)/flags
	@mkdir -p $$(dir $$@)
	$(2) $(3) $$(call dir_includes,$$<) -c $$< -o $$@
endef
$(eval $(call variant,a64,$(A64_CC),$(A64_CFLAGS),sysroot-aarch64))
$(eval $(call variant,host,$(HOST_CC),$(HOST_CFLAGS),sysroot-host))
$(eval $(call variant,san,$(HOST_CC),$(HOST_CFLAGS) $(SAN_FLAGS),sysroot-host))
$(eval $(call variant,tsan,$(HOST_CC),$(HOST_CFLAGS) $(TSAN_FLAGS),sysroot-host))
$(eval $(call variant,clang,$(CLANG),$(HOST_CFLAGS),sysroot-host))

objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

# ---- programs --------------------------------------------------------------------------
FLASHER_A64 := $(BUILD)/board/init
FLASHER_HOST := $(BUILD)/bin/flasher
MKINITRD := $(BUILD)/bin/mkinitrd
MKFLASHPKG := $(BUILD)/bin/mkflashpkg
HOSTLOAD := $(BUILD)/bin/hostload
# hostload for the board's CPU, static with libusb: the QEMU guest serves its own USB gadget
HOSTLOAD_A64 := $(BUILD)/board/hostload
TSAN_TESTS := write link usb_gadget build_jobs target_model
UNIT_BINS := $(foreach t,$(UNIT_TESTS),$(BUILD)/tests/test_$(t) $(BUILD)/tests/san/test_$(t)) \
	$(foreach t,$(TSAN_TESTS),$(BUILD)/tests/tsan/test_$(t))
# the SHA-256 unit test for the board's CPU (tests/host/sha256_aarch64.sh runs it under qemu-user)
SHA256_TEST_A64 := $(BUILD)/board/test_sha256
# the same for CRC-32 (tests/host/crc32_aarch64.sh)
CRC32_TEST_A64 := $(BUILD)/board/test_crc32
BENCH_HASH := $(BUILD)/bench/bench_hash
BENCH_CODEC := $(BUILD)/bench/bench_codec
SOCKCOPY := $(BUILD)/bench/sockcopy
RELAY := $(BUILD)/bench/relay
GUEST_COPY := $(BUILD)/bench/guest_copy
USB_LAUNCHER := $(BUILD)/tests/usb_launcher
TLS_PROBE := $(BUILD)/tests/tls_probe
TLS_EMPTY_SERVER := $(BUILD)/tests/tls_empty_server
CLANG_OBJS := $(call objs,clang,$(ALL_SRCS))

# libFuzzer targets, each linked with the code it feeds
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1
FUZZ_manifest_SRCS := tests/fuzz/fuzz_manifest.c common/pkg.c common/chunk.c common/chunk_zstd.c \
	common/error.c \
	$(SHA256_SRCS) $(CRC32_SRCS)
FUZZ_layout_SRCS := tests/fuzz/fuzz_layout.c mkflashpkg/layout.c mkflashpkg/xml.c common/error.c common/lines.c \
	common/pkg.c common/slot_name.c $(SHA256_SRCS)
FUZZ_frame_SRCS := tests/fuzz/fuzz_frame.c $(LINK_SRCS)
FUZZ_eeprom_SRCS := tests/fuzz/fuzz_eeprom.c common/identify.c common/io.c common/pkg.c common/error.c \
	$(SHA256_SRCS)
FUZZ_gpt_SRCS := tests/fuzz/fuzz_gpt.c initrd-flasher/write/gpt.c common/error.c $(SHA256_SRCS)
FUZZ_blob_SRCS := tests/fuzz/fuzz_blob.c common/rcm_blob.c common/bootimg.c common/error.c
FUZZ_sparse_SRCS := tests/fuzz/fuzz_sparse.c mkflashpkg/sparse.c common/error.c $(CRC32_SRCS)
FUZZ_http_SRCS := tests/fuzz/fuzz_http.c initrd-flasher/net/http_parse.c initrd-flasher/net/http_url.c \
	initrd-flasher/net/tls_name.c common/error.c
# the DTB reader that checks an RCM bundle's board (mkflashpkg l4t)
FUZZ_dtb_SRCS := tests/fuzz/fuzz_dtb.c mkflashpkg/fdt_compat.c common/error.c
# the reader of NVIDIA's disk GPT file (mkflashpkg l4t)
FUZZ_l4t_gpt_SRCS := tests/fuzz/fuzz_l4t_gpt.c mkflashpkg/l4t_gpt.c common/error.c common/io.c \
	$(CRC32_SRCS)
# the edk2 variable store reader (a stale uefi_variables partition, read before a first flash
# erases it)
FUZZ_efi_varstore_SRCS := tests/fuzz/fuzz_efi_varstore.c initrd-flasher/board/efi_varstore.c \
	common/error.c
# one zstd frame as a chunk's stored bytes, for a chunk size the input picks
FUZZ_zstd_SRCS := tests/fuzz/fuzz_zstd.c common/chunk_zstd.c common/error.c
FUZZERS := manifest zstd layout frame eeprom gpt blob sparse http dtb l4t_gpt efi_varstore
FUZZ_BINS := $(foreach f,$(FUZZERS),$(BUILD)/fuzz/fuzz_$(f))

.PHONY: all
all: $(FLASHER_A64) $(FLASHER_HOST) $(MKINITRD) $(MKFLASHPKG) $(HOSTLOAD) $(INITRD) $(KERNEL) $(UNIT_BINS) \
	$(SHA256_TEST_A64) $(CRC32_TEST_A64) $(HOSTLOAD_A64) $(USB_LAUNCHER) $(TLS_PROBE) $(TLS_EMPTY_SERVER) rootfs

$(FLASHER_A64): $(call objs,a64,$(FLASHER_SRCS))
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) $^ $(LIBS) -o $@
$(FLASHER_HOST): $(call objs,host,$(FLASHER_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ $(LIBS) -o $@
$(MKFLASHPKG): $(call objs,host,$(MKFLASHPKG_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ $(LIBS) -o $@
$(HOSTLOAD): $(call objs,host,$(HOSTLOAD_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) -pthread $^ $(LIBS) $(HOSTLOAD_USB_LIBS) -o $@
$(HOSTLOAD_A64): $(call objs,a64,$(HOSTLOAD_SRCS))
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) -pthread $^ $(LIBS) $(HOSTLOAD_USB_LIBS) -o $@
$(MKINITRD): $(call objs,host,$(MKINITRD_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ $(LIBS) -o $@
$(SHA256_TEST_A64): $(call objs,a64,$(TEST_sha256_SRCS))
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) $^ $(LIBS) -o $@
$(CRC32_TEST_A64): $(call objs,a64,$(TEST_crc32_SRCS))
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) $^ $(LIBS) -o $@
$(USB_LAUNCHER): $(call objs,a64,tests/e2e/usb_launcher.c common/pkg.c common/error.c)
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) $^ -o $@
$(TLS_PROBE): $(call objs,host,$(TLS_PROBE_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) -pthread $^ $(LIBS) -o $@
$(TLS_EMPTY_SERVER): $(call objs,host,$(TLS_EMPTY_SERVER_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ -lbearssl -o $@
$(GUEST_COPY): $(call objs,a64,tests/bench/guest_copy.c)
	@mkdir -p $(@D)
	$(A64_CC) $(A64_LDFLAGS) $^ -o $@
$(SOCKCOPY): $(call objs,host,tests/bench/sockcopy.c)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ -o $@
$(RELAY): $(call objs,host,tests/bench/relay.c)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) -pthread $^ -o $@
$(BENCH_HASH): $(call objs,host,$(BENCH_hash_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $^ $(LIBS) -o $@
$(BENCH_CODEC): $(call objs,host,$(BENCH_codec_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_LDFLAGS) -pthread $^ $(LIBS) -o $@

define unit_test
$(BUILD)/tests/test_$(1): $(call objs,host,$(TEST_$(1)_SRCS))
	@mkdir -p $$(@D)
	$(HOST_CC) $(HOST_LDFLAGS) $$^ $(LIBS) $(TEST_$(1)_LIBS) -o $$@
$(BUILD)/tests/san/test_$(1): $(call objs,san,$(TEST_$(1)_SRCS))
	@mkdir -p $$(@D)
	$(HOST_CC) $(SAN_FLAGS) $(HOST_LDFLAGS) $$^ $(LIBS) $(TEST_$(1)_LIBS) -o $$@
$(BUILD)/tests/tsan/test_$(1): $(call objs,tsan,$(TEST_$(1)_SRCS))
	@mkdir -p $$(@D)
	$(HOST_CC) $(TSAN_FLAGS) $(HOST_LDFLAGS) $$^ $(LIBS) $(TEST_$(1)_LIBS) -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test,$(t))))

define fuzzer
$(BUILD)/fuzz/fuzz_$(1): $(TEST_$(1)_SRCS) $(FUZZ_$(1)_SRCS) $(STAMPS)/sysroot-host $(STAMPS)/flags
	@mkdir -p $$(@D)
	$(CLANG) $(COMMON_CFLAGS) -Iinitrd-flasher -Ihost-loader $(FUZZ_FLAGS) -isystem $(HOST_SYSROOT)/include \
		$(FUZZ_$(1)_SRCS) \
		$(HOST_LDFLAGS) $(LIBS) -o $$@
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzzer,$(f))))

$(INITRD): $(FLASHER_A64) $(MKINITRD)
	SOURCE_DATE_EPOCH=0 $(MKINITRD) -o $@ --init $(FLASHER_A64)

# ---- cached slow inputs ----------------------------------------------------------------
# The kernel script also installs the arm64 UAPI headers the musl libraries need.
$(STAMPS)/kernel: FORCE
	@env -u MAKEFLAGS -u MFLAGS qemu/build-kernel.sh $(BUILD)
$(STAMPS)/sysroot-aarch64: $(STAMPS)/kernel FORCE
	@env -u MAKEFLAGS -u MFLAGS scripts/build-libs.sh aarch64 $(BUILD)
$(STAMPS)/sysroot-host: FORCE
	@env -u MAKEFLAGS -u MFLAGS HOST_CC=$(HOST_CC) scripts/build-libs.sh host $(BUILD)
$(KERNEL): $(STAMPS)/kernel
	@test -f $@
# The QEMU board's kernel with the flasher's drivers (QSPI, disk, EEPROM, link) as modules
# (qemu/kernel-modular.config) and its module tree with modules.dep: a Jetson's kernel has its
# QSPI driver as modules, and tests/e2e/modular_kernel.sh flashes the board through them.
$(STAMPS)/kernel-modular: FORCE
	@env -u MAKEFLAGS -u MFLAGS qemu/build-kernel-modular.sh $(BUILD)
$(KERNEL_MODULAR): $(STAMPS)/kernel-modular
	@test -f $@
.PHONY: kernel-modular
kernel-modular: $(KERNEL_MODULAR)

# Flags are an input too: objects rebuild when the compile line changes.
$(STAMPS)/flags: FORCE
	@mkdir -p $(STAMPS)
	@echo '$(A64_CC) $(A64_CFLAGS) | $(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(TSAN_FLAGS) | $(CLANG)' > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

# ---- tests -----------------------------------------------------------------------------
.PHONY: check unit e2e lint fuzz
fuzz: $(FUZZ_BINS)
	@BUILD=$(BUILD) FUZZ_SECONDS=$${FUZZ_SECONDS:-300} bash tests/fuzz/run.sh
check: all $(CLANG_OBJS) $(FUZZ_BINS) $(RELAY) $(BENCH_CODEC) $(KERNEL_MODULAR)
	@tests/run.sh $(BUILD)

# every source compiled by clang too (its warnings differ from gcc's); make check includes it
.PHONY: clang
clang: $(CLANG_OBJS)

unit: $(UNIT_BINS)
	@tests/run.sh --unit-only $(BUILD)

lint: $(STAMPS)/sysroot-host
	@BUILD=$(BUILD) bash tests/host/lint.sh

# ---- the board -------------------------------------------------------------------------
# The demo system that gets flashed (rootfs/build.sh; layouts in rootfs/layout/), rebuilt
# only when an input changed. qemu/run-normal.sh boots what is flashed.
ROOTFS := $(BUILD)/rootfs
# The demo signing key: packages for the demo board are signed with it (scripts/demo.sh,
# scripts/demo-update.sh) and the demo system trusts it for updates. Made once; a new key
# rebuilds the rootfs. Not reproducible, and not meant to be: it is this build's own key.
DEMO_KEY := $(BUILD)/keys/demo
$(DEMO_KEY).pub: | $(MKFLASHPKG)
	@mkdir -p $(@D)
	$(MKFLASHPKG) keygen $(DEMO_KEY) >/dev/null
# The demo CA (scripts/demo-ca.sh): the demo system trusts it for updates over https://, and
# its server certificate for updates.selfflash.test is what the update demo's web server shows.
# Made once, like the demo key; a new CA rebuilds the rootfs. One run makes both files (&:),
# never two at once under -j.
DEMO_CA := $(BUILD)/keys/ca.pem
DEMO_SERVER_CERT := $(BUILD)/keys/updates.pem
$(DEMO_CA) $(DEMO_SERVER_CERT) &:
	scripts/demo-ca.sh $(@D)
ROOTFS_INPUTS := rootfs/build.sh rootfs/demo-init.c rootfs/demo-net.c rootfs/demo-net.h $(KERNEL) $(FLASHER_A64) $(MKINITRD) \
	$(DEMO_KEY).pub $(DEMO_CA) $(wildcard \
	/usr/share/qemu-efi-aarch64/QEMU_EFI.fd /usr/lib/systemd/boot/efi/systemd-bootaa64.efi)
.PHONY: rootfs
rootfs: $(ROOTFS)/.stamp
$(ROOTFS)/.stamp: $(ROOTFS_INPUTS) | $(DEMO_SERVER_CERT)
	A64_CC=$(A64_CC) rootfs/build.sh --kernel $(KERNEL) --flasher $(FLASHER_A64) \
		--mkinitrd $(MKINITRD) --pubkey $(DEMO_KEY).pub --ca $(DEMO_CA) $(ROOTFS)
	@touch $@

.PHONY: demo demo-update bench
# the whole promise: build, boot the QEMU board in RCM mode, flash it over the link, boot what
# was flashed (scripts/demo.sh prints the summary)
demo: deps
	@$(MAKE) --no-print-directory all rootfs
	@scripts/demo.sh --build $(BUILD)

# a running board updated, A/B: the flash of make demo, an update to slot B from an https://
# server on the host (lighttpd), a broken update over the link that rolls back by itself
# (scripts/demo-update.sh prints the summary)
demo-update: deps
	@$(MAKE) --no-print-directory all rootfs
	@scripts/demo-update.sh --build $(BUILD)

# figures, each next to a baseline measured in the same run (tests/bench/run.sh; BENCH=a,b picks
# sections)
bench: all rootfs $(BENCH_HASH) $(BENCH_CODEC) $(SOCKCOPY) $(RELAY) $(GUEST_COPY)
	@BUILD=$(BUILD) bash tests/bench/run.sh

.PHONY: deps update-lock check-cold
deps:
	@scripts/deps.sh

# the library sources are pinned in scripts/libs.lock; this moves them to the newest versions
# the configured apt sources serve now and prints what changed (review, then commit the lock)
update-lock:
	@scripts/update-lock.sh

# make demo + make check from a fresh clone with an empty cache, each phase timed (~15 min)
check-cold:
	@scripts/check-cold.sh

.PHONY: clean clean-cache help FORCE
clean:
	rm -rf $(BUILD)
clean-cache:
	rm -rf $${SELFFLASH_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/selfflash}

help:
	@echo 'make deps         install what is missing (root; otherwise prints the apt-get line)'
	@echo 'make              build everything: flasher (aarch64), host tools, initrd, kernel,'
	@echo '                  the demo system (rootfs)'
	@echo 'make check        every test: unit (plain and ASan+UBSan), clang build, cppcheck,'
	@echo '                  the flasher and the SHA-256 and CRC-32 tests under qemu-aarch64-static,'
	@echo '                  the QEMU smoke boot, the demo system booting from QSPI + NVMe,'
	@echo '                  updates on the running board (power cuts, from https://)'
	@echo 'make unit         unit tests only'
	@echo 'make kernel-modular'
	@echo '                  the QEMU board'"'"'s kernel with the flasher'"'"'s drivers as modules, and'
	@echo '                  its module tree (build/kernel-modular; make check needs it)'
	@echo 'make lint         cppcheck'
	@echo 'make clang        compile every source with clang too (make check includes it)'
	@echo 'make demo         build, boot the QEMU board in RCM mode, flash it over the link with'
	@echo '                  hostload, boot what was flashed, print a summary'
	@echo 'make bench        figures, each next to a baseline measured in the same run, with the'
	@echo '                  goals of issue 14: flash vs bmaptool, delta bytes, rate-limited link,'
	@echo '                  4 boards, mkflashpkg build, hashing, QEMU (BENCH=delta,link: a subset)'
	@echo 'make demo-update  make demo, then update the running board to system version 2 (slot B)'
	@echo '                  from https://updates.selfflash.test (lighttpd on the host), then over'
	@echo '                  the link to a broken version 3 that rolls back to B'
	@echo 'make rootfs       build the demo system to flash into build/rootfs: slot firmware,'
	@echo '                  ESP (systemd-boot, a kernel and entry per slot), the kernel boot'
	@echo '                  image, one ext4 rootfs for slot A and B (with selfflash)'
	@echo 'make update-lock  move scripts/libs.lock (the library sources) to the newest versions'
	@echo '                  apt can fetch now; prints what changed'
	@echo 'make check-cold   make demo + make check in a fresh clone with an empty cache, timed'
	@echo 'make clean        remove build/ (the cache outside the checkout stays)'
	@echo 'make clean-cache  remove the kernel and library cache'

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
