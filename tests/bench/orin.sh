# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154 # run.sh sets build, tmp, root, quick, pids, hostload_pid
# make bench BENCH=orin (issue 24): an Orin NX's flash time in a model of its parts, driven by
# the real flasher and hostload. Sourced by tests/bench/run.sh, which gives it its helpers
# (serve, timed, calc, figure, need, wait_socket) and $build, $tmp, $root, $quick.
# The package: tests/bench/orin_image.py (NVIDIA's R35.3.1 QSPI + NVMe layout, QSPI images of
# NVIDIA's sizes, a 55 GiB APP with BENCH_ORIN_GIB GiB of a rootfs-like mix in use).

# ---- the model's parameters: the only place they are set ----------------------------------
# QSPI NOR: the 64 MiB Macronix MX25U51279G of Orin modules: `compatible = "MX25U51279G"` in
# R35.3.1's kernel/dtb/tegra234-p3701-0000-p3737-0000.dtb and tegra234-p3767-0000-p3768-0000-a0.dtb
# (node spi@3270000/spiflash@0), JEDEC ID C2 95 3A in edk2-nvidia r35.3.1
# Silicon/NVIDIA/Drivers/NorFlashDxe/NorFlashStandaloneMmDice.c (docs/l4t-facts.md).
# Its times: the datasheet's typical figures could not be reached from here; the one primary
# source is Macronix's own driver, github.com/macronix/mxmtd, mxmtd/spinor/spinor_ids.h, entry
# "mx25u51279g" (timing w,dp,bp,pp,se,be32,be,ce in us: 40000,10,30,4000,480000,1100000,
# 2200000,400000000). spinor.c polls the status register for up to that long, so these are the
# part's MAXIMUM times: the model is a worst case, for NVIDIA's way as much as for ours.
# A datasheet's typical figures can be given instead: ORIN_NOR_ERASE_MS=... make bench BENCH=orin.
orin_nor_erase_ms=${ORIN_NOR_ERASE_MS:-2200}  # erase of one 64 KiB block (tBE), ms
orin_nor_chip_erase_s=${ORIN_NOR_CHIP_ERASE_S:-400} # erase of the whole chip (tCE), s
orin_nor_page_us=${ORIN_NOR_PAGE_US:-4000}    # program of one page (tPP), us
orin_nor_page=256                             # page size, bytes (spinor_ids.h; JESD216)
# read: the kernel drives the QSPI at 136 MHz on 4 lines, single data rate (spi-max-frequency
# 0x81b3200, nvidia,x4-bus-speed, nvidia,x4-is-ddr = 0 in the same dtbs): 68 MB/s at most
orin_nor_read_mbps=${ORIN_NOR_READ_MBPS:-68}
orin_nor_src="MX25U51279G maxima (Macronix mxmtd spinor_ids.h); read: R35.3.1 dtb, 136 MHz x4 SDR"
# NVMe: the devkits take an M.2 Key M PCIe SSD of the buyer's choice (AGX Orin devkit: PCIe C4,
# x4 Gen4 in the p3737 dtb; Orin Nano/NX devkit p3768: PCIe 3.0 x4, NVIDIA's user guide); the
# class: a PCIe 3.0 x4 TLC SSD of 500 GB, e.g. Samsung 970 EVO Plus (MZ-V7S500) data sheet:
# sequential write 900 MB/s once the TurboWrite buffer is full (footnote 4), read 3500 MB/s.
orin_nvme_write_mbps=${ORIN_NVME_WRITE_MBPS:-900}  # sustained sequential write, MB/s
orin_nvme_read_mbps=${ORIN_NVME_READ_MBPS:-3500}   # sequential read, MB/s
orin_nvme_src="Samsung 970 EVO Plus 500 GB data sheet (write after the TurboWrite buffer)"
# NVIDIA's own flash of the same board (DESIGN.md section 12, users' initrd-flash runs of an
# Orin NX with NVMe: signing 13 s, RCM boot 3 s, the whole 59 GB APP image at about 34 MB/s)
orin_nv_sign_s=13
orin_nv_rcm_s=3
orin_nv_app_mbps=34
orin_nv_src="DESIGN.md section 12 (meta-tegra users' initrd-flash runs)"
orin_erase_block=65536 # the QSPI's erase block as R35.3.1's driver reports it (l4t-facts.md d)

