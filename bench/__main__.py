"""`make bench`: wa-sync at estate scale against the emulator with injected latency.

Generates a synthetic estate (default 1,000 customers x 10 library templates in
2 languages + 1 sender), starts `wa-sync emulator` as its own process with 20 ms
a request, applies the estate once, then measures, each as a separate process
timed with os.wait4 (wall, CPU, peak RSS):

  a. a no-op plan;  b. a plan after 1% of the customers changed;
  c. the apply of that change;  d. the pure CPU part (load, validate, render,
  diff) in-process with the live state already in memory;
  and the naive baseline (bench/naive.py) on the same emulator.

The floor of a run is minimal requests x latency / parallelism: what a client
that did nothing but wait on the minimal number of requests would take.
Prints a table and writes bench/results.json. Speed is measured here, never
asserted in the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.estate import change_customers, write_estate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Run:
    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    requests: int
    requests_per_customer: float
    floor_s: float | None = None
    wall_over_floor: float | None = None
    exit_code: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (user+sys), peak RSS in MB, exit code and standard
    output of one process (its own rusage, from os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    code = process.returncode
    if code not in (0, 2):
        sys.stderr.write(f"{' '.join(argv)} exited {code}:\n{stderr[-2000:]}\n")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, stdout


def wait_ready(control, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _ = control.parent_sid
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wa_sync(*args: str) -> list[str]:
    return [sys.executable, "-m", "wa_sync", *args]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--templates", type=int, default=10, help="library templates per customer")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()

    from wa_sync.emulator import EmulatorControl  # the emulator runs as its own process

    work = Path(tempfile.mkdtemp(prefix="wa-sync-bench-"))
    root = work / "estate"
    write_estate(root, customers=args.customers, templates=args.templates)
    parent_sid = "AC" + secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TWILIO_ACCOUNT_SID": parent_sid,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    }
    port = free_port()
    env["WA_SYNC_TWILIO_URL"] = url = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen(
        wa_sync(
            "emulator",
            "--port",
            str(port),
            "--db",
            str(work / "emulator.db"),
            "--approve-after",
            "0",
            "--subaccount-limit",
            str(args.customers + 10),
        ),
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    control = EmulatorControl(url)
    try:
        wait_ready(control, timeout=30)
        results = measure(args, root, env, control)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    report(args, results)
    return 0


def measure(args: argparse.Namespace, root: Path, env: dict[str, str], control) -> list[Run]:
    n, latency = args.customers, args.latency_ms / 1000
    par = ["--parallelism", str(args.parallelism)]
    print(f"estate: {n} customers x {args.templates} templates x 2 languages + 1 sender")
    print("setting up: applying the estate once (no latency)...", flush=True)
    control.set_faults()
    wall, _, _, code, _ = timed(
        wa_sync("apply", "--auto-approve", "--root", str(root), *par), env, REPO
    )
    if code != 0:
        raise SystemExit("the set-up apply failed")
    print(f"  set-up apply took {wall:.1f} s", flush=True)
    control.set_faults(latency_ms=args.latency_ms)
    minimal_plan = math.ceil(n / 1000) + 2 * n
    runs = []

    def run(name: str, argv: list[str], minimal: int | None) -> Run:
        control.clear_request_log()
        wall, cpu, rss, code, stdout = timed(argv, env, REPO)
        if stdout.startswith("{"):  # bench.cpu reports its own in-process figures
            inner = json.loads(stdout)
            wall, cpu = inner["wall_s"], inner["cpu_s"]
        count = sum(control.request_counts().values())
        floor = minimal * latency / args.parallelism if minimal else None
        result = Run(
            name,
            round(wall, 3),
            round(cpu, 3),
            round(rss, 1),
            count,
            round(count / n, 3),
            round(floor, 3) if floor else None,
            round(wall / floor, 3) if floor else None,
            code,
        )
        print(f"  {name}: {wall:.2f} s wall, {count} requests", flush=True)
        runs.append(result)
        return result

    plan = wa_sync("plan", "--detailed-exitcode", "--root", str(root))
    run("a. no-op plan", plan, minimal_plan)
    changed = change_customers(root, fraction=0.01, customers=n, templates=args.templates)
    run("b. plan, 1% changed", plan, minimal_plan)
    run(
        "c. apply of the change",
        wa_sync("apply", "--auto-approve", "--root", str(root), *par),
        minimal_plan + len(changed),
    )
    run("d. CPU part (no network)", [sys.executable, "-m", "bench.cpu", str(root)], None)
    if not args.skip_naive:
        run("naive baseline", [sys.executable, "-m", "bench.naive", *par], None)
    return runs


def report(args: argparse.Namespace, runs: list[Run]) -> None:
    header = (
        f"{'run':28} {'wall s':>8} {'cpu s':>8} {'rss MB':>8} {'requests':>9} "
        f"{'req/cust':>9} {'floor s':>8} {'wall/floor':>10}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in runs:
        floor = f"{r.floor_s:8.2f}" if r.floor_s else f"{'':>8}"
        ratio = f"{r.wall_over_floor:10.2f}" if r.wall_over_floor else f"{'':>10}"
        print(
            f"{r.name:28} {r.wall_s:8.2f} {r.cpu_s:8.2f} {r.peak_rss_mb:8.1f} "
            f"{r.requests:9d} {r.requests_per_customer:9.3f} {floor} {ratio}"
        )
    by_name = {r.name: r for r in runs}
    naive, noop = by_name.get("naive baseline"), by_name["a. no-op plan"]
    speedup = round(naive.wall_s / noop.wall_s, 1) if naive else None
    if speedup:
        print(f"\nno-op plan is {speedup}x faster than the naive baseline")
    doc = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "estate": {
            "customers": args.customers,
            "templates_per_customer": args.templates,
            "languages": 2,
            "senders_per_customer": 1,
        },
        "latency_ms": args.latency_ms,
        "parallelism": args.parallelism,
        "runs": [asdict(r) for r in runs],
        "speedup_over_naive": speedup,
    }
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
