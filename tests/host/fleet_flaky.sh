#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A fleet against a flaky web server (issue 23): 4 native boards (tests/fleet_lib.sh, each
# state once) update at once from lighttpd behind tests/fault_proxy.py (HTTPS to the boards),
# which answers 503 to one request in ten and sends another tenth of its answers at 200
# bytes a second; every board still updates to system 2, its slot A and QSPI untouched, and
# the retries are counted from the boards' logs. Then a server that stops answering (the
# proxy frozen with SIGSTOP mid-run) ends a board's run within its --link-timeout, with a
# message that says so; the seconds are measured. And a server that answers everything
# steadily but slowly (above the minimum rate) ends the run at its run-timeout, nothing armed.
# lighttpd cannot misbehave on demand: the proxy does it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! command -v lighttpd >/dev/null; then
	skip fleet_flaky "lighttpd is not installed (make deps)"
	exit 0
fi
root=$(pwd)
. tests/fleet_lib.sh
native_setup
mi=$(dirname "$mk")/mkinitrd

fleet_system $((16 * 1048576))
fleet_template
states=(has-1 foreign has-2 damaged)
names=()
for i in 1 2 3 4; do
	names+=("board0$i")
	echo "${states[$((i - 1))]}" >"board0$i.state"
	fleet_board "board0$i" "fleet-0$i" "${states[$((i - 1))]}"
done

# lighttpd over plain HTTP; the proxy in front of it speaks HTTPS to the boards
up=$(fleet_free_port)
cat >web.conf <<CONF
server.document-root = "$PWD/www"
server.bind = "127.0.0.1"
server.port = $up
server.errorlog = "$PWD/web.err"
mimetype.assign = ( "" => "application/octet-stream" )
CONF
lighttpd -D -f web.conf 2>>web.err &
pids+=($!)
fleet_await_port "$up"
proxy_start() { # LOG ARGS...: the proxy on a free port; proxy_pid, fleet_url
	local log=$1 port
	shift
	port=$(fleet_free_port)
	python3 "$root/tests/fault_proxy.py" --listen "$port" --upstream "$up" --log "$log" \
		--tls web.pem web.key "$@" 2>>proxy.err &
	proxy_pid=$!
	pids+=("$proxy_pid")
	fleet_await_port "$port"
	fleet_url=https://localhost:$port/system2.sfpkg
}

proxy_start flaky.log --status-every 10 503 --trickle-every 10 200
fleet_update "${names[@]}"
kill "$proxy_pid"
failed=() wrong=()
for name in "${names[@]}"; do
	[ "$(cat "$name.rc")" = 0 ] || failed+=("$name")
	fleet_holds_system2 "$name" || wrong+=("$name")
done
served=$(wc -l <flaky.log)
busy=$(grep -c ' status 503 ' flaky.log || true)
slow=$(grep -c ' trickle ' flaky.log || true)
seen503=$(cat board0?.log | grep -c 'HTTP 503 Service Unavailable; trying again' || true)
seenslow=$(cat board0?.log | grep -c 'below the minimum of 1024 bytes/s: dropped; trying again' || true)
echo "  the proxy answered $served requests: $busy with 503, $slow trickling; the boards logged $seen503 retries after a 503, $seenslow after a trickle (${fleet_seconds} s for all)"
if [ "${#failed[@]}" = 0 ] && [ "${#wrong[@]}" = 0 ] && [ "$busy" -gt 0 ] && [ "$seen503" = "$busy" ]; then
	ok "fleet_flaky_all_4_boards_update_through_503s_and_trickles ($busy x 503, $slow trickling, ${fleet_seconds} s)"
else
	not_ok fleet_flaky_all_4_boards_update_through_503s_and_trickles \
		"failed: ${failed[*]:-none}; not system 2: ${wrong[*]:-none}; 503s $busy seen $seen503; $(tail -n 2 "${failed[0]:-board01}.log")"
fi

# a server that stops answering mid-run: the run ends within its --link-timeout, saying so
timeout_s=10
fleet_board dead fleet-dead foreign
sed -i '/^esp /a link-timeout '"$timeout_s" dead.conf
proxy_start dead.log
t0=$EPOCHREALTIME
"$fl" update --config dead.conf --root-partition APP "$fleet_url" >dead_run.log 2>&1 &
job=$!
for _ in $(seq 100); do [ -s dead.log ] && break; sleep 0.05; done
kill -STOP "$proxy_pid"
t_stop=$EPOCHREALTIME
rc=0
wait "$job" || rc=$?
t_end=$EPOCHREALTIME
kill -CONT "$proxy_pid" 2>/dev/null || true
secs=$(awk -v a="$t_stop" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
msg=$(grep -m1 "FAILED.*link-timeout $timeout_s s" dead_run.log || true)
echo "  server frozen: the run ended $secs s later (link-timeout $timeout_s s): ${msg:-$(tail -n 1 dead_run.log)}"
if [ "$rc" != 0 ] && [ -n "$msg" ] && awk -v s="$secs" -v t="$timeout_s" 'BEGIN { exit !(s <= t + 3) }'; then
	ok "fleet_flaky_dead_server_ends_the_run_within_link_timeout (${secs} s, link-timeout ${timeout_s} s)"
else
	not_ok fleet_flaky_dead_server_ends_the_run_within_link_timeout "rc $rc after $secs s: $(tail -n 3 dead_run.log)"
fi

# a server that keeps answering, every answer at 4000 bytes/s (above the minimum rate, so no
# request is ever dropped): the run ends at its run-timeout, saying so, with nothing armed and
# slot A, the QSPI and the ESP's entries as they were
run_timeout_s=8
fleet_board steady fleet-steady foreign
sed -i '/^esp /a run-timeout '"$run_timeout_s" steady.conf
cp -r steady-esp steady-esp.before
proxy_start steady.log --trickle-every 1 4000
t0=$EPOCHREALTIME
rc=0
"$fl" update --config steady.conf --root-partition APP "$fleet_url" >steady_run.log 2>&1 || rc=$?
t_end=$EPOCHREALTIME
kill "$proxy_pid" 2>/dev/null || true
secs=$(awk -v a="$t0" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
msg=$(grep -m1 "FAILED.*run-timeout $run_timeout_s s" steady_run.log || true)
answers=$(grep -c ' trickle ' steady.log || true)
echo "  a steady 4000 B/s server: the run ended after $secs s (run-timeout $run_timeout_s s, $answers answers): ${msg:-$(tail -n 1 steady_run.log)}"
if [ "$rc" != 0 ] && [ -n "$msg" ] && awk -v s="$secs" -v t="$run_timeout_s" 'BEGIN { exit !(s >= t && s <= t + 3) }' &&
	[ "$(dd if=steady.nvme bs=1M skip="$fleet_a_off" count="$fleet_a_size" iflag=skip_bytes,count_bytes \
		status=none | sha256sum)" = "$(cat steady.slot-a)" ] &&
	cmp -s template.qspi steady.qspi && diff -r steady-esp.before steady-esp >/dev/null; then
	ok "fleet_flaky_steady_slow_server_ends_at_run_timeout (${secs} s, run-timeout ${run_timeout_s} s, nothing armed)"
else
	not_ok fleet_flaky_steady_slow_server_ends_at_run_timeout "rc $rc after $secs s: $(tail -n 3 steady_run.log); $(diff -r steady-esp.before steady-esp | head -n 3)"
fi
[ -z "${KEEP_LOGS:-}" ] || cp ./*.log "$KEEP_LOGS"/
finish
