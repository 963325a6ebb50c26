#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packages over HTTP (issue 16), with a real web server (lighttpd) on a free local port: a
# flash and an update over http:// give byte-identical targets and the same "fetched /
# copied / in place" figures as from the file; a server killed and restarted mid-fetch is
# survived; a package replaced mid-fetch starts again from the manifest and the new one is
# written; a server without Range support (python3 -m http.server), 404, a refused port and
# an unresolvable name fail with clear messages and write nothing; a redirect is followed;
# https:// without trust anchors names the setting; the result is POSTed to --report.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! command -v lighttpd >/dev/null; then
	skip http_source "lighttpd is not installed (make deps)"
	exit 0
fi
native_setup

mi=$(dirname "$mk")/mkinitrd

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await_port() { for _ in $(seq 100); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# lighttpd NAME PORT [KBYTES_PER_SECOND]: serves $tmp/www on PORT; $NAME_pid is its pid
lighttpd_start() {
	local name=$1 port=$2 rate=${3:-0}
	cat >"$name.conf" <<CONF
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$tmp/$name.err"
server.modules += ( "mod_redirect" )
mimetype.assign = ( "" => "application/octet-stream" )
url.redirect = ( "^/old/(.*)\$" => "/\$1" )
connection.kbytes-per-second = $rate
CONF
	lighttpd -D -f "$name.conf" 2>>"$name.err" &
	pids+=($!)
	eval "${name}_pid=$!"
	await_port "$port"
}

layout() { ab_board_layout "$1" 20971520; } # OUT
layout board.xml
head -c 600000 /dev/urandom >fw.bin
head -c 12000000 /dev/urandom >app1.img
cp app1.img app2.img
head -c 100000 /dev/urandom | dd of=app2.img bs=1 seek=9000000 conv=notrunc status=none
head -c 700000 /dev/urandom >kernel1
head -c 700000 /dev/urandom >kernel2
for v in 1 2; do
	"$mi" --bootimg boot$v.img --kernel kernel$v --no-ramdisk --cmdline "system=$v" >/dev/null
done
"$mk" keygen k >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
pkg() { # OUT VERSION APP KERNEL
	"$mk" build -q -o "$1" --layout board.xml --key k.key --system-version "$2" \
		--variants variants.txt \
		--file APP_A="$3" --file APP_B="$3" --file KERNEL_A="$4" --file KERNEL_B="$4" \
		--chunk-size 65536
}
pkg v1.sfpkg 1 app1.img boot1.img
pkg v2.sfpkg 2 app2.img boot2.img
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null
mkdir www
cp v1.sfpkg www/v1.sfpkg
cp v2.sfpkg www/v2.sfpkg

port=$(free_port)
lighttpd_start web "$port"
base=http://127.0.0.1:$port

board() { # NAME: a blank board (NVMe image, erased QSPI)
	rm -f "$1.nvme" "$1.qspi"
	truncate -s 64M "$1.nvme"
	head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' '\377' >"$1.qspi"
}
flash() { # BOARD PACKAGE|URL [ARGS...]
	local b=$1 src=$2
	shift 2
	"$fl" flash --package "$src" --pubkey k.pub --eeprom agx.eeprom --chip-sku D0 \
		--target spi=nor-file:"$b.qspi":65536 --target nvme=block:"$b.nvme" "$@"
}
same() { cmp -s "$1.nvme" "$2.nvme" && cmp -s "$1.qspi" "$2.qspi"; }
figures() { sed -n 's/.*delta: \(.*\)/\1/p' "$1" | tr '\n' ' '; }

# a flash from the file and over http: the same bytes, the same figures
board file
board web
flash file v1.sfpkg >flash_file.log 2>&1 || { tail flash_file.log; exit 1; }
if flash web "$base/v1.sfpkg" >flash_web.log 2>&1 && same file web; then
	ok flash_over_http_byte_identical
else
	not_ok flash_over_http_byte_identical "$(tail -n 3 flash_web.log)"
fi
if [ -n "$(figures flash_file.log)" ] && [ "$(figures flash_file.log)" = "$(figures flash_web.log)" ]; then
	ok flash_over_http_same_figures
else
	not_ok flash_over_http_same_figures "file: '$(figures flash_file.log)', http: '$(figures flash_web.log)'"
fi

# a redirect is followed (lighttpd url.redirect: 301 to the real place)
board redir
if flash redir "$base/old/v1.sfpkg" >redir.log 2>&1 && same file redir; then
	ok redirect_followed
else
	not_ok redirect_followed "$(tail -n 3 redir.log)"
fi

# failures before anything is written: the board stays blank
board blank
board fail
refused() { # NAME REGEX URL [ARGS...]
	local name=$1 want=$2 url=$3
	shift 3
	if ! flash fail "$url" "$@" >"$name.log" 2>&1 && grep -Eq -- "$want" "$name.log" && same blank fail; then
		ok "${name}_clear_error_nothing_written"
	else
		not_ok "${name}_clear_error_nothing_written" "$(tail -n 2 "$name.log")"
	fi
}
refused not_found '404 Not Found' "$base/missing.sfpkg"
dead=$(free_port)
refused refused_port 'connection refused' "http://127.0.0.1:$dead/v1.sfpkg"
refused unresolvable 'does not resolve' "http://selfflash-no-such-host.invalid/v1.sfpkg"
refused https_without_ca "needs trust anchors: set 'ca FILE'" "https://localhost:$port/v1.sfpkg"
refused bad_url 'user or password' "http://user:pw@127.0.0.1:$port/v1.sfpkg"
pyport=$(free_port)
(cd www && exec python3 -m http.server --bind 127.0.0.1 "$pyport" >/dev/null 2>&1) &
pids+=($!)
await_port "$pyport"
refused no_range_support 'ignores Range requests' "http://127.0.0.1:$pyport/v1.sfpkg"

# a server killed and restarted mid-fetch (throttled so that the cut falls inside it)
slow=$(free_port)
lighttpd_start slow "$slow" 2000
board cut
flash cut "http://127.0.0.1:$slow/v1.sfpkg" --no-delta --link-timeout 60 >cut.log 2>&1 &
job=$!
sleep 2
kill "$slow_pid"
wait "$slow_pid" 2>/dev/null || true
sleep 1
lighttpd_start slow "$slow" 2000
if wait "$job" && same file cut && grep -q 'trying again' cut.log; then
	ok server_restarted_mid_fetch_resumed
else
	not_ok server_restarted_mid_fetch_resumed "$(grep -c 'trying again' cut.log) retries; $(tail -n 3 cut.log)"
fi

# the package replaced mid-fetch: started again from the manifest; the new package is written
board v2file
flash v2file v2.sfpkg >v2file.log 2>&1 || { tail v2file.log; exit 1; }
cp v1.sfpkg www/live.sfpkg
board changed
flash changed "http://127.0.0.1:$slow/live.sfpkg" --no-delta >changed.log 2>&1 &
job=$!
sleep 2
cp v2.sfpkg www/live.new && mv www/live.new www/live.sfpkg
if wait "$job" && grep -q 'changed on the server while it was being fetched (ETag .*, now .*): starting again from the manifest' changed.log &&
	same v2file changed; then
	ok package_replaced_mid_fetch_restarts_with_new
else
	not_ok package_replaced_mid_fetch_restarts_with_new "$(tail -n 3 changed.log)"
fi

# --report: the result POSTed as JSON; a report URL nobody answers does not fail the run
rport=$(free_port)
python3 - "$rport" >report.out 2>/dev/null <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        sys.stdout.write(body.decode()); sys.stdout.flush()
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
await_port "$rport"
board rep
if flash rep "$base/v1.sfpkg" --report "http://127.0.0.1:$rport/result" >rep.log 2>&1 &&
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["outcome"] == "success" and r["serial"] == "1" and r["slot"] == "A" and r["bytes_fetched"] > 0, r' report.out; then
	ok report_posted_as_json
else
	not_ok report_posted_as_json "$(cat report.out; tail -n 2 rep.log)"
fi
board rep2
if flash rep2 "$base/v1.sfpkg" --report "http://127.0.0.1:$dead/result" >rep2.log 2>&1 &&
	grep -q 'could not be reported' rep2.log; then
	ok report_unsent_does_not_fail_the_run
else
	not_ok report_unsent_does_not_fail_the_run "$(tail -n 2 rep2.log)"
fi

# an update over http: the same bytes and the same figures as from the file
board upd
flash upd v1.sfpkg >upd_flash.log 2>&1 || { tail upd_flash.log; exit 1; }
part() { # IMAGE NAME: "offset size" in bytes
	sfdisk --json "$1" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]: print(p["start"] * 512, p["size"] * 512)' "$2"
}
read -r b_off b_size < <(part upd.nvme APP_b)
# slot B holds another system's bytes (never zeros: the update must make the partition whole)
head -c "$b_size" /dev/zero | tr '\0' '\132' | dd of=upd.nvme bs=1M seek=$((b_off >> 20)) conv=notrunc status=none
for s in a b; do
	mkdir -p "upd-esp/selfflash/slot-$s"
	cp kernel1 "upd-esp/selfflash/slot-$s/Image"
