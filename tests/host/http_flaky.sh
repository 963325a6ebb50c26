#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A flash over HTTP from a misbehaving web server (issue 23): lighttpd, REAL, behind
# tests/fault_proxy.py for the faults lighttpd cannot make on demand. Checked, each against a
# blank board flashed from the file: chunks corrupted on the way are fetched again on a fresh
# connection and the board is byte-identical; answers whose ETag a proxy dropped are not "a
# changed file"; a CDN's 8 KiB Content-Security-Policy header passes (sent by a lighttpd of
# its own: mod_setenv); a gzip-encoded answer is refused by name and nothing is written; a
# server answering 503 with Retry-After to one request in five is waited for and succeeds.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! command -v lighttpd >/dev/null; then
	skip http_flaky "lighttpd is not installed (make deps)"
	exit 0
fi
root=$(pwd)
native_setup
mi=$(dirname "$mk")/mkinitrd
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await_port() { for _ in $(seq 100); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

ab_board_layout board.xml 20971520
head -c 600000 /dev/urandom >fw.bin
head -c 3000000 /dev/urandom >app.img
head -c 700000 /dev/urandom >kernel
"$mi" --bootimg boot.img --kernel kernel --no-ramdisk --cmdline "system=1" >/dev/null
"$mk" keygen k >/dev/null
printf 'agx 3701 0005 - D0\n' >variants.txt
mkdir www
"$mk" build -q -o www/v1.sfpkg --layout board.xml --key k.key --system-version 1 --variants variants.txt \
	--file APP_A=app.img --file APP_B=app.img --file KERNEL_A=boot.img --file KERNEL_B=boot.img --chunk-size 65536
data_offset=$("$mk" show www/v1.sfpkg | sed -n 's/^package: .*, \([0-9]*\) bytes (manifest [0-9]*, data \([0-9]*\)).*/\1 \2/p' |
	awk '{ print $1 - $2 }')
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null

# lighttpd with the long header a CDN adds
csp=$(python3 -c 'print("default-src '"'"'self'"'"' " + " ".join("https://cdn%d.example.com" % i for i in range(330)))')
lighttpd_start() { # CONF_EXTRA: lighttpd on a free port; $web is the port
	web=$(free_port)
	cat >"web$web.conf" <<CONF
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $web
server.errorlog = "$tmp/web.err"
server.modules += ( "mod_setenv" )
mimetype.assign = ( "" => "application/octet-stream" )
$1
CONF
	lighttpd -D -f "web$web.conf" 2>>web.err &
	pids+=($!)
	await_port "$web"
}
lighttpd_start "setenv.add-response-header = ( \"Content-Security-Policy\" => \"$csp\" )"
csp_port=$web
lighttpd_start "" # the plain one, behind the proxy: each fault on its own
proxy() { # LOG ARGS...: the proxy on a free port in front of lighttpd; url
	local log=$1 port
	shift
	port=$(free_port)
	python3 "$root/tests/fault_proxy.py" --listen "$port" --upstream "$web" --log "$log" "$@" 2>>proxy.err &
	pids+=($!)
	await_port "$port"
	url=http://127.0.0.1:$port/v1.sfpkg
}
board() {
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
board file
flash file www/v1.sfpkg >file.log 2>&1 || { tail file.log; exit 1; }
board blank

# a CDN's long header: passes (it was refused for its length)
board csp
if flash csp "http://127.0.0.1:$csp_port/v1.sfpkg" >csp.log 2>&1 && same file csp; then
	ok "long_csp_header_passes (${#csp} bytes)"
else
	not_ok long_csp_header_passes "$(tail -n 2 csp.log)"
fi

# two chunks corrupted on the way: fetched again, the board as from the file
proxy corrupt.log --corrupt-first 2 --corrupt-offset "$data_offset"
board corrupt
if flash corrupt "$url" --no-delta >corrupt_run.log 2>&1 && same file corrupt &&
	[ "$(grep -c 'fetching them again on a fresh connection' corrupt_run.log)" = 2 ]; then
	ok "corrupted_chunks_fetched_again ($(grep -c ' corrupt ' corrupt.log) corrupted answers)"
else
	not_ok corrupted_chunks_fetched_again "$(grep -c ' corrupt ' corrupt.log) corrupted; $(tail -n 2 corrupt_run.log)"
fi

# every other answer without its ETag: not a changed file
proxy noetag.log --strip-etag-every 2
board noetag
if flash noetag "$url" >noetag_run.log 2>&1 && same file noetag && ! grep -q 'changed on the server' noetag_run.log; then
	ok "answers_without_etag_are_no_change ($(grep -c ' no-etag ' noetag.log) of $(wc -l <noetag.log))"
else
	not_ok answers_without_etag_are_no_change "$(tail -n 2 noetag_run.log)"
fi

# 503 with Retry-After: 1 to one request in five: waited for, then done
proxy busy.log --status-every 5 503 --retry-after 1
board busy
if flash busy "$url" >busy_run.log 2>&1 && same file busy &&
	grep -q 'HTTP 503 Service Unavailable; trying again in 1000 ms (its Retry-After)' busy_run.log; then
	ok "busy_server_503_retry_after_honoured ($(grep -c ' status 503 ' busy.log) x 503)"
else
	not_ok busy_server_503_retry_after_honoured "$(tail -n 2 busy_run.log)"
fi

# gzip-encoded answers: refused by name, nothing written
proxy gzip.log --gzip
board gzip
if ! flash gzip "$url" >gzip_run.log 2>&1 && grep -q 'the server sent gzip-encoded data' gzip_run.log && same blank gzip; then
	ok gzip_answer_refused_by_name
else
	not_ok gzip_answer_refused_by_name "$(tail -n 2 gzip_run.log)"
fi
[ -z "${KEEP_LOGS:-}" ] || cp ./*.log "$KEEP_LOGS"/
finish
