"""`wa-sync import ID --account-sid AC...`: write customers/ID.yaml from an existing
subaccount's live state (SPEC §3).

What live state implies (an ONLINE sender means the access request and Twilio's
invitation were approved) is filled in with a comment saying so; what Twilio cannot
know (the customer's Business Manager ID and own Account SID) is left out with a
comment asking a person to add it. The file validates as written, and a plan right
after reports no changes for that customer.
"""

from __future__ import annotations

import argparse
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from wa_sync.commands.common import connect
from wa_sync.errors import UsageError
from wa_sync.model import (
    CUSTOMER_ID_PATTERN,
    Customer,
    LiveContent,
    LiveCustomer,
    LiveSender,
    thaw,
)
from wa_sync.runtime import Runtime

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}\Z")


def main(args: argparse.Namespace, runtime: Runtime) -> int:
    return run(
        root=args.root,
        customer_id=args.id,
        account_sid=args.account_sid,
        force=args.force,
        emulator=args.emulator,
        runtime=runtime,
    )


def run(
    *, root: str, customer_id: str, account_sid: str, force: bool, emulator: bool, runtime: Runtime
) -> int:
    if not CUSTOMER_ID_PATTERN.match(customer_id):
        raise UsageError(
            f"{customer_id!r} is not a valid customer id: use 2-56 characters "
            "a-z, 0-9 and -, starting with a letter or digit"
        )
    if not ACCOUNT_SID.match(account_sid):
        raise UsageError(f"--account-sid {account_sid!r} is not an Account SID (AC + 32 hex)")
    if not Path(root).is_dir():
        raise UsageError(f"--root {root}: no such directory")
    target = Path(root) / "customers" / f"{customer_id}.yaml"
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it")
    probe = Customer(id=customer_id, name=customer_id, account_sid=account_sid)
    with connect(runtime, root=root, emulator=emulator, parallelism=1) as gateway:
        live = gateway.read([probe]).customers[customer_id]
    _write(target, customer_yaml(customer_id, live, now=datetime.now(UTC)), force=force)
    runtime.stdout.write(
        f"Wrote {target}: {len(live.senders)} sender(s), {len(_newest(live))} "
        f"template(s). Add what the lines marked ACTION NEEDED ask for, then run `wa-sync plan`.\n"
    )
    return 0


def _write(target: Path, text: str, *, force: bool) -> None:
    """Write beside the target, then rename (--force) or link it into place: never half
    a file, never through a symbolic link or into a FIFO that sits at the target."""
    tmp = target.with_name(f".wa-sync-import.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            if force:
                os.replace(tmp, target)
            else:
                os.link(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise UsageError(f"{target} already exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None


def customer_yaml(customer_id: str, live: LiveCustomer, *, now: datetime) -> str:
    """The customer file for a live subaccount: a pure function of live state."""
    assert live.account is not None
    online = any(s.status == "ONLINE" for s in live.senders)
    submitted = any(c.approval_status.locked for c in live.contents)
    waba_id = next((s.waba_id for s in live.senders if s.waba_id), None)
    name = live.account.customer_id or live.account.friendly_name
    lines = [
        "# yaml-language-server: $schema=../schema/customer.schema.json",
        f"# Imported by `wa-sync import {customer_id} --account-sid {live.account.sid}` "
        f"on {now:%Y-%m-%d} from the live subaccount.",
        f"name: {_scalar(name)}  # the business's name, from the subaccount: check it",
        "# ACTION NEEDED: Twilio's API does not know these; the access request needs them:",
        '# facebook_business_manager_id: "..."  # the CUSTOMER\'s Business Manager ID',
        "# customer_account_sid: AC...  # the customer's own Twilio project (where ToS was "
        "accepted)",
        f"account_sid: {live.account.sid}  # adopt this existing subaccount",
    ]
    if waba_id:
        lines.append(f"waba_id: {_scalar(waba_id)}  # from the sender's configuration")
    lines += _onboarding(online, submitted)
    body: dict[str, Any] = {}
    if live.senders:
        body["senders"] = [_sender(s) for s in sorted(live.senders, key=lambda s: s.sender_id)]
    if live.contents:
        body["templates"] = [_template(c) for c in _newest(live)]
    if body:
        lines.append(yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100).rstrip())
    return "\n".join(lines) + "\n"


def _onboarding(online: bool, submitted: bool) -> list[str]:
    implied = "implied: a sender is ONLINE in the subaccount"
    if not online:
        return [
            "onboarding:  # no sender is online yet: record each step as it happens",
            "  terms_accepted: false",
            "  business_verification: not_started",
            "  access_request: not_submitted",
            "  invitation: not_sent",
        ]
    return [
        "onboarding:",
        f"  terms_accepted: true  # {implied}",
        f"  business_verification: verified  # {implied}",
        f"  access_request: approved  # {implied}",
        "  invitation: approved  # "
        + ("implied: templates were submitted for approval" if submitted else implied),
    ]


def _sender(sender: LiveSender) -> dict[str, Any]:
    doc: dict[str, Any] = {"phone_number": sender.phone_number, "display_name": sender.display_name}
    profile = {k: v for k, v in thaw(sender.profile).items() if v not in (None, "", [])}
    if profile:
        doc["profile"] = profile
    webhook = {k: v for k, v in thaw(sender.webhook).items() if v not in (None, "", [])}
    if webhook:
        doc["webhook"] = webhook
    return doc


def _newest(live: LiveCustomer) -> list[LiveContent]:
    """One content per (name, language): the newest `_vN` version of each."""
    keys = sorted({(c.base_name_and_version[0], c.language) for c in live.contents})
    return [live.versions(*key)[-1] for key in keys]


def _template(content: LiveContent) -> dict[str, Any]:
    base, _ = content.base_name_and_version
    category = content.approval_category or "UTILITY"
    doc: dict[str, Any] = {"name": base, "language": content.language, "category": category}
    types = thaw(content.types)
    if list(types) == ["twilio/text"] and list(types["twilio/text"]) == ["body"]:
        doc["body"] = types["twilio/text"]["body"]
    else:
        doc["types"] = types
    if content.variables:
        doc["variables"] = thaw(content.variables)
    return doc


def _scalar(value: str) -> str:
    return yaml.safe_dump(value, default_style=None).removesuffix("\n...\n").strip()
