#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packages over HTTPS (issue 16) from a real web server: lighttpd with mod_openssl on free
# local ports, a test CA and server certificates made here with openssl (for the DNS name
# localhost: BearSSL checks DNS names only). A flash and an update over https:// give
# byte-identical results to the file; a wrong CA bundle, an expired certificate, a certificate
# for another name, https:// to a plain-HTTP port and an https -> http redirect each fail with
# their words and write nothing (disk, QSPI and ESP hashed before and after); an http -> https
# redirect by the server is followed. Names follow RFC 6125: a certificate naming localhost in
# its CN only is refused, and so is an https URL whose host is an IP address, before any
# connection, even against a server whose certificate spells that address as a DNS name.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
for tool in lighttpd openssl faketime; do
	if ! command -v "$tool" >/dev/null; then
		skip https_source "$tool is not installed (make deps)"
		exit 0
	fi
done
if [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	skip https_source "lighttpd-mod-openssl is not installed (make deps)"
	exit 0
fi
native_setup
mi=$(dirname "$mk")/mkinitrd

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await_port() { for _ in $(seq 100); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# ---- the CA and the server certificates (EC P-256; the other CA is RSA) -----------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
	-subj /CN=selfflash-test-ca -days 30 -out ca.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -subj /CN=another-ca -days 30 \
	-out other-ca.pem 2>/dev/null
# server_cert NAME CN [PREFIX...]: NAME.pem and NAME.key signed by ca, for DNS name CN
# (PREFIX: faketime, for a certificate whose 30 days are long past)
server_cert() {
	local name=$1 cn=$2
	shift 2
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
		-subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\n' "$cn" >"$name.ext"
	"$@" openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
}
server_cert good localhost
server_cert wrong-name elsewhere.example
server_cert expired localhost faketime '2001-01-01 00:00:00'
# other_cert NAME CN [EXT]: as server_cert, with the extension line EXT (none if empty)
other_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-subj "/CN=$2" -out "$1.csr" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\n%s\n' "${3:-}" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
other_cert cn-only localhost
other_cert ip-as-dns 127.0.0.1 subjectAltName=DNS:127.0.0.1

# ---- one lighttpd: a plain port and three TLS ports, one per certificate ----------------
plain=$(free_port) tls=$(free_port) tls_expired=$(free_port) tls_wrong_name=$(free_port)
tls_cn_only=$(free_port) tls_ip=$(free_port)
mkdir www
tls_socket() { # PORT CERT [MORE CONFIG]
	# shellcheck disable=SC2016 # lighttpd's own $SERVER, not the shell's
	printf '$SERVER["socket"] == "127.0.0.1:%s" {\n  ssl.engine = "enable"\n' "$1"
	printf '  ssl.pemfile = "%s/%s.pem"\n  ssl.privkey = "%s/%s.key"\n%s\n}\n' "$tmp" "$2" "$tmp" "$2" "${3:-}"
}
{
	cat <<CONF
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $plain
server.errorlog = "$tmp/web.err"
server.modules += ( "mod_openssl", "mod_redirect" )
mimetype.assign = ( "" => "application/octet-stream" )
url.redirect = ( "^/to-https/(.*)\$" => "https://localhost:$tls/\$1" )
CONF
	tls_socket "$tls" good "  url.redirect = ( \"^/to-http/(.*)\$\" => \"http://localhost:$plain/\$1\" )"
	tls_socket "$tls_expired" expired
	tls_socket "$tls_wrong_name" wrong-name
	tls_socket "$tls_cn_only" cn-only
	tls_socket "$tls_ip" ip-as-dns
} >web.conf
lighttpd -D -f web.conf 2>>web.err &
pids+=($!)
for p in "$plain" "$tls" "$tls_expired" "$tls_wrong_name" "$tls_cn_only" "$tls_ip"; do
	await_port "$p" || { not_ok lighttpd_started "$(cat web.err)"; exit 1; }
done
https=https://localhost:$tls

# ---- the board and its packages (as tests/host/http_source.sh) --------------------------
ab_board_layout board.xml 20971520
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
for v in 1 2; do
	"$mk" build -q -o www/v$v.sfpkg --layout board.xml --key k.key --system-version $v \
		--variants variants.txt --file APP_A=app$v.img --file APP_B=app$v.img \
		--file KERNEL_A=boot$v.img --file KERNEL_B=boot$v.img --chunk-size 65536
done
"$mk" eeprom -o agx.eeprom --part-number "699-13701-0005-500 M.0" --serial 1 >/dev/null

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

# ---- a flash over https, and an http:// URL the server redirects to https:// ------------
board file
board web
flash file www/v1.sfpkg >flash_file.log 2>&1 || { tail flash_file.log; exit 1; }
if flash web "$https/v1.sfpkg" --ca ca.pem >flash_web.log 2>&1 && same file web; then
	ok flash_over_https_byte_identical
else
	not_ok flash_over_https_byte_identical "$(tail -n 3 flash_web.log)"
fi
board upgraded
if flash upgraded "http://localhost:$plain/to-https/v1.sfpkg" --ca ca.pem >upgraded.log 2>&1 &&
	same file upgraded && grep -q "package http://localhost:$plain/to-https/v1.sfpkg" upgraded.log; then
	ok http_redirected_to_https_followed
else
	not_ok http_redirected_to_https_followed "$(tail -n 3 upgraded.log)"
fi

# ---- a board running system 1 from slot A, slot B holding other bytes, its ESP -------------
board upd
cp file.nvme upd.nvme
cp file.qspi upd.qspi
b_off_size=$(sfdisk --json upd.nvme | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "APP_b": print(p["start"] * 512, p["size"] * 512)')
read -r b_off b_size <<<"$b_off_size"
# slot B holds another system's bytes (never zeros: the update must make the partition whole)
head -c "$b_size" /dev/zero | tr '\0' '\132' | dd of=upd.nvme bs=1M seek=$((b_off >> 20)) conv=notrunc status=none
mkdir -p upd-esp/loader/entries
printf 'timeout 0\neditor no\n' >upd-esp/loader/loader.conf
for s in a b; do
	S=$(tr ab AB <<<"$s") g=$([ "$s" = a ] && echo 2 || echo 1) r=$([ "$s" = a ] && echo APP || echo APP_b)
	mkdir -p "upd-esp/selfflash/slot-$s"
	cp kernel1 "upd-esp/selfflash/slot-$s/Image"
	printf 'title      selfflash slot %s, system version 1\nsort-key   selfflash\nversion    %s\nlinux      /selfflash/slot-%s/Image\noptions    root=PARTLABEL=%s system=1\n# selfflash system-version 1\n' \
		"$S" "$g" "$s" "$r" >"upd-esp/loader/entries/selfflash-slot-$s.conf"
done
new_board() { # NAME: a copy of that board, with its config (the trust anchors: ca.pem)
	cp upd.nvme "$1.nvme"
	cp upd.qspi "$1.qspi"
	rm -rf "$1-esp" && cp -r upd-esp "$1-esp"
	cat >"$1.conf" <<CONF
pubkey $tmp/k.pub
eeprom $tmp/agx.eeprom
chip-sku D0
target spi nor-file:$tmp/$1.qspi:65536
target nvme block:$tmp/$1.nvme
slot-backend systemd-boot
esp $tmp/$1-esp
efivars $tmp/$1-vars
ca $tmp/ca.pem
CONF
	sdboot_vars "$1-vars"
}
update() { # BOARD SOURCE [ARGS...]
	local b=$1
	shift
	"$fl" update --config "$b.conf" --root-partition APP "$@"
}
# the disk, the QSPI and every file of the ESP (names and bytes)
state() {
	sha256sum "$1.nvme" "$1.qspi" | cut -d' ' -f1 | tr '\n' ' '
	(cd "$1-esp" && find . -type f | sort | xargs sha256sum) | sha256sum | cut -c1-16
}
new_board ufile
new_board uweb
update ufile www/v2.sfpkg >ufile.log 2>&1 || { tail ufile.log; exit 1; }
if update uweb "$https/v2.sfpkg" >uweb.log 2>&1 && [ "$(state uweb)" = "$(state ufile)" ]; then
	ok update_over_https_byte_identical_disk_qspi_esp
else
	not_ok update_over_https_byte_identical_disk_qspi_esp "$(tail -n 3 uweb.log)"
fi

# ---- refused before anything is written: the words, and the board as it was ------------
new_board fail
before=$(state fail)
refused() { # NAME WORDS SOURCE [ARGS...]
	local name=$1 want=$2
	shift 2
	if ! update fail "$@" >"$name.log" 2>&1 && grep -q -- "$want" "$name.log" &&
		[ "$(state fail)" = "$before" ]; then
		ok "${name}_clear_error_nothing_written"
	else
		not_ok "${name}_clear_error_nothing_written" "$(tail -n 2 "$name.log")"
	fi
}
refused wrong_ca_bundle "localhost:$tls: the server's certificate is not signed by a CA in the bundle" \
	"$https/v2.sfpkg" --ca other-ca.pem
refused expired_certificate "localhost:$tls_expired: the server's certificate has expired or is not valid yet" \
	"https://localhost:$tls_expired/v2.sfpkg"
refused certificate_for_another_name "localhost:$tls_wrong_name: the server's certificate is not for localhost" \
	"https://localhost:$tls_wrong_name/v2.sfpkg"
refused certificate_with_cn_only \
	"localhost:$tls_cn_only: the server's certificate is not for localhost: it names no DNS name in its subjectAltName" \
	"https://localhost:$tls_cn_only/v2.sfpkg"
# an IP address: refused by name, whatever the certificate says (this one names it as a DNS
# name, which the client took before), and before connecting (a dead port says the same)
refused https_ip_address_host "https host 127.0.0.1 is an IP address: refused" \
	"https://127.0.0.1:$tls_ip/v2.sfpkg"
refused https_ip_address_host_before_connecting "https host 127.0.0.1 is an IP address: refused" \
	"https://127.0.0.1:$(free_port)/v2.sfpkg"
refused https_ipv6_address_host "https host ::1 is an IP address: refused" "https://[::1]:$tls_ip/v2.sfpkg"
refused https_to_plain_http_port "localhost:$plain: the server does not speak TLS" \
	"https://localhost:$plain/v2.sfpkg"
refused https_redirected_to_http "redirected from https to http: refused (a downgrade)" \
	"$https/to-http/v2.sfpkg"
finish
