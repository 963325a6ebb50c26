#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The TLS client (initrd-flasher/net/tls.c) against openssl s_server: a test CA and server
# certificates made here with the openssl command (good for localhost, expired, not yet valid,
# for another name, signed by another CA), one server per case on a free local port, and
# build/tests/tls_probe connecting with net_connect_tcp + tls_wrap. The good case echoes a line
# (s_server -rev), four connections at once too; the others fail with their words; a plain TCP
# server "does not speak TLS"; a server that never answers times out within the timeout; a
# server that answers with empty TLS records only (tls_empty_server) is dropped in seconds.
# Names follow RFC 6125: only subjectAltName DNS names count (a CN alone, or a CN that is right
# beside a SAN that is not, is refused), an IP address as host is refused whatever the
# certificate says, wildcards stand for one whole left-most label. Cipher suites: the
# ClientHello offers exactly the six TLS 1.2 ECDHE AEAD suites (no 3DES: this OpenSSL has none
# to serve, so a stand-in server records what is offered); a server with only static-RSA or
# only CBC suites is refused with words naming what the client offers; ECDHE-RSA with
# AES128-GCM, ECDHE-ECDSA with ChaCha20 and with AES256-GCM (SHA-384) are accepted.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

BUILD=${BUILD:-build}
probe=${PROBE:-$(pwd)/$BUILD/tests/tls_probe}
empty_server=${EMPTY_SERVER:-$(pwd)/$BUILD/tests/tls_empty_server}
if [ ! -x "$probe" ]; then
	not_ok tls_probe_built "$probe is missing (make $BUILD/tests/tls_probe)"
	exit 1
fi
if ! command -v openssl >/dev/null; then
	skip tls_client "openssl is not installed (scripts/deps.sh installs it)"
	exit 0
fi

native_setup

# a port nobody listens on now (the kernel's pick for an ephemeral bind)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# await_port PORT: waits up to 5 s until something listens on 127.0.0.1:PORT
await_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# the CAs and the server certificates (EC P-256, as most servers today; the other CA is RSA)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
	-subj /CN=selfflash-test-ca -days 30 -out ca.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -subj /CN=another-ca -days 30 \
	-out other-ca.pem 2>/dev/null
# server_cert NAME CN SAN CA [PREFIX...]: NAME.pem and NAME.key, signed by CA (PREFIX: faketime);
# SAN "" for none; KEY=rsa for an RSA key (EC P-256 otherwise)
server_cert() {
	local name=$1 cn=$2 san=$3 ca=$4
	shift 4
	if [ "${KEY:-ec}" = rsa ]; then
		openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -subj "/CN=$cn" \
			-out "$name.csr" 2>/dev/null
	else
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
			-subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	fi
	printf 'basicConstraints=CA:FALSE\n' >"$name.ext"
	[ -z "$san" ] || printf 'subjectAltName=%s\n' "$san" >>"$name.ext"
	"$@" openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
		-days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
}
server_cert good localhost DNS:localhost ca
server_cert wrong-name elsewhere.example DNS:elsewhere.example ca
server_cert by-other-ca localhost DNS:localhost other-ca
# RFC 6125 names
server_cert cn-only localhost "" ca
server_cert cn-right-san-wrong localhost DNS:elsewhere.example ca
server_cert many-names elsewhere.example DNS:a.example,DNS:b.example,DNS:c.example,DNS:localhost ca
server_cert ip-in-cn 127.0.0.1 "" ca
server_cert ip-as-dns 127.0.0.1 DNS:127.0.0.1 ca
server_cert ip-san 127.0.0.1 IP:127.0.0.1 ca
server_cert wildcard wild DNS:*.selfflash.test ca
server_cert wildcard-tld wild DNS:*.test ca
server_cert wildcard-partial wild DNS:up*.selfflash.test ca
KEY=rsa server_cert rsa localhost DNS:localhost ca
have_faketime=0
if command -v faketime >/dev/null && faketime '2001-01-01 00:00:00' true 2>/dev/null; then
	have_faketime=1
	# valid for 30 days from a date long past, and from a date still to come
	server_cert expired localhost DNS:localhost ca faketime '2001-01-01 00:00:00'
	server_cert not-yet localhost DNS:localhost ca faketime "$(date -d '+2 years' '+%Y-%m-%d')"
fi

# serve NAME [S_SERVER ARGS...]: s_server with NAME's certificate on a new port (in $port),
# reversing each line
serve() {
	local name=$1
	shift
	port=$(free_port)
	openssl s_server -accept "127.0.0.1:$port" -cert "$name.pem" -key "$name.key" -rev -quiet \
		"$@" </dev/null >"s_server-$name.log" 2>&1 &
	pids+=($!)
	await_port "$port" || echo "s_server for $name did not start: $(cat "s_server-$name.log")" >&2
}