orin_nor_spec() { # PATH: the QSPI target with its timing model
	echo "nor-file:$1:$orin_erase_block;erase-ms=$orin_nor_erase_ms;page-us=$orin_nor_page_us;page=$orin_nor_page;read-mbps=$orin_nor_read_mbps"
}
orin_nvme_spec() { # PATH: the NVMe target with its timing model
	echo "block:$1;write-mbps=$orin_nvme_write_mbps;read-mbps=$orin_nvme_read_mbps"
}

# Whether this flasher has the timing models: a flash of a one-block package with both model
# suffixes (a flasher without them refuses the ';'), next to the same flash without them (so a
# broken probe is not taken for a missing feature).
orin_models_probe() {
	local d=$tmp/orin-probe
	mkdir -p "$d"
	cat >"$d/l.xml" <<'XML'
<partition_layout>
  <device type="spi" instance="0" sector_size="512" num_sectors="256">
    <partition name="fw" type="data"><size>65536</size><filename>FW</filename></partition>
  </device>
  <device type="nvme" instance="0" sector_size="512" num_sectors="8192">
    <partition name="master_boot_record" type="protective_master_boot_record"><size>512</size></partition>
    <partition name="primary_gpt" type="primary_gpt"><size>19968</size></partition>
    <partition name="APP" type="data"><size>1048576</size><filename>APPFILE</filename><align_boundary>1048576</align_boundary></partition>
    <partition name="secondary_gpt" type="secondary_gpt"><size>0xFFFFFFFFFFFFFFFF</size></partition>
  </device>
</partition_layout>
XML
	head -c 4096 /dev/urandom >"$d/fw"
	head -c 65536 /dev/urandom >"$d/app"
	"$build/bin/mkflashpkg" build -q -o "$d/p.sfpkg" --layout "$d/l.xml" --unsigned \
		--file "FW=$d/fw" --file "APPFILE=$d/app" >/dev/null 2>&1 || return 2
	local spi nvme
	probe_flash() {
		head -c 131072 /dev/zero | tr '\0' '\377' >"$d/nor.img"
		rm -f "$d/disk.img"
		truncate -s $((8192 * 512)) "$d/disk.img"
		"$build/bin/flasher" flash --package "$d/p.sfpkg" --allow-unsigned --eeprom "$orin/e.bin" \
			--chip-sku D0 --target "spi=$1" --target "nvme=$2" >"$d/$3.log" 2>&1
	}
	probe_flash "nor-file:$d/nor.img:65536" "block:$d/disk.img" plain || return 2
	# the same flash with tiny model times
	spi="nor-file:$d/nor.img:65536;erase-ms=0.001;page-us=0.001;page=256;read-mbps=10000"
	nvme="block:$d/disk.img;write-mbps=100000;read-mbps=100000"
	probe_flash "$spi" "$nvme" model || return 1
	return 0
}

