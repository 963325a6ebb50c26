# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154,SC2034 # the caller sets mk, fl, mi; results are for it
# Sourced by tests/host/fleet.sh and make bench's fleet section (tests/bench/run.sh): a fleet of
# native boards (disk and QSPI image files, an ESP directory, the systemd-boot backend, each
# with its own EEPROM serial number) updated at once from one lighttpd over HTTPS, the way
# issue 16 describes a fleet. Works in the current directory. Needs the variables mk, fl, mi
# (mkflashpkg, flasher, mkinitrd) and root (the repository), and the array pids (background
# programs the caller stops at exit).

# the A/B board layout is tests/lib.sh's (the tests source it; make bench does not)
declare -F ab_board_layout >/dev/null || . "$root/tests/lib.sh"

fleet_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fleet_await_port() { for _ in $(seq 100); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# fleet_system APP_PART_BYTES: the layout (slots A and B, a kernel partition each), system 1
# and system 2 (an app image filling the partition but 1 MiB, about 1 % of it rewritten in
# system 2, another kernel), both packages in www/, what system 2 holds (system2.show) and
# where its data starts (fleet_data_offset); the test CA and a certificate for localhost.
fleet_system() {
	local part=$1 v
	fleet_image_bytes=$((part - 1048576))
	local sectors=$(((2 * part + 16 * 1048576) / 512))
	fleet_disk_bytes=$((sectors * 512))
	ab_board_layout board.xml "$part" "$sectors"
	head -c 600000 /dev/urandom >fw.bin
	head -c "$fleet_image_bytes" /dev/urandom >app1.img
	cp app1.img app2.img
	# 1 % of system 2 rewritten, in three places
	for v in 1 4 7; do
		head -c $((fleet_image_bytes / 300)) /dev/urandom |
			dd of=app2.img bs=1M seek=$((fleet_image_bytes * v / 10)) oflag=seek_bytes conv=notrunc status=none
	done
	head -c 700000 /dev/urandom >kernel1
	head -c 700000 /dev/urandom >kernel2
	for v in 1 2; do
		"$mi" --bootimg boot$v.img --kernel kernel$v --no-ramdisk --cmdline "system=$v" >/dev/null
	done
	"$mk" keygen k >/dev/null
	printf 'agx 3701 0005 - D0\n' >variants.txt
	mkdir -p www
	for v in 1 2; do
		"$mk" build -q -o www/system$v.sfpkg --layout board.xml --key k.key --system-version $v \
			--variants variants.txt --file APP_A=app$v.img --file APP_B=app$v.img \
			--file KERNEL_A=boot$v.img --file KERNEL_B=boot$v.img --chunk-size 65536
	done
	"$mk" show --chunks www/system2.sfpkg >system2.show
	fleet_data_offset=$(sed -n 's/^package: .*, \([0-9]*\) bytes (manifest [0-9]*, data \([0-9]*\)).*/\1 \2/p' \
		system2.show | awk '{ print $1 - $2 }')
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-subj /CN=selfflash-fleet-ca -days 30 -out ca.pem 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout web.key \
		-subj /CN=localhost -out web.csr 2>/dev/null
	printf 'subjectAltName=DNS:localhost\n' >web.ext
	openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
		-extfile web.ext -out web.pem 2>/dev/null
}

# fleet_server_start: one lighttpd serving www/ over HTTPS on a free port, its access log
# naming the board (the flasher's X-Selfflash-Board header), the status, the body bytes sent
# and the Range asked; fleet_url is where system 2 is.
fleet_server_start() {
	local port
	port=$(fleet_free_port)
	rm -f access.log
	cat >web.conf <<CONF
server.document-root = "$PWD/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$PWD/web.err"
server.modules += ( "mod_openssl", "mod_accesslog" )
ssl.engine = "enable"
ssl.pemfile = "$PWD/web.pem"
ssl.privkey = "$PWD/web.key"
mimetype.assign = ( "" => "application/octet-stream" )
accesslog.filename = "$PWD/access.log"
accesslog.format = "%{X-Selfflash-Board}i %>s %b \\"%{Range}i\\""
CONF
	lighttpd -D -f web.conf 2>>web.err &
	fleet_server_pid=$!
	pids+=("$fleet_server_pid")
	fleet_await_port "$port" || { echo "fleet: lighttpd did not start: $(cat web.err)" >&2; return 1; }
	fleet_url=https://localhost:$port/system2.sfpkg
}
# fleet_server_stop: a graceful stop, which writes out the access log
fleet_server_stop() {
	kill -INT "$fleet_server_pid" 2>/dev/null || true
	wait "$fleet_server_pid" 2>/dev/null || true
}

# fleet_template: a board flashed with system 1 from the file (template.nvme, .qspi) and the
# ESP a first flash leaves (slot A G=2, slot B G=1, both confirmed); the partitions' places
part_at() { # IMAGE NAME: "offset size" in bytes, from the GPT as sfdisk reads it
	sfdisk --json "$1" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]: print(p["start"] * 512, p["size"] * 512)' "$2"
}
fleet_template() {
	local s S g r
	rm -f template.nvme
	truncate -s "$fleet_disk_bytes" template.nvme
	head -c $((8 * 1048576)) /dev/zero | tr '\0' '\377' >template.qspi
	"$mk" eeprom -o template.eeprom --part-number "699-13701-0005-500 M.0" --serial 0 >/dev/null
	"$fl" flash --package www/system1.sfpkg --pubkey k.pub --eeprom template.eeprom --chip-sku D0 \
		--target spi=nor-file:template.qspi:65536 --target nvme=block:template.nvme \
		>template.log 2>&1 || { echo "fleet: the first flash failed: $(tail -n 3 template.log)" >&2; return 1; }
	read -r fleet_a_off fleet_a_size < <(part_at template.nvme APP)
	read -r fleet_b_off fleet_b_size < <(part_at template.nvme APP_b)
	read -r fleet_kb_off fleet_kb_size < <(part_at template.nvme B_kernel)
	rm -rf template-esp
	mkdir -p template-esp/loader/entries
	printf 'timeout 0\neditor no\n' >template-esp/loader/loader.conf
	for s in a b; do
		S=$(tr ab AB <<<"$s") g=$([ "$s" = a ] && echo 2 || echo 1) r=$([ "$s" = a ] && echo APP || echo APP_b)
		mkdir -p "template-esp/selfflash/slot-$s"
		cp kernel1 "template-esp/selfflash/slot-$s/Image"
		printf 'title      selfflash slot %s, system version 1\nsort-key   selfflash\nversion    %s\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s system=1\n# selfflash system-version 1\n' \
			"$S" "$g" "$s" "$r" >"template-esp/loader/entries/selfflash-slot-$s.conf"
	done
}

