#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A running board updated, A/B (make demo-update; DESIGN.md sections 9 and 11): the QEMU board
# is flashed and boots slot A (scripts/demo.sh), then the running system is updated to system
# version 2 from https://updates.selfflash.test:PORT/ (lighttpd with mod_openssl on the host,
# its certificate from the demo CA the system trusts, reached through QEMU user networking),
# reboots into slot B and confirms it; then it is updated over the virtio-serial link (`hostload
# serve`) to a broken version 3, which goes to slot A, never confirms, and after the boot
# loader's tries (systemd-boot's boot counting) the board is back on slot B by itself. Prints a
# summary with the seconds per step, the source of each update and the bytes it fetched.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<'TXT'
usage: scripts/demo-update.sh [--build DIR] [--timeout S] [--boot-tries N] [--link-only]

  --build DIR      the build directory (default: build)
  --timeout S      limit for each boot and each update (default 600)
  --boot-tries N   the tries a new slot gets before it falls back, as the demo system's
                   selfflash.conf says (boot-tries, default 3); only used to bound the
                   boots after the broken update
  --link-only      both updates over the link (hostload serve), no web server: the update
                   to v2 otherwise comes from https:// (needs lighttpd and
                   lighttpd-mod-openssl: make deps)

Needs `make all rootfs` first (make demo-update does that). Everything goes to
BUILD/demo-update/: the board's images (qspi.img, nvme.img), the systems v2/ and v3/ and
their packages, one console log per boot (NN-NAME.console), hostload's and lighttpd's logs.
TXT
}

build=$here/build timeout=600 boot_tries=3 link_only=0
need_arg() { [ $# -ge 2 ] || { echo "demo-update: $1 needs a value" >&2; usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--build) need_arg "$@"; build=$(cd "$2" && pwd); shift 2 ;;
	--timeout) need_arg "$@"; timeout=$2; shift 2 ;;
	--boot-tries) need_arg "$@"; boot_tries=$2; shift 2 ;;
	--link-only) link_only=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo-update: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in timeout boot_tries; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "demo-update: --${v/_/-} '${!v}': expected a positive whole number" >&2; exit 2; }
done
mk=$build/bin/mkflashpkg hl=$build/bin/hostload key=$build/keys/demo keys=$build/keys
for f in "$mk" "$hl" "$build/bin/mkinitrd" "$build/bin/flasher" "$build/board/init" \
	"$build/kernel/Image" "$key.key" "$key.pub" "$build/rootfs/app.ext4" "$keys/ca.pem" \
	"$keys/updates.pem" "$keys/updates.key"; do
	[ -e "$f" ] || { echo "demo-update: $f is missing: run 'make all rootfs' first" >&2; exit 1; }
done
if [ "$link_only" = 0 ]; then
	command -v lighttpd >/dev/null || PATH=$PATH:/usr/sbin command -v lighttpd >/dev/null || {
		echo "demo-update: lighttpd is missing (make deps installs it and lighttpd-mod-openssl;" \
			"or --link-only)" >&2
		exit 1
	}
	export PATH=$PATH:/usr/sbin
fi
out=$build/demo-update
rm -rf "$out"
mkdir -p "$out"
cd "$out"

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }
summary=() # "step|seconds|what was seen", in order
step() { summary+=("$1|$2|$3"); printf 'demo-update: %-28s %6s s  %s\n' "$1" "$2" "$3"; }
print_summary() {
	local row name s what
	echo
	echo "selfflash update demo summary (logs in $out)"
	for row in "${summary[@]}"; do
		IFS='|' read -r name s what <<<"$row"
		printf '  %-28s %6s s  %s\n' "$name" "$s" "$what"
	done
}
fail() { # MESSAGE: the summary so far, then why it stopped
	print_summary
	echo "demo-update: $*" >&2
	exit 1
}

# boot NAME [run-normal options...]: one power-on of the board; its console (CR and the
# firmware's escape sequences removed) in NN-NAME.console, whose path is in $console
boots=0 console=
boot() {
	local name=$1
	shift
	boots=$((boots + 1))
	console=$(printf '%02d-%s.console' "$boots" "$name")
	"$here/qemu/run-normal.sh" --qspi qspi.img --disk nvme.img --eeprom agx.eeprom \
		--chip-sku D0 --timeout "$timeout" --log "$console.raw" "$@" >/dev/null 2>&1 || true
	tr -d '\r' <"$console.raw" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >"$console"
	rm -f "$console.raw"
}
booted() { grep -o 'selfflash-demo: booted slot . (system version [0-9?]*)' "$console" | head -n1 | cut -d' ' -f3-; }
confirmed() { grep -q "^selfflash-demo: mark-good: slot $1 confirmed" "$console"; }

# ---- 1. flash (the factory's way: RCM boot, over the link) and boot slot A -----------------
if ! "$here/scripts/demo.sh" --build "$build" --out "$out" --timeout "$timeout" >flash.out 2>&1; then
	tail -n 20 flash.out >&2
	fail "the first flash failed; see $out/flash.out"