# orin_flash RATE PKG NAME MODELS: hostload serves PKG through the relay at RATE bytes/s to
# one flasher writing $orin_nor and $orin_disk (with the timing models when MODELS is on), both
# to their end. Sets orin_t (s), orin_link_bytes, orin_nor_busy, orin_nvme_busy (the models'
# figures, empty without), orin_written, orin_erased, orin_nor_written (NOR blocks).
orin_flash() {
	local rate=$1 pkg=$2 name=$3 models=$4 spi nvme t relay
	if [ "$models" = on ]; then
		spi=$(orin_nor_spec "$orin_nor")
		nvme=$(orin_nvme_spec "$orin_disk")
	else
		spi="nor-file:$orin_nor:$orin_erase_block"
		nvme="block:$orin_disk"
	fi
	# a full flash at the NOR's maximum times takes over 20 minutes: hostload waits for it
	serve "$pkg" "$tmp/h.sock" "$name" --timeout 7200
	rm -f "$tmp/r.sock"
	"$build/bench/relay" --rate "$rate" "$tmp/r.sock" "$tmp/h.sock" >"$tmp/$name.relay" 2>&1 &
	relay=$!
	pids+=("$relay")
	wait_socket "$tmp/r.sock"
	t=$(now)
	timed "$tmp/$name-flash.time" timeout 7200 "$build/bin/flasher" flash --link "unix:$tmp/r.sock" \
		--link-timeout 60 --pubkey "$orin/k.pub" --eeprom "$orin/e.bin" --chip-sku D0 \
		--target "spi=$spi" --target "nvme=$nvme" >"$tmp/$name.log" 2>&1 ||
		{ echo "bench: the flash ($name) failed: $(tail -n 3 "$tmp/$name.log")" >&2; return 1; }
	orin_t=$(calc "$(now) - $t")
	local hrc=0
	wait "$hostload_pid" || hrc=$?
	[ "$hrc" = 0 ] || { echo "bench: hostload ($name) ended with status $hrc: $(tail -n 3 "$tmp/$name.err")" >&2; return 1; }
	kill -TERM "$relay"
	wait "$relay" || true
	orin_link_bytes=$(sed -n 's/^relay: total: .*host->board \([0-9]*\) bytes.*/\1/p' "$tmp/$name.relay")
	# "flasher: model <name>: N bytes written, M read, busy S s", read loosely: the QSPI's is
	# the one naming spi, nor or qspi
	orin_nor_busy=$(sed -n -E 's/^flasher: model .*(spi|nor|qspi).*busy ([0-9.]+) s.*/\2/Ip' \
		"$tmp/$name.log" | tail -n 1)
	orin_nvme_busy=$(sed -n -E 's/^flasher: model .*(nvme|disk|block).*busy ([0-9.]+) s.*/\2/Ip' \
		"$tmp/$name.log" | tail -n 1)
	orin_written=$(sed -n 's/^flasher: done: \([0-9]*\) bytes written.*/\1/p' "$tmp/$name.log")
	orin_erased=$(sed -n 's/^flasher: done: .*NOR blocks compared [0-9]*, erased \([0-9]*\).*/\1/p' "$tmp/$name.log")
	orin_nor_written=$(sed -n 's/^flasher: done: .*NOR blocks compared [0-9]*, erased [0-9]*, written \([0-9]*\).*/\1/p' "$tmp/$name.log")
}

# orin_report LABEL RATE: the run's parts, each at its own pace, and the slowest of them; sets
# orin_own (s) and orin_slowest (its name)
orin_report() {
	local label=$1 rate=$2 out
	out=$(python3 - "$rate" "${orin_link_bytes:-0}" "${orin_written:-0}" "${orin_erased:-0}" \
		"${orin_nor_written:-0}" "${orin_nor_busy:-}" "${orin_nvme_busy:-}" "$orin_nor_erase_ms" \
		"$orin_nor_page_us" "$orin_nor_page" "$orin_nvme_write_mbps" "$orin_erase_block" <<'PY'
import sys
a = sys.argv[1:]
rate, link, written, erased, nor_written = (float(x or 0) for x in a[:5])
nor_busy, nvme_busy = a[5], a[6]
erase_ms, page_us, page, nvme_w, block = map(float, a[7:12])
parts = {"link": link / rate}
# the model's own figure when the flasher printed it; else the same model from the counts
if nor_busy:
    parts["NOR"], nor_how = float(nor_busy), "its model"
else:
    parts["NOR"] = erased * erase_ms / 1e3 + nor_written * (block / page) * page_us / 1e6
    nor_how = f"{erased:.0f} blocks erased, {nor_written:.0f} written"
if nvme_busy:
    parts["NVMe"], nvme_how = float(nvme_busy), "its model"
else:
    nor_bytes = nor_written * block
    parts["NVMe"] = max(0.0, written - nor_bytes) / (nvme_w * 1e6)
    nvme_how = "bytes written / rate"
slow = max(parts, key=parts.get)
print(f"{parts[slow]:.3f} {slow} link {parts['link']:.2f} s ({link / 1e6:.0f} MB at"
      f" {rate / 1e6:.0f} MB/s), NVMe {parts['NVMe']:.2f} s ({nvme_how}), NOR"
      f" {parts['NOR']:.2f} s ({nor_how})")
PY
)
	read -r orin_own orin_slowest rest <<<"$out"
	echo "  $label: $(printf '%.2f' "$orin_t") s, $(calc "f'{$orin_nv / $orin_t:.0f}'") x faster than" \
		"NVIDIA's way; the parts alone: $rest; slowest: $orin_slowest"
}

