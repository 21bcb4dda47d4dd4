"""The model-based test's desired state: a small estate, its YAML, and who owns what.

Pure data and functions of the emulator's state snapshot (`Emulator.state()`): which
subaccount each customer resolves to (SPEC §4.3), whether the configuration is one
wa-sync must refuse, and which live objects the configuration does not declare.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from wa_sync.model import RETIRED_PREFIX

CUSTOMER_IDS = ("c1", "c2", "c3")
TEMPLATE_NAMES = ("order_ready", "visit_reminder", "balance_notice")
LANGUAGES = ("en", "es")
CATEGORIES = ("UTILITY", "MARKETING")
BODIES = (
    "Hi {{1}}, your order is ready for pickup at the front desk.",
    "Hi {{1}}, your order is ready; the front desk is open until six.",
    "Hello {{1}}, we have your order ready for you at reception.",
)
ABOUTS = ("Family dentistry since 1990", "Open on Saturdays", "Four clinics in the Bay Area")
MAX_TEMPLATES = 4
ONBOARDED = {
    "terms_accepted": True,
    "business_verification": "verified",
    "access_request": "approved",
    "invitation": "approved",
}
_VERSION = re.compile(r"^(?P<base>.+)_v(?P<n>[0-9]+)$")


@dataclass
class TemplateSpec:
    category: str
    body: int  # index into BODIES


@dataclass
class CustomerSpec:
    n: int  # the customer's number: its business name and IDs
    account_sid: str | None = None  # adopted subaccount
    senders: dict[str, int] = field(default_factory=dict)  # phone -> index into ABOUTS
    templates: dict[tuple[str, str], TemplateSpec] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        n = self.n
        doc: dict[str, Any] = {
            "name": f"Clinic Number {n}",
            "facebook_business_manager_id": f"1234567890{n:05d}",
            "customer_account_sid": f"AC{n:032x}",
            "waba_id": f"10400000000{n:04d}",
            "onboarding": dict(ONBOARDED),
        }
        if self.account_sid:
            doc["account_sid"] = self.account_sid
        doc["senders"] = [
            {
                "phone_number": phone,
                "display_name": f"Clinic Number {n}",
                "profile": {"about": ABOUTS[about], "vertical": "Medical and Health"},
            }
            for phone, about in sorted(self.senders.items())
        ]
        doc["templates"] = [
            {
                "name": name,
                "language": language,
                "category": spec.category,
                "body": BODIES[spec.body],
                "variables": {"1": "Maria"},
            }
            for (name, language), spec in sorted(self.templates.items())
        ]
        return doc


@dataclass
class Estate:
    """The configuration the machine keeps in a temporary repository."""

    root: Path
    customers: dict[str, CustomerSpec] = field(default_factory=dict)
    phones: int = 0  # numbers handed out so far: every new sender gets a fresh one

    def new_phone(self) -> str:
        self.phones += 1
        return f"+1415555{self.phones:04d}"

    def write(self) -> None:
        folder = self.root / "customers"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (self.root / "templates").mkdir(exist_ok=True)
        for cid, spec in self.customers.items():
            text = yaml.safe_dump(spec.document(), sort_keys=False, allow_unicode=True)
            (folder / f"{cid}.yaml").write_text(text, encoding="utf-8")


# --- who owns what -------------------------------------------------------------------


class Verdict(StrEnum):
    VALID = "valid"  # wa-sync must plan and apply it
    CONFLICT = "conflict"  # two customers on one subaccount: refused before any write


def base_name(friendly_name: str) -> str:
    """`order_ready_v3` -> `order_ready`: a version of the same template (SPEC §4.4)."""
    match = _VERSION.match(friendly_name)
    return match["base"] if match else friendly_name


def resolve(customers: dict[str, CustomerSpec], state: dict[str, Any]) -> dict[str, list[str]]:
    """The subaccount SIDs each customer resolves to (SPEC §4.3)."""
    accounts = state["accounts"]
    resolved: dict[str, list[str]] = {}
    for cid, spec in customers.items():
        if spec.account_sid:
            resolved[cid] = [a["sid"] for a in accounts if a["sid"] == spec.account_sid]
        else:
            resolved[cid] = [a["sid"] for a in accounts if a["friendly_name"] == f"wa-sync:{cid}"]
    return resolved


def owners(customers: dict[str, CustomerSpec], state: dict[str, Any]) -> dict[str, set[str]]:
    """Subaccount SID -> the customers that resolve to it."""
    found: dict[str, set[str]] = defaultdict(set)
    for cid, sids in resolve(customers, state).items():
        for sid in sids:
            found[sid].add(cid)
    return found


def declared_twice(customers: dict[str, CustomerSpec]) -> dict[str, set[str]]:
    """`account_sid` -> the customers whose files declare it, where two or more do: an
    error found offline (`validate`), so `plan` refuses it before asking Twilio anything."""
    found: dict[str, set[str]] = defaultdict(set)
    for cid, spec in customers.items():
        if spec.account_sid:
            found[spec.account_sid].add(cid)
    return {sid: ids for sid, ids in found.items() if len(ids) > 1}


def claimants(customers: dict[str, CustomerSpec], state: dict[str, Any]) -> dict[str, set[str]]:
    """Subaccount SID -> every customer with a file that claims it (SPEC §4.3): those that
    resolve to it, and the customer its FriendlyName `wa-sync:<id>` names when another
    adopts it by `account_sid` (whatever that customer's own `account_sid`). Adopting the
    subaccount of a customer whose file is gone is a rename, and valid
    (docs/reliability.md)."""
    found: dict[str, set[str]] = defaultdict(set, owners(customers, state))
    names = {a["sid"]: a["friendly_name"] for a in state["accounts"]}
    for spec in customers.values():
        name = names.get(spec.account_sid or "", "")
        named = name.removeprefix("wa-sync:")
        if name.startswith("wa-sync:") and named in customers:
            found[str(spec.account_sid)].add(named)
    return found


def verdict(customers: dict[str, CustomerSpec], state: dict[str, Any]) -> Verdict:
    """CONFLICT when one `account_sid` is in two files, or two customers claim one
    subaccount."""
    if declared_twice(customers):
        return Verdict.CONFLICT
    if any(len(ids) > 1 for ids in claimants(customers, state).values()):
        return Verdict.CONFLICT
    return Verdict.VALID


@dataclass(frozen=True)
class Undeclared:
    account_sid: str
    customer: str
    sid: str
    address: str  # "template.name[lang]" or "sender.whatsapp:+1..."


def undeclared(customers: dict[str, CustomerSpec], state: dict[str, Any]) -> list[Undeclared]:
    """Live templates and senders in a subaccount with one owner that its owner does not
    declare (versions of a declared template are declared). wa-sync's own records of the
    names WhatsApp blocks (`wa-sync:deleted:...`, docs/concepts.md) are no template: the
    machine never moves the clock by their 30 days."""
    found: list[Undeclared] = []
    for account_sid, ids in owners(customers, state).items():
        if len(ids) != 1:
            continue
        (cid,) = ids
        spec = customers[cid]
        for content in state["contents"].get(account_sid, []):
            if content["friendly_name"].startswith(RETIRED_PREFIX):
                continue
            key = (base_name(content["friendly_name"]), content["language"])
            if key not in spec.templates:
                address = f"template.{content['friendly_name']}[{content['language']}]"
                found.append(Undeclared(account_sid, cid, content["sid"], address))
        declared = {f"whatsapp:{phone}" for phone in spec.senders}
        for sender in state["senders"].get(account_sid, []):
            if sender["sender_id"] not in declared:
                address = f"sender.{sender['sender_id']}"
                found.append(Undeclared(account_sid, cid, sender["sid"], address))
    return found