fi
# demo.sh times its own steps: the flash, and the first boot from what was flashed
demo_secs() { sed -n "s/^  $1 *\([0-9.]*\) s\$/\1/p" flash.out; }
step "flashed (RCM, over the link)" "$(demo_secs 'RCM boot + flash over the link')" \
	"sent $(sed -n 's/^  bytes sent *//p' flash.out)"
boots=1
cp boot-console.log 01-first-boot.console.raw
tr -d '\r' <01-first-boot.console.raw | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >01-first-boot.console
rm -f 01-first-boot.console.raw
console=01-first-boot.console
seen=$(booted)
[ "${seen:0:6}" = "slot A" ] || fail "the flashed board booted '${seen:-nothing}', expected slot A; see $out/$console"
if confirmed A; then
	step "booted A" "$(demo_secs 'normal boot from flashed system')" "$seen, confirmed"
else
	step "booted A" "$(demo_secs 'normal boot from flashed system')" \
		"$seen, NOT confirmed: $(grep -o 'mark-good: .*' "$console" | head -n1)"
fi

# ---- 2. system version 2 and a broken version 3, packaged for the same layout ---------------
t2=$(now)
# the manifest's system version (anti-rollback): mkflashpkg build --system-version N
has_version_option=0
if "$mk" build --help 2>&1 | grep -q -- "--system-version N"; then
	has_version_option=1
else
	echo "demo-update: this mkflashpkg has no build --system-version N: the packages carry no system version"
fi
make_system() { # VERSION [--broken]
	local v=$1 version_opt=()
	shift
	[ "$has_version_option" = 0 ] || version_opt=(--system-version "$v")
	"$here/rootfs/build.sh" --kernel "$build/kernel/Image" --flasher "$build/board/init" \
		--mkinitrd "$build/bin/mkinitrd" --pubkey "$key.pub" --ca "$keys/ca.pem" \
		--system-version "$v" "$@" "v$v" ||
		fail "rootfs/build.sh for system version $v failed"
	"$mk" build -q -o "v$v.sfpkg" --layout "$here/rootfs/layout/demo.xml" --dir "v$v" \
		--key "$key.key" --replicate BCT=16384 "${version_opt[@]}" ||
		fail "mkflashpkg build for system version $v failed"
}
make_system 2
make_system 3 --broken
step "built v2 and broken v3" "$(secs "$t2" "$(now)")" \
	"packages $(stat -c %s v2.sfpkg) and $(stat -c %s v3.sfpkg) bytes"

# The update runs on the board: without it there is nothing more to show.
# (the same source as the board's /usr/sbin/selfflash, built for this machine)
if ! "$build/bin/flasher" update --help 2>&1 | grep -Eq '^usage:.* update'; then
	fail "this selfflash has no 'update' command yet (issue 15): flashed and booted slot A, built" \
		"the packages; stopping before the first update"
fi

# update_link NAME PKG: the running board fetches PKG from hostload serve over the link,
# installs it into the other slot and reboots; hostload's view in NAME.hostload.log/.out
hostload_pid= lighttpd_pid=
stop_hostload() { [ -z "$hostload_pid" ] || kill "$hostload_pid" 2>/dev/null || true; }
stop_lighttpd() { [ -z "$lighttpd_pid" ] || kill "$lighttpd_pid" 2>/dev/null || true; }
trap 'stop_hostload; stop_lighttpd' EXIT
update_link() {
	local name=$1 pkg=$2 sock=$out/link.sock rc=0 i
	rm -f "$sock"
	"$hl" serve --link "unix:$sock" --timeout "$timeout" --log "$name.hostload.log" "$pkg" \
		>"$name.hostload.out" 2>&1 &
	hostload_pid=$!
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ] || fail "hostload serve did not listen on $sock; see $out/$name.hostload.out"
	boot "$name" --link "$sock" --command "update virtio:selfflash.link"
	# the board reported its result before it rebooted; give hostload a moment to say so
	for i in $(seq 100); do kill -0 "$hostload_pid" 2>/dev/null || break; sleep 0.1; done
	stop_hostload
	wait "$hostload_pid" || rc=$?
	hostload_pid=
	update_succeeded "$pkg" "$name.hostload.out"
	[ "$rc" = 0 ] || fail "hostload serve ended with status $rc; see $out/$name.hostload.out"
}
update_succeeded() { # PKG LOG: the board said so before it rebooted
	grep -q '^selfflash-demo: command finished: exit status 0$' "$console" || fail \
		"the update to $1 failed on the board ($(grep -o 'command finished: .*' "$console" || echo 'no result')); see $out/$console and $out/$2"
}