serve good
expect_exit tls_good_echo 0 '^olleh$' "$probe" localhost "$port" ca.pem 5000 hello
# the bundle with both CAs, in CRLF, the right one last
cat other-ca.pem ca.pem | sed 's/$/\r/' >both.pem
expect_exit tls_good_crlf_bundle_of_two 0 '^olleh$' "$probe" localhost "$port" both.pem 5000 hello
start=$(date +%s%N)
out=$("$probe" -n 4 localhost "$port" ca.pem 5000 four 2>&1) && rc=0 || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 0 ] && [ "$(grep -c '^ruof$' <<<"$out")" = 4 ]; then
	ok "tls_four_connections_at_once (${ms} ms)"
else
	not_ok tls_four_connections_at_once "exit $rc: $out"
fi

if [ "$have_faketime" = 1 ]; then
	serve expired
	expect_fail tls_expired "localhost:$port: the server's certificate has expired or is not valid yet" \
		"$probe" localhost "$port" ca.pem 5000 hello
	serve not-yet
	expect_fail tls_not_yet_valid "localhost:$port: the server's certificate has expired or is not valid yet" \
		"$probe" localhost "$port" ca.pem 5000 hello
else
	skip tls_expired "faketime is not installed (scripts/deps.sh installs it)"
	skip tls_not_yet_valid "faketime is not installed (scripts/deps.sh installs it)"
fi

serve wrong-name
expect_fail tls_wrong_name "localhost:$port: the server's certificate is not for localhost" \
	"$probe" localhost "$port" ca.pem 5000 hello

serve by-other-ca
expect_fail tls_wrong_ca "localhost:$port: the server's certificate is not signed by a CA in the bundle" \
	"$probe" localhost "$port" ca.pem 5000 hello

# a plain HTTP server: it answers the ClientHello with an HTTP error, as web servers do
port=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:
    c, _ = s.accept(); c.recv(4096)
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); c.close()
' "$port" &
pids+=($!)
await_port "$port"
expect_fail tls_plain_http_server "localhost:$port: the server does not speak TLS \(http:// instead of https://\?\)" \
	"$probe" localhost "$port" ca.pem 5000 hello

# a server that accepts and never answers: the handshake must end at the timeout (1.5 s)
port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
c, _ = s.accept(); time.sleep(60)
' "$port" &
pids+=($!)
await_port "$port"
start=$(date +%s%N)
out=$("$probe" localhost "$port" ca.pem 1500 hello 2>&1) && rc=0 || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 0 ]; then
	not_ok tls_silent_server_times_out "succeeded against a silent server"
elif ! grep -q "localhost:$port: .*timed out" <<<"$out"; then
	not_ok tls_silent_server_times_out "message: $out"
elif [ "$ms" -lt 1400 ] || [ "$ms" -gt 3000 ]; then
	not_ok tls_silent_server_times_out "took $ms ms with a 1500 ms timeout"
else
	ok "tls_silent_server_times_out (${ms} ms, timeout 1500 ms)"
fi

# a server that answers the request with empty TLS records, ~1 a millisecond (each moves a
# minimum-rate deadline on, and BearSSL reads past them): dropped once 64 KiB of records
# brought no data, about 3,100 records (3.7 s); timeout 30 makes a client that waits for ever
# fail here instead of hanging the suite
if [ -x "$empty_server" ]; then
	port=$(free_port)
	"$empty_server" "$port" good.pem good.key 2>empty-server.log &
	pids+=($!)
	await_port "$port" || echo "tls_empty_server did not start: $(cat empty-server.log)" >&2
	start=$(date +%s%N)
	out=$(timeout 30 "$probe" localhost "$port" ca.pem 5000 hello 2>&1) && rc=0 || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		not_ok tls_empty_records_dropped "exit $rc after $ms ms: $out"
	elif ! grep -Eq "localhost:$port: 6[5-9][0-9]{3} bytes of TLS records brought no data \(empty records\): dropped" <<<"$out"; then
		not_ok tls_empty_records_dropped "message: $out"
	elif [ "$ms" -gt 10000 ]; then
		not_ok tls_empty_records_dropped "took $ms ms"
	else
		ok "tls_empty_records_dropped (${ms} ms)"
	fi
else
	not_ok tls_empty_server_built "$empty_server is missing (make $BUILD/tests/tls_empty_server)"
fi

# a bundle without certificates is refused before any connection
printf 'nothing here\n' >empty.pem
expect_fail tls_bundle_without_certificates "empty.pem: no certificate in it" \
	"$probe" localhost "$port" empty.pem 1000 hello

# ---- names (RFC 6125) ------------------------------------------------------------------
serve cn-only
expect_fail tls_cn_without_san_refused \
	"localhost:$port: the server's certificate is not for localhost: it names no DNS name in its subjectAltName \(a CN is not used" \
	"$probe" localhost "$port" ca.pem 5000 hello
serve cn-right-san-wrong
expect_fail tls_right_cn_wrong_san_refused \
	"localhost:$port: the server's certificate is not for localhost: it is for elsewhere.example$" \
	"$probe" localhost "$port" ca.pem 5000 hello