# fleet_board NAME SERIAL STATE: a board from the template, in a starting state:
#   has-1    system 1 in both slots, as flashed (an update fetches what system 2 changed)
#   foreign  slot B (APP_b and B_kernel) holding other bytes (0x5a), as a slot holds another
#            system's: every byte of it must become system 2's, zeros included (what slot A
#            holds is copied, not fetched)
#   has-2    system 2 already in slot B (an update fetches only the manifest)
#   damaged  system 2 in slot B, then 4 KiB rewritten at three random chunks of it, two of
#            them also in the running slot A (a root file system mounted read-write)
fleet_board() {
	local name=$1 serial=$2 state=$3 i chunk
	cp --sparse=always template.nvme "$name.nvme"
	cp template.qspi "$name.qspi"
	rm -rf "$name-esp" && cp -r template-esp "$name-esp"
	"$mk" eeprom -o "$name.eeprom" --part-number "699-13701-0005-500 M.0" --serial "$serial" >/dev/null
	case $state in
	has-1) ;;
	foreign)
		head -c "$fleet_b_size" /dev/zero | tr '\0' '\132' |
			dd of="$name.nvme" bs=1M seek="$fleet_b_off" oflag=seek_bytes conv=notrunc status=none
		head -c "$fleet_kb_size" /dev/zero | tr '\0' '\132' |
			dd of="$name.nvme" bs=1M seek="$fleet_kb_off" oflag=seek_bytes conv=notrunc status=none
		;;
	has-2 | damaged)
		dd if=app2.img of="$name.nvme" bs=1M seek="$fleet_b_off" oflag=seek_bytes conv=notrunc status=none
		dd if=boot2.img of="$name.nvme" bs=1M seek="$fleet_kb_off" oflag=seek_bytes conv=notrunc status=none
		;;
	*)
		echo "fleet: unknown state $state" >&2
		return 1
		;;
	esac
	if [ "$state" = damaged ]; then
		for i in 1 2 3; do
			chunk=$((RANDOM % (fleet_image_bytes / 65536)))
			head -c 4096 /dev/urandom | dd of="$name.nvme" bs=4096 seek=$(((fleet_b_off + chunk * 65536) / 4096 + i)) \
				conv=notrunc status=none
			[ "$i" = 3 ] || head -c 4096 /dev/urandom |
				dd of="$name.nvme" bs=4096 seek=$(((fleet_a_off + chunk * 65536) / 4096 + i)) conv=notrunc status=none
		done
	fi
	cat >"$name.conf" <<CONF