# update_https NAME PKG: the running board fetches PKG from lighttpd (https, the demo CA's
# certificate for updates.selfflash.test) on a free port of the host's 127.0.0.1, which the
# board reaches as 10.0.2.2 through QEMU user networking (qemu/run-normal.sh --net) under the
# name its /etc/hosts gives that address; lighttpd's logs in NAME.lighttpd.{conf,access,err}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
https_url=
update_https() {
	local name=$1 pkg=$2 port i
	mkdir -p www
	cp "$pkg" "www/$pkg"
	port=$(free_port)
	cat >"$name.lighttpd.conf" <<CONF
server.document-root = "$out/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$out/$name.lighttpd.err"
server.modules += ( "mod_openssl", "mod_accesslog" )
ssl.engine = "enable"
ssl.pemfile = "$keys/updates.pem"
ssl.privkey = "$keys/updates.key"
accesslog.filename = "$out/$name.lighttpd.access"
# client, request, status, body bytes sent (a range request's part)
accesslog.format = "%h %t \\"%r\\" %>s %b"
mimetype.assign = ( "" => "application/octet-stream" )
CONF
	lighttpd -tt -f "$name.lighttpd.conf" >"$name.lighttpd.out" 2>&1 || fail \
		"lighttpd cannot load its https configuration (is lighttpd-mod-openssl installed? make deps): $(tail -n 2 "$name.lighttpd.out")"
	lighttpd -D -f "$name.lighttpd.conf" >>"$name.lighttpd.out" 2>&1 &
	lighttpd_pid=$!
	for i in $(seq 100); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" 2>/dev/null && break
		sleep 0.05
	done
	https_url=https://updates.selfflash.test:$port/$pkg
	boot "$name" --net --command "update $https_url"
	# stopped before its log is read: lighttpd writes the access log out as it ends
	stop_lighttpd
	wait "$lighttpd_pid" 2>/dev/null || true
	lighttpd_pid=
	update_succeeded "$pkg" "$name.lighttpd.err"
}
# what lighttpd served: "N bytes in R requests (M answered 206)"
https_bytes() { # NAME
	awk '{ n++; b += ($NF == "-" ? 0 : $NF); if ($(NF-1) == 206) p++ }
		END { printf "%d bytes in %d requests (%d ranges)", b, n, p }' "$1.lighttpd.access"
}
# what an update moved: hostload's bytes sent, and the board's delta line (fetched vs copied)
update_bytes() { # NAME
	local sent delta
	sent=$(sed -n 's/^hostload: sent \([0-9]*\) bytes of a \([0-9]*\)-byte package.*/\1 of \2 bytes sent/p' \
		"$1.hostload.out" "$1.hostload.log" 2>/dev/null | tail -n1)
	delta=$(grep -ho 'delta: .*' "$console" "$1.hostload.log" 2>/dev/null | tail -n1)
	echo "${sent:-bytes sent ?}; ${delta:-delta ?}"
}

# ---- 3. update to v2 from https://: into slot B; reboot; slot B boots and confirms -----------
t3=$(now)
if [ "$link_only" = 1 ]; then
	update_link update-v2 v2.sfpkg
	step "updated to v2 (A -> B)" "$(secs "$t3" "$(now)")" "over the link: $(update_bytes update-v2)"
else
	update_https update-v2 v2.sfpkg
	grep -q '^selfflash-demo: network: .* up as ' "$console" ||
		fail "the board did not bring up its NIC; see $out/$console"
	step "updated to v2 (A -> B)" "$(secs "$t3" "$(now)")" \
		"from $https_url: lighttpd sent $(https_bytes update-v2); $(grep -ho 'delta: .*' "$console" | tail -n1)"
fi
t4=$(now)
boot boot-v2
seen=$(booted)
[ "$seen" = "slot B (system version 2)" ] || fail "after the update the board booted '${seen:-nothing}', expected slot B (system version 2); see $out/$console"
confirmed B || fail "slot B did not confirm: $(grep -o 'mark-good: .*' "$console" | head -n1); see $out/$console"
step "booted B and confirmed" "$(secs "$t4" "$(now)")" "$seen"

# ---- 4. update to the broken v3: into slot A, never confirmed, rolled back to B -------------
t5=$(now)
update_link update-v3 v3.sfpkg
step "broken update to v3 (B -> A)" "$(secs "$t5" "$(now)")" "over the link: $(update_bytes update-v3)"
t6=$(now)
tries=0
for attempt in $(seq $((boot_tries + 2))); do
	boot "after-v3-$attempt"
	seen=$(booted)
	case "$seen" in
	"slot A (system version 3)") tries=$((tries + 1)) ;;
	"slot B (system version 2)") break ;;
	*) fail "after the broken update the board booted '${seen:-nothing}'; see $out/$console" ;;
	esac
done
[ "$seen" = "slot B (system version 2)" ] ||
	fail "slot A (broken) still boots after $tries tries; see $out/$console"
grep -Eiq 'roll(ed)? ?back' "$console" ||
	fail "back on slot B, but 'selfflash status' does not say the update rolled back; see $out/$console"
step "rolled back to B" "$(secs "$t6" "$(now)")" \
	"$tries boots of broken slot A, then $seen; status: $(grep -Ei 'roll(ed)? ?back' "$console" | head -n1)"
print_summary
