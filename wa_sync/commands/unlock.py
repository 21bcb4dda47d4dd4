"""`wa-sync unlock [--yes]`: remove the apply lock of an apply that is gone (SPEC §4.8).

It shows who holds the lock and since when, asks for `yes` on a terminal (or takes
--yes), then removes it only if it was not renewed meanwhile (lockdoc.break_lock): a
live apply renews its lock every third of its time to live, so a lock renewed while
you read is in use and is kept. See docs/reliability.md.
"""

from __future__ import annotations

import argparse

from wa_sync.commands.common import connect
from wa_sync.errors import UsageError, WaSyncError
from wa_sync.lockdoc import MIN_TTL, break_lock, describe, this_process
from wa_sync.runtime import Runtime


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(root=args.root, yes=args.yes, emulator=args.emulator, runtime=runtime)


def run(*, root: str, yes: bool, emulator: bool, runtime: Runtime) -> int:
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        reads = gateway.lock_store(stoppable=True)  # a signal stops them, and their waits
        held = [d for service in reads.services() for d in reads.locks(service)]
        store = gateway.lock_store()  # a removal under way goes on
        if not held:
            runtime.stdout.write("No apply holds the lock on this estate.\n")
            return 0
        for document in held:
            runtime.stdout.write(f"The apply lock is held by {describe(document)}.\n")
        if not yes:
            with runtime.at_once():  # a signal at the prompt stops it there
                _confirm(runtime)
        tombstone = this_process(runtime.environ, ttl=MIN_TTL)
        kept = []
        for document in held:  # each on its own: one shard's live apply keeps only its lock
            runtime.checkpoint()  # a signal before: no more is removed
            if break_lock(store, document, tombstone):
                runtime.stdout.write(f"Removed the apply lock of {describe(document)}.\n")
            else:
                kept.append(document)
    if kept:
        locks, it = ("lock", "it") if len(kept) == 1 else ("locks", "each")
        raise WaSyncError(
            f"kept the apply {locks} of {'; '.join(describe(d) for d in kept)}: {it} changed "
            "since it was shown: its apply renewed it (it is still running) or another apply "
            "took it. Run `wa-sync unlock` again to see who holds it now."
        )
    runtime.stdout.write("The next apply re-reads Twilio and completes whatever that apply "
                         "left.\n")  # fmt: skip
    return 0


def _confirm(runtime: Runtime) -> None:
    if not runtime.stdin_isatty:
        raise UsageError(
            "unlock needs confirmation, but standard input is not a terminal. Make sure "
            "that apply is no longer running, then run `wa-sync unlock --yes`."
        )
    runtime.stdout.write(
        "Remove it? Do so only if that apply is no longer running: if it is, two applies "
        "could then write at once. Only 'yes' is accepted: "
    )
    runtime.stdout.flush()
    if runtime.stdin.readline().strip() != "yes":
        raise WaSyncError("unlock cancelled; the lock is kept.")