pubkey $PWD/k.pub
eeprom $PWD/$name.eeprom
chip-sku D0
target spi nor-file:$PWD/$name.qspi:65536
target nvme block:$PWD/$name.nvme
slot-backend systemd-boot
esp $PWD/$name-esp
efivars $PWD/$name-vars
ca $PWD/ca.pem
CONF
	sdboot_vars "$name-vars" # systemd-boot booted slot A's entry
	# what it must fetch, worked out from its disk before the update (boards alike in state
	# may share one answer: FLEET_NEED_FROM=NAME)
	if [ -n "${FLEET_NEED_FROM:-}" ]; then
		cp "$FLEET_NEED_FROM.need" "$name.need"
	else
		python3 "$root/tests/fleet_check.py" need system2.show "$name.nvme" >"$name.need"
	fi
	# slot A before, for the check that the running slot stayed untouched
	dd if="$name.nvme" bs=1M skip="$fleet_a_off" count="$fleet_a_size" iflag=skip_bytes,count_bytes \
		status=none | sha256sum >"$name.slot-a"
}

# fleet_update NAME...: every board runs `flasher update` of fleet_url at the same moment;
# waits for all. fleet_seconds: from the first start to the last end; NAME.rc and NAME.seconds.
# No program but the flashers runs while they do (bash's own clock, the sums afterwards).
fleet_update() {
	local name start end jobs=()
	start=$EPOCHREALTIME
	for name in "$@"; do
		(
			t=$EPOCHREALTIME
			rc=0
			"$fl" update --config "$name.conf" --root-partition APP "$fleet_url" >"$name.log" 2>&1 || rc=$?
			echo "$rc" >"$name.rc"
			echo "$t $EPOCHREALTIME" >"$name.seconds"
		) &
		jobs+=($!)
	done
	wait "${jobs[@]}"
	end=$EPOCHREALTIME
	for name in "$@"; do
		awk '{ printf "%.2f\n", $2 - $1 }' "$name.seconds" >"$name.s" && mv "$name.s" "$name.seconds"
	done
	fleet_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
}

# fleet_fetched NAME: the bytes the flasher says it fetched
fleet_fetched() { sed -n 's/.*done: \([0-9]*\) bytes fetched.*/\1/p' "$1.log"; }

# fleet_whole NAME FILE OFFSET SIZE: NAME's disk holds FILE at OFFSET, then zeros to SIZE
fleet_whole() {
	cmp -s <(dd if="$1.nvme" bs=1M skip="$3" count="$4" iflag=skip_bytes,count_bytes status=none) \
		<(cat "$2" && head -c $(($4 - $(stat -c %s "$2"))) /dev/zero)
}

# fleet_holds_system2 NAME: slot B's partitions are system 2's image and kernel padded with
# zeros to their ends, byte for byte; slot A and the QSPI are as before, the ESP has system
# 2's kernel and slot B's trial entry
fleet_holds_system2() {
	local name=$1
	fleet_whole "$name" app2.img "$fleet_b_off" "$fleet_b_size" &&
		fleet_whole "$name" boot2.img "$fleet_kb_off" "$fleet_kb_size" &&
		[ "$(dd if="$name.nvme" bs=1M skip="$fleet_a_off" count="$fleet_a_size" iflag=skip_bytes,count_bytes \
			status=none | sha256sum)" = "$(cat "$name.slot-a")" ] &&
		cmp -s template.qspi "$name.qspi" &&
		cmp -s kernel2 "$name-esp/selfflash/slot-b/Image" &&
		[ -f "$name-esp/loader/entries/selfflash-slot-b+3.conf" ]
}
