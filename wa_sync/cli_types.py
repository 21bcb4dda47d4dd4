"""The argparse types of wa-sync's options: a bad value is a usage error (exit 1, SPEC
§3) whose message names the option, what is wrong and what is expected."""

from __future__ import annotations

import argparse
import re

from wa_sync.config.schema import schema


def shard(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"{value!r} is not K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def revision(value: str) -> str:
    if not value.strip():  # `--changed-since "$BASE"` with BASE unset would plan everything
        raise argparse.ArgumentTypeError(
            "a git revision is needed (a branch, tag or commit), not an empty value; "
            "in CI, check that the variable given to it is set"
        )
    return value


def parallelism(value: str) -> int:
    """Within settings.parallelism's bounds: it sizes the HTTP pool (10**30 filled memory)."""
    bounds = schema("wa-sync")["properties"]["settings"]["properties"]["parallelism"]
    low, high = bounds["minimum"], bounds["maximum"]
    if not value.isdigit() or not low <= int(value) <= high:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from {low} to {high}")
    return int(value)