serve many-names
expect_exit tls_fourth_san_name_matches 0 '^olleh$' "$probe" localhost "$port" ca.pem 5000 hello
# an IP address as host: refused by name before the handshake, whatever the certificate holds
# (a CN or a DNS name spelling it was accepted before; an IP SAN is refused too: one rule)
for cert in ip-in-cn ip-as-dns ip-san; do
	serve "$cert"
	expect_fail "tls_ip_host_refused_$cert" \
		"127.0.0.1:$port: https host 127.0.0.1 is an IP address: refused, a server's certificate is checked against DNS names only" \
		"$probe" 127.0.0.1 "$port" ca.pem 5000 hello
done
# wildcards: one whole left-most label, not over a top-level domain, never partial
serve wildcard
expect_exit tls_wildcard_one_label 0 '^olleh$' "$probe" -c 127.0.0.1 updates.selfflash.test "$port" ca.pem 5000 hello
expect_exit tls_wildcard_any_case 0 '^olleh$' "$probe" -c 127.0.0.1 A.SelfFlash.TEST "$port" ca.pem 5000 hello
expect_fail tls_wildcard_not_two_labels "is not for a.b.selfflash.test: it is for \*.selfflash.test" \
	"$probe" -c 127.0.0.1 a.b.selfflash.test "$port" ca.pem 5000 hello
expect_fail tls_wildcard_not_the_bare_domain "is not for selfflash.test: it is for \*.selfflash.test" \
	"$probe" -c 127.0.0.1 selfflash.test "$port" ca.pem 5000 hello
serve wildcard-tld
expect_fail tls_wildcard_over_tld_refused "is not for selfflash.test: it is for \*.test" \
	"$probe" -c 127.0.0.1 selfflash.test "$port" ca.pem 5000 hello
serve wildcard-partial
expect_fail tls_partial_wildcard_refused "is not for updates.selfflash.test: it is for up\*.selfflash.test" \
	"$probe" -c 127.0.0.1 updates.selfflash.test "$port" ca.pem 5000 hello

# ---- cipher suites ---------------------------------------------------------------------
# what the ClientHello offers, recorded by a stand-in server that then refuses (alert 40)
port=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:                           # the port check connects and closes first
    c, _ = s.accept()
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        more = c.recv(65536)
        if not more: break
        data += more
    if data: break
hello = data[5:]                      # one handshake record: ClientHello
assert data[0] == 22 and hello[0] == 1, data[:8]
p = 4 + 2 + 32                        # handshake header, client_version, random
p += 1 + hello[p]                     # session id
n = int.from_bytes(hello[p:p + 2], "big")
suites = [hello[i:i + 2].hex() for i in range(p + 2, p + 2 + n, 2)]
open(sys.argv[2], "w").write("version %s\n%s\n" % (hello[4:6].hex(), " ".join(suites)))
c.sendall(bytes([21, 3, 3, 0, 2, 2, 40]))   # fatal handshake_failure
c.close()
' "$port" offered.txt &
pids+=($!)
await_port "$port"
expect_fail tls_no_suite_in_common_named \
	"localhost:$port: the server refused the TLS handshake: alert 40 \(handshake_failure: no cipher suite or curve in common; this client offers TLS 1.2 ECDHE \(ECDSA or RSA\) with AES-GCM or ChaCha20-Poly1305 only" \
	"$probe" localhost "$port" ca.pem 5000 hello
# IANA codes: ECDHE-ECDSA/RSA with CHACHA20-POLY1305 (cca9 cca8), AES-128-GCM (c02b c02f),
# AES-256-GCM (c02c c030); no 3DES (000a c008 c012 ...), CBC or static RSA (002f 009c ...)
want="version 0303
cca9 cca8 c02b c02f c02c c030"
if [ "$(cat offered.txt 2>/dev/null)" = "$want" ]; then
	ok tls_offers_only_ecdhe_aead_suites
else
	not_ok tls_offers_only_ecdhe_aead_suites "offered: $(cat offered.txt 2>/dev/null)"
fi
# real servers that have no suite in common with it: static RSA only (even with GCM), and
# ECDHE with CBC only
serve rsa -tls1_2 -cipher AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA
expect_fail tls_static_rsa_server_refused \
	"localhost:$port: the server refused the TLS handshake: alert 40 \(handshake_failure: no cipher suite or curve in common; this client offers TLS 1.2 ECDHE" \
	"$probe" localhost "$port" ca.pem 5000 hello
serve rsa -tls1_2 -cipher ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384
expect_fail tls_cbc_only_server_refused \
	"localhost:$port: the server refused the TLS handshake: alert 40 \(handshake_failure: .*no 3DES, CBC or static-RSA suite" \
	"$probe" localhost "$port" ca.pem 5000 hello
# and servers of one modern suite each are accepted
serve rsa -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
expect_exit tls_ecdhe_rsa_aes128_gcm_accepted 0 '^olleh$' "$probe" localhost "$port" ca.pem 5000 hello
serve good -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
expect_exit tls_ecdhe_ecdsa_chacha20_accepted 0 '^olleh$' "$probe" localhost "$port" ca.pem 5000 hello
serve good -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
expect_exit tls_ecdhe_ecdsa_aes256_gcm_sha384_accepted 0 '^olleh$' "$probe" localhost "$port" ca.pem 5000 hello

finish
