#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# One line of `make bench`: a figure, its baseline measured in the same run, their ratio and
# the goal (met / NOT met), so every section prints alike; appends the verdict to GOALS_FILE
# (when set) for the summary at the end.
# Usage: figure.py NAME VALUE UNIT BASELINE_NAME BASELINE GOAL
#   UNIT      s (seconds), B (bytes), x (a plain number)
#   BASELINE  a number in UNIT, or "-" when it could not be measured
#   GOAL      ratio<=N, ratio>=N (value / baseline), value<N, value<=N (in UNIT), or none;
#             a ratio goal ending in % prints the ratio as a percentage
import os
import re
import sys


def show(v, unit):
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "B":
        return f"{v / 1048576:.1f} MiB" if v >= 1048576 else f"{v:.0f} B"
    return f"{v:.2f}"


def main():
    name, value, unit, base_name, base, goal = sys.argv[1:7]
    v = float(value)
    b = None if base == "-" else float(base)
    ratio = v / b if b else None
    m = re.fullmatch(r"(ratio|value)(<=|>=|<|>)([0-9.e+]+)(%?)", goal)
    pct = bool(m and m.group(4))
    if ratio is None:
        ratio_text = "ratio n/a"
    elif pct:
        ratio_text = f"{100 * ratio:.2f} %"
    else:
        ratio_text = f"{ratio:.2f} x"
    verdict, goal_text = "", "no goal"
    if m:
        what, op, limit = m.group(1), m.group(2), float(m.group(3)) / (100 if pct else 1)
        x = ratio if what == "ratio" else v
        sign = {"<=": "<=", ">=": ">=", "<": "<", ">": ">"}[op]
        if what == "ratio":
            goal_text = f"goal {sign} {100 * limit:g} %" if pct else f"goal {sign} {limit:g} x"
        else:
            goal_text = f"goal {sign} {show(limit, unit)}"
        if x is None:
            verdict = "not measured"
        else:
            met = {"<=": x <= limit, ">=": x >= limit, "<": x < limit, ">": x > limit}[op]
            verdict = "met" if met else "NOT met"
        goal_text += ": " + verdict
    base_text = f"{base_name} {show(b, unit)}" if b is not None else f"{base_name} n/a"
    print(f"  {name:<34} {show(v, unit):>10}   vs {base_text:<36} {ratio_text:>9}   {goal_text}")
    goals = os.environ.get("GOALS_FILE")
    if goals and verdict:
        with open(goals, "a") as f:
            f.write(f"{verdict}\t{name}\n")


if __name__ == "__main__":
    main()
