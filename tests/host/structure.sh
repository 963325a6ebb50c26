#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The code's shape: include cycles, file sizes, host tools independent of the board's code
# (tests/host/structure.py does the reading).
exec python3 "$(dirname "$0")/structure.py"
