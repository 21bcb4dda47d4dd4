"""`wa-sync emulator`: serve the local Twilio emulator until Ctrl-C (SPEC §6).

The parent account is TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN from the environment when
both are set, so a client given the same variables and WA_SYNC_TWILIO_URL just works;
otherwise the emulator makes its own (kept in --db when given). The token is printed
only with --show-token.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from wa_sync.commands import emulator_control
from wa_sync.connect import parse_rate_limits
from wa_sync.emulator import Emulator, StateError
from wa_sync.emulator.ratelimit import PUBLISHED
from wa_sync.errors import UsageError
from wa_sync.model import ACCOUNT_SID_PATTERN
from wa_sync.runtime import Runtime

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    if getattr(args, "control", None):
        return emulator_control.main(args, runtime)
    sid, token = _parent_credentials(runtime)
    _check_settings(args)
    limits = rate_limits(args.rate_limits)
    try:
        emulator = Emulator(
            db=args.db,
            host=args.host,
            port=args.port,
            parent_sid=sid,
            parent_token=token,
            latency_ms=args.latency_ms,
            fault_rate=args.fault_rate,
            approve_after=args.approve_after,
            subaccount_limit=args.subaccount_limit,
            rate_limits=limits,
        )
    except StateError as exc:
        raise UsageError(
            f"--db {args.db}: cannot keep the emulator's state there ({exc}); give a new "
            "file in an existing directory, or a state file an emulator made"
        ) from exc
    except ValueError as exc:
        raise UsageError(f"--db {args.db}: {exc}") from exc
    try:
        emulator.start()
    except OSError as exc:
        emulator.close()
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from exc
    try:
        _announce(runtime, emulator, args, limits, from_environment=sid is not None)
        while True:
            emulator.wait(0.5)
    except KeyboardInterrupt:
        runtime.stdout.write("\nStopped.\n")
        return 0
    finally:
        emulator.close()


def _parent_credentials(runtime: Runtime) -> tuple[str | None, str | None]:
    sid = runtime.environ.get("TWILIO_ACCOUNT_SID") or None
    token = runtime.environ.get("TWILIO_AUTH_TOKEN") or None
    if (sid is None) != (token is None):
        raise UsageError(
            "set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN for the emulator's parent"
            " account, or neither (it then makes its own)"
        )
    if sid is not None and not ACCOUNT_SID_PATTERN.match(sid):
        raise UsageError(
            "TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits in lower case"
        )
    return sid, token


def rate_limits(option: str | None) -> dict[str, float]:
    """--rate-limits: none, Twilio's published ones, or CLASS=RPS pairs over them."""
    if option is None:
        return {}
    return parse_rate_limits(option, PUBLISHED, "--rate-limits")


def _check_settings(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535 (0: any free port)")
    if args.latency_ms < 0:
        raise UsageError("--latency-ms must not be negative")
    if not 0.0 <= args.fault_rate <= 1.0:
        raise UsageError("--fault-rate is a share of requests: between 0 and 1")
    if args.approve_after is not None and not args.approve_after >= 0:  # nan too
        raise UsageError("--approve-after must be a number of seconds, not negative")


def _announce(
    runtime: Runtime,
    emulator: Emulator,
    args: argparse.Namespace,
    limits: Mapping[str, float],
    *,
    from_environment: bool,
) -> None:
    out = runtime.stdout
    out.write(f"wa-sync emulator listening on {emulator.url}\n")
    origin = "from TWILIO_ACCOUNT_SID" if from_environment else "the emulator's own"
    out.write(f"  parent account: {emulator.parent_sid} ({origin})\n")
    out.write(f"  state: {args.db or 'in memory (gone when it stops)'}\n")
    if args.approve_after is not None:
        out.write(f"  submissions approved after {args.approve_after:g} s\n")
    if args.rate_limits is not None:
        shown = ", ".join(f"{k} {v:g}" for k, v in limits.items())
        out.write(f"  rate limits per account, requests a second: {shown}\n")
    if args.latency_ms or args.fault_rate:
        out.write(f"  faults: {args.latency_ms} ms latency, {args.fault_rate:.0%} answered 5xx\n")
    out.write(f"  control API: {emulator.url}/__emulator/state (no authentication)\n")
    if args.host not in LOOPBACK:
        out.write("  warning: not on loopback; anyone who can reach it can control it\n")
    out.write("\nPoint wa-sync at it with:\n")
    out.write(f"  export WA_SYNC_TWILIO_URL={emulator.url}\n")
    if not from_environment:
        out.write(f"  export TWILIO_ACCOUNT_SID={emulator.parent_sid}\n")
        if args.show_token:
            out.write(f"  export TWILIO_AUTH_TOKEN={emulator.parent_token}\n")
        else:
            out.write("  export TWILIO_AUTH_TOKEN=...  (run with --show-token to print it)\n")
    out.write("\nPress Ctrl-C to stop.\n")
    out.flush()
