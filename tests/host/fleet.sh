#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A fleet (issue 16): 16 native boards, each with its own serial number, running system 1 from
# slot A in four different starting states (tests/fleet_lib.sh: slot B as flashed, foreign,
# holding system 2 already, system 2 with damaged chunks), all run `flasher update` of system
# 2 at once from ONE lighttpd over HTTPS. Checked: all succeed; every board's slot B holds
# system 2 and its slot A, QSPI and other ESP files are as before; and from the server's
# access log (each request names its board: X-Selfflash-Board), each board was served exactly
# the chunks its starting state lacked (worked out from its disk before the update, by
# tests/fleet_check.py), no range twice: the same bytes the flasher says it fetched. A board
# holding system 2 already is served the manifest only. Prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
if ! command -v lighttpd >/dev/null || [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	skip fleet "lighttpd or lighttpd-mod-openssl is not installed (make deps)"
	exit 0
fi
root=$(pwd)
. tests/fleet_lib.sh
native_setup
mi=$(dirname "$mk")/mkinitrd
boards=${FLEET_BOARDS:-16}

fleet_system $((16 * 1048576))
fleet_template
states=(has-1 foreign has-2 damaged)
names=()
for i in $(seq "$boards"); do
	name=$(printf 'board%02d' "$i")
	names+=("$name")
	echo "${states[$(((i - 1) % 4))]}" >"$name.state"
	fleet_board "$name" "$(printf 'fleet-%02d' "$i")" "$(cat "$name.state")"
done
fleet_server_start
fleet_update "${names[@]}"
fleet_server_stop

failed=()
for name in "${names[@]}"; do [ "$(cat "$name.rc")" = 0 ] || failed+=("$name"); done
if [ "${#failed[@]}" = 0 ]; then
	ok "fleet_all_${boards}_updates_succeed (${fleet_seconds} s for all at once)"
else
	not_ok "fleet_all_${boards}_updates_succeed" "failed: ${failed[*]}: $(tail -n 2 "${failed[0]}.log")"
fi

wrong=()
for name in "${names[@]}"; do fleet_holds_system2 "$name" || wrong+=("$name"); done
if [ "${#wrong[@]}" = 0 ]; then
	ok fleet_every_slot_b_is_system_2_slot_a_qspi_untouched
else
	not_ok fleet_every_slot_b_is_system_2_slot_a_qspi_untouched "not so on: ${wrong[*]}"
fi

# per board: what it lacked, what it says it fetched, what the server's log says it sent
python3 "$root/tests/fleet_check.py" served "$tmp/access.log" "$fleet_data_offset" >"$tmp/served.txt"
printf '  %-8s %-8s %14s %14s %14s %12s %8s %6s\n' board state "lacked (B)" "fetched (B)" \
	"served (B)" "manifest (B)" requests s
mismatch=() unnamed=0 total=0
for i in $(seq "$boards"); do
	name=${names[$((i - 1))]} serial=$(printf 'fleet-%02d' "$i")
	read -r need_chunks need_bytes <"$tmp/$name.need"
	fetched=$(fleet_fetched "$tmp/$name")
	line=$(awk -v b="$serial" '$1 == b' "$tmp/served.txt")
	read -r _ requests head chunk_requests chunk_bytes repeated not_206 <<<"${line:-x 0 0 0 0 0 0}"
	total=$((total + head + chunk_bytes))
	printf '  %-8s %-8s %14s %14s %14s %12s %8s %6s\n' "$serial" "$(cat "$tmp/$name.state")" \
		"$need_bytes" "${fetched:-?}" "$chunk_bytes" "$head" "$requests" "$(cat "$tmp/$name.seconds")"
	if [ -z "$line" ] || [ "$need_bytes" != "${fetched:-x}" ] || [ "$chunk_bytes" != "$need_bytes" ] ||
		[ "$chunk_requests" != "$need_chunks" ] || [ "$repeated" != 0 ] || [ "$not_206" != 0 ]; then
		mismatch+=("$serial: lacked $need_chunks chunks/$need_bytes B, fetched ${fetched:-?} B, served $chunk_requests/$chunk_bytes B, $repeated repeated, $not_206 not 206")
	fi
done
unnamed=$(awk '$1 !~ /^fleet-/' "$tmp/served.txt" | wc -l)
echo "  $boards boards in ${fleet_seconds} s; the server sent $total bytes (package: $(stat -c %s "$tmp/www/system2.sfpkg") bytes)"
if [ "${#mismatch[@]}" = 0 ] && [ "$(wc -l <"$tmp/served.txt")" = "$boards" ] && [ "$unnamed" = 0 ]; then
	ok fleet_each_board_served_exactly_the_chunks_it_lacked
else
	not_ok fleet_each_board_served_exactly_the_chunks_it_lacked \
		"${mismatch[*]:-}; $(wc -l <"$tmp/served.txt") boards in the log, $unnamed without a name"
fi
# a board that holds system 2 already: the manifest, and not one chunk
has2=
for i in $(seq "$boards"); do
	if [ -z "$has2" ] && [ "$(cat "$tmp/${names[$((i - 1))]}.state")" = has-2 ]; then
		has2=$(printf 'fleet-%02d' "$i")
	fi
done
if [ -n "$has2" ] && awk -v b="$has2" '$1 == b && $4 == 0 && $3 > 0 { f = 1 } END { exit !f }' "$tmp/served.txt"; then
	ok "fleet_board_holding_system_2_fetched_only_the_manifest ($has2)"
else
	not_ok fleet_board_holding_system_2_fetched_only_the_manifest "$(grep -F "${has2:-?}" "$tmp/served.txt")"
fi
finish
