"""Measure apply's safety figures (issue 17; docs/reliability.md) against the emulator.

    .venv/bin/python scripts/measure_safety.py [--kills 20] [--seed 1]

1. SIGINT 1.5 s into a 400-change apply (50 customers) at 150 ms latency: the writes
   that started after the signal (want at most the parallelism, 8) and the seconds from
   the signal to the process's end.
2. Two applies started together on 50 customers: duplicates (want 0), and what the
   second one said.
3. `--kills` applies SIGKILLed at random moments (each followed by `wa-sync unlock
   --yes`, as an operator would after a crash), then one apply: duplicates (want 0).

Each apply is its own `python -m wa_sync` process against one in-process emulator; the
writes are counted from the emulator's request log, whose times are this machine's
monotonic clock.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.helpers import Repo, customer_doc, estate_writes, spawn  # noqa: E402
from wa_sync.emulator import Emulator  # noqa: E402

CUSTOMERS = 50
PARALLELISM = 8  # wa-sync's default


def estate(root: Path) -> Repo:
    repo = Repo(root)
    for n in range(1, CUSTOMERS + 1):
        repo.customer(f"clinic-{n}", customer_doc(n))
    return repo


def wa_sync(emu: Emulator, root: Path, *args: str) -> subprocess.Popen[str]:
    credentials = {
        "TWILIO_ACCOUNT_SID": emu.parent_sid,
        "TWILIO_AUTH_TOKEN": emu.parent_token,
        "WA_SYNC_TWILIO_URL": emu.url,
    }
    # stdout never read: a full pipe would stall the apply
    return spawn(root, credentials, *args, stdout=subprocess.DEVNULL)


def duplicates(emu: Emulator) -> int:
    """Objects beyond the first with one identity (SPEC §4.3)."""
    state = emu.state()
    found = Counter(
        a["friendly_name"] for a in state["accounts"] if a["friendly_name"].startswith("wa-sync:")
    )
    extra = sum(n - 1 for n in found.values())
    for contents in state["contents"].values():
        extra += sum(
            n - 1 for n in Counter((c["friendly_name"], c["language"]) for c in contents).values()
        )
    for senders in state["senders"].values():
        extra += sum(n - 1 for n in Counter(s["sender_id"] for s in senders).values())
    return extra


def sigint_mid_apply(work: Path) -> dict[str, Any]:
    root = work / "sigint"
    estate(root)
    with Emulator() as emu:
        emu.set_faults(latency_ms=150)
        process = wa_sync(emu, root, "apply", "--auto-approve")
        while not estate_writes(emu.request_log()) and process.poll() is None:
            time.sleep(0.01)
        time.sleep(1.5)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=300)
        stopped = time.monotonic() - sent
        writes = estate_writes(emu.request_log())
        after = [w for w in writes if w["started"] > sent]
        return {
            "changes": CUSTOMERS * 8,
            "exit_code": process.returncode,
            "writes_before_signal": len(writes) - len(after),
            "writes_started_after_signal": len(after),
            "parallelism": PARALLELISM,
            "seconds_to_stop": round(stopped, 2),
        }


def two_applies(work: Path) -> dict[str, Any]:
    root = work / "two"
    estate(root)
    with Emulator() as emu:
        emu.set_faults(latency_ms=20)
        processes = [wa_sync(emu, root, "apply", "--auto-approve") for _ in range(2)]
        outputs = [p.communicate(timeout=600) for p in processes]
        refusals = [
            err.splitlines()[0]
            for (_out, err), p in zip(outputs, processes, strict=True)
            if p.returncode != 0 and err
        ]
        return {
            "exit_codes": sorted(p.returncode for p in processes),
            "duplicates": duplicates(emu),
            "second_said": refusals[0] if refusals else "",
        }


def killed_applies(work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    root = work / "kills"
    estate(root)
    with Emulator() as emu:
        emu.set_faults(latency_ms=100)
        mid_apply = 0
        for _ in range(kills):
            process = wa_sync(emu, root, "apply", "--auto-approve")
            time.sleep(rng.uniform(0.5, 3.0))
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
            mid_apply += process.returncode == -signal.SIGKILL
            unlocked = wa_sync(emu, root, "unlock", "--yes")
            unlocked.communicate(timeout=60)
        final = wa_sync(emu, root, "apply", "--auto-approve")
        _out, err = final.communicate(timeout=600)
        return {
            "kills": kills,
            "killed_while_running": mid_apply,
            "final_apply_exit_code": final.returncode,
            "duplicates": duplicates(emu),
            "final_apply_errors": err.strip()[-500:],
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        figures = {
            "sigint_400_changes_150ms": sigint_mid_apply(work),
            "two_applies_50_customers": two_applies(work),
            "random_sigkills": killed_applies(work, args.kills, random.Random(args.seed)),
        }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
