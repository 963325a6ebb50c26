#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo's own certificate authority for updates over https:// (issue 16): a CA that the demo
# system trusts (rootfs/build.sh --ca) and a server certificate for updates.selfflash.test, the
# name the demo system's /etc/hosts gives the QEMU host. Made once by make, next to the demo
# signing key, and not reproducible, like it: this build's own keys. TLS only lets the board
# reach the right server; the package signature is what it trusts.
set -euo pipefail

usage() {
	cat <<'TXT'
usage: scripts/demo-ca.sh DIR
       scripts/demo-ca.sh --issue NAME OUT DIR

  DIR           makes DIR/ca.key and DIR/ca.pem (the CA) unless they exist, and
                DIR/updates.key, DIR/updates.pem (a server certificate for
                updates.selfflash.test signed by it) unless they exist
  --issue NAME OUT
                a server certificate for the DNS name NAME signed by DIR's CA, as OUT.pem and
                OUT.key (tests: a certificate for another name)

EC P-256 keys; the CA is valid for 10 years, server certificates for 2 (the board checks the
dates against its clock, which QEMU's RTC sets from the host's).
TXT
}

SERVER_NAME=updates.selfflash.test
CA_DAYS=3650 SERVER_DAYS=730

issue=
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--issue)
	[ $# = 4 ] || { echo "demo-ca: --issue needs NAME OUT DIR" >&2; usage >&2; exit 2; }
	issue=$2 out=$3
	shift 3 ;;
-*) echo "demo-ca: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
[ $# = 1 ] || { usage >&2; exit 2; }
dir=$1
command -v openssl >/dev/null || { echo "demo-ca: openssl not found (run: make deps)" >&2; exit 1; }
umask 077 # the private keys
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# server_cert NAME OUT: OUT.key and OUT.pem for DNS:NAME, signed by the CA; written under
# temporary names first, so an interrupted run leaves no half a pair
server_cert() {
	local name=$1 out=$2
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/server.key" \
		-subj "/CN=$name" -out "$tmp/server.csr" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$name" >"$tmp/server.ext"
	openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days "$SERVER_DAYS" -extfile "$tmp/server.ext" \
		-out "$tmp/server.pem" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	chmod 644 "$tmp/server.pem"
	mv "$tmp/server.key" "$out.key"
	mv "$tmp/server.pem" "$out.pem"
}

if [ -n "$issue" ]; then
	for f in ca.key ca.pem; do
		[ -f "$dir/$f" ] || { echo "demo-ca: $dir/$f: no such file (run: scripts/demo-ca.sh $dir)" >&2; exit 1; }
	done
	server_cert "$issue" "$out"
	exit 0
fi

if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
		-subj "/CN=selfflash demo CA" -days "$CA_DAYS" -out "$tmp/ca.pem" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	chmod 644 "$tmp/ca.pem"
	mv "$tmp/ca.key" "$dir/ca.key"
	mv "$tmp/ca.pem" "$dir/ca.pem"
	rm -f "$dir/updates.key" "$dir/updates.pem" # signed by a CA that is gone
fi
if [ ! -f "$dir/updates.key" ] || [ ! -f "$dir/updates.pem" ]; then
	server_cert "$SERVER_NAME" "$dir/updates"
fi
