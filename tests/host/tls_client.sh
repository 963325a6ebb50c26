#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The TLS client (initrd-flasher/net/tls.c) against openssl s_server: a test CA and server
# certificates made here with the openssl command (good for localhost, expired, not yet valid,
# for another name, signed by another CA), one server per case on a free local port, and
# build/tests/tls_probe connecting with net_connect_tcp + tls_wrap. The good case echoes a line
# (s_server -rev), four connections at once too; the others fail with their words; a plain TCP
# server "does not speak TLS"; a server that never answers times out within the timeout.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

BUILD=${BUILD:-build}
probe=$(pwd)/$BUILD/tests/tls_probe
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
# server_cert NAME CN SAN CA [PREFIX...]: NAME.pem and NAME.key, signed by CA (PREFIX: faketime)
server_cert() {
	local name=$1 cn=$2 san=$3 ca=$4
	shift 4
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
		-subj "/CN=$cn" -out "$name.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$san" >"$name.ext"
	"$@" openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
		-days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
}
server_cert good localhost DNS:localhost ca
server_cert wrong-name elsewhere.example DNS:elsewhere.example ca
server_cert by-other-ca localhost DNS:localhost other-ca
have_faketime=0
if command -v faketime >/dev/null && faketime '2001-01-01 00:00:00' true 2>/dev/null; then
	have_faketime=1
	# valid for 30 days from a date long past, and from a date still to come
	server_cert expired localhost DNS:localhost ca faketime '2001-01-01 00:00:00'
	server_cert not-yet localhost DNS:localhost ca faketime "$(date -d '+2 years' '+%Y-%m-%d')"
fi

# serve NAME: s_server with NAME's certificate on a new port (in $port), reversing each line
serve() {
	port=$(free_port)
	openssl s_server -accept "127.0.0.1:$port" -cert "$1.pem" -key "$1.key" -rev -quiet \
		</dev/null >"s_server-$1.log" 2>&1 &
	pids+=($!)
	await_port "$port" || echo "s_server for $1 did not start: $(cat "s_server-$1.log")" >&2
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

# a bundle without certificates is refused before any connection
printf 'nothing here\n' >empty.pem
expect_fail tls_bundle_without_certificates "empty.pem: no certificate in it" \
	"$probe" localhost "$port" empty.pem 1000 hello

finish
