"""The pure CPU part of a plan: load, validate, render and diff, network taken out.

The live state is read once from the emulator (not timed), then the configuration
is loaded and planned against it in memory as the plan command does it when it
prints a plan: no digests (only a saved plan has them).
Prints the seconds it took; the process's peak RSS is measured by the caller.
"""

from __future__ import annotations

import json
import os
import sys
import time

from wa_sync.config.repo import load_repo
from wa_sync.connect import open_gateway
from wa_sync.plan.build import build_plan
from wa_sync.render.text import render_text


def main(root: str) -> int:
    config, _ = load_repo(root)
    with open_gateway(environ=os.environ, root=root, emulator=False, parallelism=16) as gateway:
        live = gateway.read(config.customers)
    start, start_wall = time.process_time(), time.perf_counter()
    config, _ = load_repo(root)
    # as `wa-sync plan` prints a plan: no digests, which only a saved plan needs
    plan = build_plan(config, live, customers=[c.id for c in config.customers], digests=False)
    render_text(plan)
    templates = sum(len(c.templates) for c in config.customers)
    cpu, wall = time.process_time() - start, time.perf_counter() - start_wall
    print(json.dumps({"templates": templates, "cpu_s": cpu, "wall_s": wall}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
