"""`make bench`: wa-sync at estate scale against the emulator with injected latency.

Generates a synthetic estate (default 1,000 customers x 10 library templates in
2 languages + 1 sender), starts `wa-sync emulator` as its own process, applies the
estate once, then measures at 100 ms a request (an assumption: a typical Twilio REST
round trip from a CI runner), each as a separate process timed with os.wait4 (wall,
CPU, peak RSS):

  a. a no-op plan;  a2. the same plan against a replay of the emulator's answers
  (bench/replay.py: wa-sync without the emulator's CPU on the same machine);
  a3. the no-op plan at 20 ms a request (where the CPU shows);  a4. the same at 200
  customers (the first 200 of the estate) and parallelism 8, where start-up counts;
  b. a plan after 1% of the customers changed;  c. the apply of that change;
  e. a `--changed-since` plan of one changed customer (when the CLI has the option);
  f. an apply of another 1% against Twilio's published Content API rate limits;
  d. the pure CPU part (load, validate, render, diff) in-process with the live
  state already in memory; and the naive baseline (bench/naive.py) on the same emulator.

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
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.estate import change_customers, write_estate
from bench.replay import Replay
from wa_sync.emulator.ratelimit import PUBLISHED

REPLAYED = "a2. no-op plan, replayed"
SMALL = "a4. small estate, 20 ms"
LOCK_PATHS = "/v1/Services"  # the apply lock: its Sync Service and Documents
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
    max_in_flight: int = 0  # requests the emulator served at once, from its request log
    max_in_flight_per_account: int = 0
    server_cpu_s: float | None = None  # the emulator's (or the replay's) CPU in the run
    rate_limited: int = 0  # requests the emulator answered 429
    wall_samples: list[float] | None = None  # with --repeat: every run's wall time
    server_cpu_samples: list[float | None] | None = None  # and the server's CPU in each


@dataclass
class Server:
    """Where a run's requests go: an emulator's control, the environment, its pid."""

    control: Any
    env: dict[str, str]
    pid: int


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


def in_flight(log: list[dict]) -> tuple[int, int]:
    """The most of the estate's requests in flight at once, overall and for any one
    account, from the emulator's request log (each entry has its monotonic start and
    finish). The apply lock's Sync requests are left out: its renewals run on their own
    connection, outside the pool of --parallelism, so that a busy pool cannot starve
    them (docs/reliability.md); with them, an apply shows one more now and then."""
    from wa_sync.emulator import most_in_flight

    log = [entry for entry in log if not entry["path"].startswith(LOCK_PATHS)]
    by_account: dict[str, list[dict]] = {}
    for entry in log:
        by_account.setdefault(entry.get("account_sid") or "", []).append(entry)
    return most_in_flight(log), max((most_in_flight(e) for e in by_account.values()), default=0)


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commit_estate(root: Path) -> None:
    """Make the estate a git repository, as in CI: a plan then asks git which files
    changed, and tells configuration changes from drift."""
    git = shutil.which("git")
    if git is None:
        return
    who = ["-c", "user.name=wa-sync bench", "-c", "user.email=bench@example.invalid"]
    for argv in (["init", "-q"], ["add", "-A"], [*who, "commit", "-q", "-m", "estate"]):
        subprocess.run([git, "-C", str(root), *argv], check=True, stdout=subprocess.DEVNULL)


def wa_sync(*args: str) -> list[str]:
    return [sys.executable, "-m", "wa_sync", *args]


def install_product(work: Path) -> Path:
    """A virtual environment with wa-sync installed as users install it (`pip install`,
    byte-compiled, its dependencies only): the timed runs' Python. The development
    environment also holds the test tools, and some of them change what wa-sync's own
    dependencies import at start-up (deepdiff imports pydantic when it is there)."""
    venv, source = work / "product", work / "source"
    # from a copy of the sources: a build in the repository would reuse its build/ tree
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "node_modules", "__pycache__")
    shutil.copytree(REPO, source, ignore=skip)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    installed = subprocess.run([*pip, str(source)], capture_output=True, text=True)
    if installed.returncode != 0:
        raise SystemExit(f"installing wa-sync failed:\n{installed.stderr[-4000:]}")
    return python


def minimal_plan(customers: int) -> int:
    """A plan's fewest requests: the parent's listing (it holds the parent too, 1,000
    accounts a page), then two per customer."""
    return math.ceil((customers + 1) / 1000) + 2 * customers


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--templates", type=int, default=10, help="library templates per customer")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--cpu-latency-ms", type=int, default=20, help="the latency of row a3")
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--small-customers", type=int, default=200, help="the customers of row a4")
    parser.add_argument(
        "--small-parallelism", type=int, default=8, help="the parallelism of row a4"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=10,
        help="WA_SYNC_TWILIO_CONCURRENCY: the cap on requests in flight per account",
    )
    parser.add_argument("--keep", action="store_true", help="keep the estate and database")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="run the plans and the CPU part this many times and keep the median",
    )
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wa-sync-bench-"))
    try:
        results = set_up_and_measure(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report(args, results)
    return 0


def set_up_and_measure(args: argparse.Namespace, work: Path) -> list[Run]:
    print("installing wa-sync as users do, into a virtual environment of its own...", flush=True)
    product = install_product(work)
    root = work / "estate"
    write_estate(root, customers=args.customers, templates=args.templates)
    commit_estate(root)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "WA_SYNC_TWILIO_CONCURRENCY": str(args.concurrency),
    }
    emulator, control, env["WA_SYNC_TWILIO_URL"] = start_emulator(
        work / "emulator.db", args.customers, env
    )
    try:
        return measure(args, root, env, control, emulator.pid, product)
    finally:
        stop(emulator)


def start_emulator(db: Path, customers: int, env: dict[str, str]):
    """`wa-sync emulator` as its own process on a free port, its control, its URL."""
    from wa_sync.emulator import EmulatorControl  # the emulator runs as its own process

    port = free_port()
    limit = str(customers + 10)
    emulator = subprocess.Popen(
        wa_sync("emulator", "--port", str(port), "--db", str(db), "--approve-after", "0",
                "--subaccount-limit", limit),
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    control = EmulatorControl(url)
    try:
        wait_ready(control, timeout=30)
    except BaseException:
        stop(emulator)
        raise
    return emulator, control, url


def stop(emulator: subprocess.Popen) -> None:
    emulator.terminate()
    emulator.wait(timeout=30)


def measure(
    args: argparse.Namespace,
    root: Path,
    env: dict[str, str],
    control,
    emulator_pid: int,
    product: Path,
) -> list[Run]:
    n, latency = args.customers, args.latency_ms / 1000
    # the installed wa-sync runs outside the repository, without PYTHONPATH: it imports
    # only itself as installed; bench.cpu and bench.naive run from the repository

    def cli(*arguments: str) -> list[str]:
        return [str(product), "-m", "wa_sync", *arguments]

    def timed_run(argv: list[str], run_env: dict[str, str]) -> tuple[float, float, float, int, str]:
        if argv[0] == str(product):
            installed = {k: v for k, v in run_env.items() if k != "PYTHONPATH"}
            return timed(argv, installed, root.parent)
        return timed(argv, run_env, REPO)

    par = ["--parallelism", str(args.parallelism)]
    print(f"estate: {n} customers x {args.templates} templates x 2 languages + 1 sender")
    print("setting up: applying the estate once (no latency, Twilio's rate limits)...", flush=True)
    control.set_faults()
    control.set_rate_limits(PUBLISHED)
    control.clear_request_log()
    wall, cpu, rss, code, _ = timed_run(
        cli("apply", "--auto-approve", "--root", str(root), *par), env
    )
    control.set_rate_limits(None)
    if code != 0:
        raise SystemExit("the set-up apply failed")
    log = control.request_log()
    peak, per_account = in_flight(log)
    limited = sum(1 for entry in log if entry["status"] == 429)
    print(
        f"  set-up apply took {wall:.1f} s, {len(log)} requests, {limited} answered 429; at "
        f"most {peak} in flight, {per_account} for one account (cap {args.concurrency})",
        flush=True,
    )
    control.set_faults(latency_ms=args.latency_ms)
    fewest = minimal_plan(n)
    runs = [
        Run("0. set-up apply, rate limits", round(wall, 3), round(cpu, 3), round(rss, 1),
            len(log), round(len(log) / n, 3), exit_code=code, max_in_flight=peak,
            max_in_flight_per_account=per_account, rate_limited=limited)
    ]  # fmt: skip

    def run(
        name: str,
        argv: list[str],
        minimal: int | None,
        repeat: int = 1,
        replay: Replay | None = None,
        latency: float = latency,
        parallelism: int = args.parallelism,
        customers: int = n,
        server: Server | None = None,
    ) -> Run:
        """The run with the median wall time of `repeat` (the machine may be shared);
        against `replay` instead of the emulator when given, or another `server`."""
        on = server or Server(control, env, emulator_pid)
        samples = [
            once(name, argv, minimal, replay, latency, parallelism, customers, on)
            for _ in range(repeat)
        ]
        result = sorted(samples, key=lambda r: r.wall_s)[len(samples) // 2]
        if repeat > 1:
            result.wall_samples = [r.wall_s for r in samples]
            result.server_cpu_samples = [r.server_cpu_s for r in samples]
        print(f"  {name}: {result.wall_s:.2f} s wall, {result.requests} requests", flush=True)
        runs.append(result)
        return result

    def once(
        name: str,
        argv: list[str],
        minimal: int | None,
        replay: Replay | None,
        latency: float,
        parallelism: int,
        customers: int,
        server: Server,
    ) -> Run:
        server.control.clear_request_log()
        if replay is not None:
            replay.log.clear()
        # the server's CPU: the emulator's process, or this one's (the replay's threads)
        server_cpu = (lambda: time.process_time()) if replay else (lambda: process_cpu(server.pid))
        server_before = server_cpu()
        run_env = {**server.env, "WA_SYNC_TWILIO_URL": replay.url} if replay else server.env
        wall, cpu, rss, code, stdout = timed_run(argv, run_env)
        server_after = server_cpu()
        # bench.cpu reports its own in-process figures; its requests are the read of
        # the live state before what it measures, so none of them count
        inner = json.loads(stdout) if stdout.startswith("{") else None
        log: list[dict]
        if inner is not None:
            wall, cpu = inner["wall_s"], inner["cpu_s"]
            log = []
        elif replay is not None:
            log = list(replay.log)
        else:
            log = server.control.request_log()
        count = len(log)
        peak, per_account = in_flight(log)
        floor = minimal * latency / parallelism if minimal else None
        return Run(
            name,
            round(wall, 3),
            round(cpu, 3),
            round(rss, 1),
            count,
            round(count / customers, 3),
            round(floor, 3) if floor else None,
            round(wall / floor, 3) if floor else None,
            code,
            peak,
            per_account,
            None
            if server_before is None or server_after is None
            else round(server_after - server_before, 2),
            sum(1 for entry in log if entry.get("status") == 429),
        )

    plan = cli("plan", "--detailed-exitcode", "--root", str(root))
    run("a. no-op plan", plan, fewest, args.repeat)
    with Replay(upstream=env["WA_SYNC_TWILIO_URL"]) as replay:
        # the same plan once through a recorder, then against the recording alone
        timed_run(plan, {**env, "WA_SYNC_TWILIO_URL": replay.url})
        replay.replay(latency)
        run(REPLAYED, plan, fewest, args.repeat, replay=replay)
    control.set_faults(latency_ms=args.cpu_latency_ms)
    run("a3. no-op plan, 20 ms", plan, fewest, args.repeat, latency=args.cpu_latency_ms / 1000)
    # a4: an estate of its own, on an emulator of its own (its parent has only its
    # subaccounts), set up by one apply like the large one
    small_root = root.parent / "small-estate"
    write_estate(
        small_root,
        customers=args.small_customers,
        templates=args.templates,
        parallelism=args.small_parallelism,
    )
    commit_estate(small_root)
    small_emulator, small_control, small_url = start_emulator(
        root.parent / "small.db", args.small_customers, env
    )
    try:
        small_env = {**env, "WA_SYNC_TWILIO_URL": small_url}
        setup = timed_run(cli("apply", "--auto-approve", "--root", str(small_root)), small_env)
        if setup[3] != 0:
            raise SystemExit("the set-up apply of the small estate failed")
        small_control.set_faults(latency_ms=args.cpu_latency_ms)
        run(
            SMALL,
            cli("plan", "--detailed-exitcode", "--root", str(small_root)),
            minimal_plan(args.small_customers),
            args.repeat,
            latency=args.cpu_latency_ms / 1000,
            parallelism=args.small_parallelism,
            customers=args.small_customers,
            server=Server(small_control, small_env, small_emulator.pid),
        )
    finally:
        stop(small_emulator)
    control.set_faults(latency_ms=args.latency_ms)
    changed = change_customers(root, fraction=0.01, customers=n, templates=args.templates)
    run("b. plan, 1% changed", plan, fewest, args.repeat)
    apply = cli("apply", "--auto-approve", "--root", str(root), *par)
    run("c. apply of the change", apply, fewest + len(changed))
    commit_estate(root)
    (one,) = change_customers(
        root, fraction=1 / n, customers=n, templates=args.templates, about="Closed on Sundays"
    )
    since = cli("plan", "--detailed-exitcode", "--changed-since", "HEAD", "--root", str(root))
    run("e. --changed-since plan", since, 3, args.repeat)
    print(f"  (changed: {one})")
    control.set_rate_limits(PUBLISHED)
    more = change_customers(
        root,
        fraction=0.01,
        customers=n,
        templates=args.templates,
        about="Open on Saturdays",
        offset=1,
    )
    run("f. apply, rate limits", apply, fewest + len(more))
    control.set_rate_limits(None)
    cpu_part = [sys.executable, "-m", "bench.cpu", str(root)]
    run("d. CPU part (no network)", cpu_part, None, args.repeat)
    if not args.skip_naive:
        run("naive baseline", [sys.executable, "-m", "bench.naive", *par], None)
    return runs


def report(args: argparse.Namespace, runs: list[Run]) -> None:
    header = (
        f"{'run':26} {'wall s':>7} {'cpu s':>6} {'rss MB':>7} {'requests':>8} "
        f"{'req/cust':>8} {'floor s':>7} {'wall/floor':>10} {'in flight':>9} "
        f"{'per acct':>8} {'srv cpu':>7} {'429':>4}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in runs:
        floor = f"{r.floor_s:7.2f}" if r.floor_s else f"{'':>7}"
        ratio = f"{r.wall_over_floor:10.2f}" if r.wall_over_floor else f"{'':>10}"
        emu = f"{r.server_cpu_s:7.2f}" if r.server_cpu_s is not None else f"{'':>7}"
        print(
            f"{r.name:26} {r.wall_s:7.2f} {r.cpu_s:6.2f} {r.peak_rss_mb:7.1f} "
            f"{r.requests:8d} {r.requests_per_customer:8.3f} {floor} {ratio} "
            f"{r.max_in_flight:9d} {r.max_in_flight_per_account:8d} {emu} {r.rate_limited:4d}"
        )
    by_name = {r.name: r for r in runs}
    naive, noop = by_name.get("naive baseline"), by_name["a. no-op plan"]
    fast, since, small = (
        by_name.get("a3. no-op plan, 20 ms"),
        by_name.get("e. --changed-since plan"),
        by_name.get(SMALL),
    )
    cpu_part = by_name.get("d. CPU part (no network)")
    speedup = round(naive.wall_s / noop.wall_s, 1) if naive else None
    targets = {
        "no-op plan requests per customer <= 2.01": noop.requests_per_customer <= 2.01,
        f"no-op plan wall <= 1.10 x floor at {args.latency_ms} ms": (noop.wall_over_floor or 99)
        <= 1.10,
        f"no-op plan wall <= 1.5 x floor at {args.cpu_latency_ms} ms": fast is not None
        and (fast.wall_over_floor or 99) <= 1.5,
        f"{args.small_customers} customers, parallelism {args.small_parallelism}, "
        f"{args.cpu_latency_ms} ms: wall <= 1.5 x floor": small is not None
        and (small.wall_over_floor or 99) <= 1.5,
        "CPU part <= 3 s": cpu_part is not None and cpu_part.wall_s <= 3.0,
        "no 429 at Twilio's rate limits": all(r.rate_limited == 0 for r in runs),
        "peak RSS <= 300 MB": max(r.peak_rss_mb for r in runs if r.name != "naive baseline") <= 300,
        "in flight <= parallelism": all(
            r.max_in_flight <= args.parallelism for r in runs if r.name != "naive baseline"
        ),
        "in flight per account <= WA_SYNC_TWILIO_CONCURRENCY": all(
            r.max_in_flight_per_account <= args.concurrency for r in runs
        ),
    }
    if since is not None:
        targets["--changed-since plan: <= 4 requests, <= 1.5 s"] = (
            since.requests <= 4 and since.wall_s <= 1.5
        )
    if speedup:
        print(f"\nno-op plan is {speedup}x faster than the naive baseline")
        targets[">= 10x faster than the naive baseline"] = speedup >= 10
    print("\ntargets (issue #18):")
    for name, met in targets.items():
        print(f"  {'met    ' if met else 'NOT MET'}  {name}")
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
        "cpu_latency_ms": args.cpu_latency_ms,
        "parallelism": args.parallelism,
        "small_estate": {"customers": args.small_customers, "parallelism": args.small_parallelism},
        "concurrency_per_account": args.concurrency,
        "runs": [asdict(r) for r in runs],
        "speedup_over_naive": speedup,
        "targets": targets,
    }
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