# orin_bound TIME LIMIT OWN SLOWEST NAME: when the flash took TIME >= LIMIT seconds, what bounds
# it: the slowest part alone (OWN seconds), or else the flasher and hostload above the parts
orin_bound() {
	local t=$1 limit=$2 own=$3 slow=$4 name=$5
	[ "$orin_models" = on ] || return 0
	python3 -c "import sys; sys.exit(0 if $t >= $limit else 1)" || return 0
	if python3 -c "import sys; sys.exit(0 if $own >= $limit else 1)"; then
		echo "    bound: the $slow alone takes $(printf '%.2f' "$own") s, the goal needs" \
			"< $(printf '%.2f' "$limit") s"
	else
		echo "    bound: the parts alone take $(printf '%.2f' "$own") s (the $slow); the rest is the" \
			"flasher and hostload: $(cpu_of "$name-flash") CPU-s flasher, $(cpu_of "$name") CPU-s hostload"
	fi
}

# a goal, or none when the parts are not modelled (their figures would not be an Orin's)
orin_goal() { if [ "$orin_models" = on ]; then echo "$1"; else echo none; fi; }

section_orin() {
	echo "== orin: an Orin NX's flash in a model of its parts (QSPI NOR, NVMe, USB link through" \
		"tests/bench/relay), the real flasher and hostload"
	echo "  model: QSPI NOR $orin_nor_erase_ms ms per ${orin_erase_block}-byte block erase" \
		"($orin_nor_chip_erase_s s the whole chip)," \
		"$orin_nor_page_us us per $orin_nor_page-byte page, read $orin_nor_read_mbps MB/s — $orin_nor_src"
	echo "  model: NVMe write $orin_nvme_write_mbps MB/s, read $orin_nvme_read_mbps MB/s — $orin_nvme_src"
	echo "  model: NVIDIA's way: signing $orin_nv_sign_s s, RCM boot $orin_nv_rcm_s s, the whole APP" \
		"at $orin_nv_app_mbps MB/s — $orin_nv_src; the QSPI erased whole then every image written, QSPI" \
		"and NVMe at once (l4t_flash_from_kernel.sh r35.3.1: erase_spi l.141-146, write_to_spi," \
		"flash_qspi & flash_extdev l.1293-1315)"
	need "$build/bench/relay"
	local args=("$build") rc=0
	[ "$quick" != 1 ] || args+=(--quick)
	orin=$(python3 "$root/tests/bench/orin_image.py" "${args[@]}") || rc=$?
	if [ "$rc" = 3 ]; then
		echo "  skipped: NVIDIA's layouts are not here (../shared/fixtures)"
		return 0
	fi
	[ "$rc" = 0 ] || { echo "bench: orin_image.py failed ($rc)" >&2; return 1; }
	# shellcheck disable=SC1091
	. "$orin/meta.sh"
	echo "  package: NVIDIA R35.3.1 flash_t234_qspi_nvme.xml, QSPI images $((qspi_file_bytes >> 10)) KiB" \
		"(both boot chains, NVIDIA's file sizes); APP $((app_size >> 30)) GiB ext4 with" \
		"$((used_bytes >> 20)) MiB in use: executables and libraries $((mix_elf >> 20)) MiB, text" \
		"$((mix_text >> 20)) MiB, already compressed $((mix_packed >> 20)) MiB (this host's files);" \
		"package $((p_package_size >> 20)) MiB, 1 %-changed $((p2_package_size >> 20)) MiB" \
		"($((changed_bytes >> 10)) KiB rewritten)"
	local probe=0
	orin_models=on
	orin_models_probe || probe=$?
	if [ "$probe" = 2 ]; then
		echo "bench: the timing-model probe could not flash at all: $(tail -n 2 "$tmp/orin-probe/plain.log")" >&2
		return 1
	fi
	if [ "$probe" != 0 ]; then
		if [ "${BENCH_ORIN_UNMODELLED:-0}" != 1 ]; then
			echo "  skipped: the flasher has no timing models"
			return 0
		fi
		# the harness alone, for its own tests: the parts at this machine's speed
		orin_models=off
		echo "  the flasher has no timing models: flashing unmodelled (BENCH_ORIN_UNMODELLED=1);" \
			"the figures below are not an Orin's"
	fi
	orin_nor=$tmp/qspi.img
	orin_disk=$tmp/nvme.img
	# the board before: the previous release's QSPI (every partition's bytes differ), no models
	head -c "$qspi_size" /dev/zero | tr '\0' '\377' >"$tmp/qspi-prev.img"
	rm -f "$orin_disk"
	truncate -s "$nvme_size" "$orin_disk"
	"$build/bin/flasher" flash --package "$orin/prev.sfpkg" --pubkey "$orin/k.pub" --eeprom "$orin/e.bin" \
		--chip-sku D0 --target "spi=nor-file:$tmp/qspi-prev.img:$orin_erase_block" \
		--target "nvme=block:$orin_disk" >"$tmp/orin-prev.log" 2>&1 ||
		{ echo "bench: the previous release's flash failed: $(tail -n 3 "$tmp/orin-prev.log")" >&2; return 1; }
	# NVIDIA's way in the same model: the whole QSPI erased, every image written page by page;
	# the whole APP at the reported rate; QSPI and NVMe at once, after signing and RCM boot
	local nv nv_nor nv_app
	# (the whole QSPI in one `mtd_debug erase`: the cheaper of a chip erase and block by block)
	nv_nor=$(calc "min($orin_nor_chip_erase_s, $qspi_size / $orin_erase_block * $orin_nor_erase_ms / 1e3) + -(-$qspi_file_bytes // $orin_nor_page) * $orin_nor_page_us / 1e6")
	nv_app=$(calc "$app_size / ($orin_nv_app_mbps * 1e6)")
	nv=$(calc "$orin_nv_sign_s + $orin_nv_rcm_s + max($nv_nor, $nv_app)")
	orin_nv=$nv
	echo "  NVIDIA's way: $(printf '%.0f' "$nv") s = signing $orin_nv_sign_s s + RCM boot $orin_nv_rcm_s s +" \
		"max(QSPI $(printf '%.1f' "$nv_nor") s: the whole chip erased and" \
		"$((qspi_file_bytes >> 10)) KiB programmed; APP $(printf '%.0f' "$nv_app") s: $((app_size >> 30)) GiB" \
		"at $orin_nv_app_mbps MB/s)"
	local mbs rate full_t full_own full_slow
	for mbs in 40 350; do
		rate=$((mbs * 1000000))
		cp "$tmp/qspi-prev.img" "$orin_nor"
		rm -f "$orin_disk"
		truncate -s "$nvme_size" "$orin_disk"
		orin_flash "$rate" "$orin/p.sfpkg" "orin-full$mbs" "$orin_models"
		orin_report "full flash at $mbs MB/s" "$rate"
		full_t=$orin_t full_own=$orin_own full_slow=$orin_slowest
		figure "orin full flash at $mbs MB/s" "$full_t" s "slowest part ($full_slow)" "$full_own" "$(orin_goal "ratio<=1.1")"
		orin_bound "$full_t" "$(calc "1.1 * $full_own")" "$full_own" "$full_slow" "orin-full$mbs"
		orin_flash "$rate" "$orin/p2.sfpkg" "orin-delta$mbs" "$orin_models"
		orin_report "1 %-changed re-flash at $mbs MB/s" "$rate"
		figure "orin 1 % re-flash at $mbs MB/s" "$orin_t" s "slowest part ($orin_slowest)" "$orin_own" none
		if [ "$mbs" = 350 ]; then
			figure "orin full flash, 350 MB/s, 60 s" "$full_t" s "NVIDIA's way" "$nv" "$(orin_goal "value<60")"
			orin_bound "$full_t" 60 "$full_own" "$full_slow" orin-full350
			figure "orin 1 % re-flash, 350 MB/s, 10 s" "$orin_t" s "NVIDIA's way" "$nv" "$(orin_goal "value<10")"
			orin_bound "$orin_t" 10 "$orin_own" "$orin_slowest" orin-delta350
			figure "orin full flash vs NVIDIA's way" "$full_t" s "NVIDIA's way" "$nv" "$(orin_goal "ratio<=5%")"
			orin_bound "$full_t" "$(calc "$nv / 20")" "$full_own" "$full_slow" orin-full350
			figure "orin 1 % re-flash vs NVIDIA's way" "$orin_t" s "NVIDIA's way" "$nv" "$(orin_goal "ratio<=5%")"
			orin_bound "$orin_t" "$(calc "$nv / 20")" "$orin_own" "$orin_slowest" orin-delta350
		else
			figure "orin full flash at 40 MB/s" "$full_t" s "NVIDIA's way" "$nv" none
			figure "orin 1 % re-flash at 40 MB/s" "$orin_t" s "NVIDIA's way" "$nv" none
		fi
	done
	rm -f "$orin_nor" "$orin_disk" "$tmp/qspi-prev.img"
}
