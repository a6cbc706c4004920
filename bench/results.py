"""Figures a bench script hands to bench/run_all.py, besides the report it prints for people.

A script prints one line `RESULT {json}` at the end of its output: an object with "bench" (its
name) and "figures", a list of {"figure", "value", "unit", "goal", "met"} ("goal" and "met" left
out for a figure without a goal). Other keys may carry anything else worth keeping; run_all
shows only the figures (or, without them, the object's top-level numbers).
"""

import json

PREFIX = "RESULT "


def figure(name: str, value, *, unit: str = "", goal: str | None = None,
           met: bool | None = None) -> dict:
    row = {"figure": name, "value": value, "unit": unit}
    if goal is not None:
        row.update(goal=goal, met=bool(met))
    return row


def emit(bench: str, figures: list[dict], **extra) -> None:
    print(PREFIX + json.dumps({"bench": bench, "figures": figures, **extra}, default=str),
          flush=True)


def parse(output: str) -> list[dict]:
    """Every RESULT object in a script's output."""
    results = []
    for line in output.splitlines():
        if line.startswith(PREFIX):
            try:
                results.append(json.loads(line[len(PREFIX):]))
            except json.JSONDecodeError:
                continue
    return results