done
mkdir -p upd-esp/loader/entries
printf 'timeout 0\neditor no\n' >upd-esp/loader/loader.conf
for s in a b; do
	S=$(tr ab AB <<<"$s") g=$([ "$s" = a ] && echo 2 || echo 1) r=$([ "$s" = a ] && echo APP || echo APP_b)
	printf 'title      selfflash slot %s, system version 1\nsort-key   selfflash\nversion    %s\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s system=1\n# selfflash system-version 1\n' \
		"$S" "$g" "$s" "$r" >upd-esp/loader/entries/selfflash-slot-$s.conf
done
for w in ufile uweb; do
	cp upd.nvme "$w.nvme"
	cp upd.qspi "$w.qspi"
	rm -rf "$w-esp" && cp -r upd-esp "$w-esp"
	cat >"$w.conf" <<CONF
pubkey $tmp/k.pub
eeprom $tmp/agx.eeprom
chip-sku D0
target spi nor-file:$tmp/$w.qspi:65536
target nvme block:$tmp/$w.nvme
slot-backend systemd-boot
esp $tmp/$w-esp
efivars $tmp/$w-vars
CONF
	sdboot_vars "$w-vars"
done
upfig() { sed -n 's/.*done: \([0-9]* bytes fetched, [0-9]* copied .*already in place\).*/\1/p' "$1"; }
"$fl" update --config ufile.conf --root-partition APP v2.sfpkg >ufile.log 2>&1 || { tail ufile.log; exit 1; }
if "$fl" update --config uweb.conf --root-partition APP "$base/v2.sfpkg" >uweb.log 2>&1 &&
	same ufile uweb && diff -r ufile-esp uweb-esp >/dev/null; then
	ok update_over_http_byte_identical
else
	not_ok update_over_http_byte_identical "$(tail -n 3 uweb.log)"
fi
if [ -n "$(upfig ufile.log)" ] && [ "$(upfig ufile.log)" = "$(upfig uweb.log)" ]; then
	ok update_over_http_same_figures "($(upfig uweb.log))"
else
	not_ok update_over_http_same_figures "file: '$(upfig ufile.log)', http: '$(upfig uweb.log)'"
fi
# KEEP_LOGS=DIR keeps the logs for a look
[ -z "${KEEP_LOGS:-}" ] || cp ./*.log "$KEEP_LOGS"/
finish
