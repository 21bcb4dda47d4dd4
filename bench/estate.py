"""A synthetic estate for the benchmark: N customers, each using T library templates
in two languages and declaring one sender (issue 7)."""

from __future__ import annotations

from pathlib import Path

import yaml

LANGUAGES = ("en", "es")


def library_template(index: int) -> dict:
    return {
        "name": f"bench_notice_{index}",
        "category": "UTILITY",
        "params": ["business"],
        "localizations": {
            "en": {
                "body": f"Hi {{{{1}}}}, ${{{{ business }}}} has update number {index} for your "
                "order {{2}}. Reply to this message with any question.",
                "variables": {"1": "Maria", "2": "A-1001"},
            },
            "es": {
                "types": {
                    "twilio/quick-reply": {
                        "body": f"Hola {{{{1}}}}, ${{{{ business }}}} tiene el aviso {index} para "
                        "su pedido {{2}}. Elija una opción.",
                        "actions": [
                            {"title": "Ver", "id": "view"},
                            {"title": "Ayuda", "id": "help"},
                        ],
                    }
                },
                "variables": {"1": "María", "2": "A-1001"},
            },
        },
    }


def customer(n: int, templates: int, *, about: str = "Open every day of the week") -> dict:
    return {
        "name": f"Bench Business {n}",
        "facebook_business_manager_id": f"{200000000000000 + n}",
        "customer_account_sid": f"AC{n:032x}",
        "waba_id": f"{300000000000000 + n}",
        "onboarding": {
            "terms_accepted": True,
            "business_verification": "verified",
            "access_request": "approved",
            "invitation": "approved",
        },
        "senders": [
            {
                "phone_number": f"+1202{n:07d}",
                "display_name": f"Bench Business {n}",
                "profile": {"about": about, "vertical": "Shopping and Retail"},
            }
        ],
        "templates": [
            {"use": f"bench_notice_{i}", "with": {"business": f"Bench Business {n}"}}
            for i in range(templates)
        ],
    }


def write_estate(root: Path, *, customers: int, templates: int, parallelism: int = 16) -> None:
    (root / "customers").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    settings = {
        "settings": {"parallelism": parallelism, "prune": False, "max_delete_fraction": 0.25}
    }
    _dump(root / "wa-sync.yaml", settings)
    for i in range(templates):
        _dump(root / "templates" / f"bench_notice_{i}.yaml", library_template(i))
    for n in range(1, customers + 1):
        _dump(root / "customers" / f"bench-{n:05d}.yaml", customer(n, templates))


def change_customers(
    root: Path,
    *,
    fraction: float,
    customers: int,
    templates: int,
    about: str = "Now open late",
    offset: int = 0,
) -> list[str]:
    """Edit the sender profile of a share of the customers (from the `offset`-th on);
    return their ids."""
    count = max(1, round(customers * fraction))
    step = max(1, customers // count)
    changed = []
    for n in range(1 + offset, customers + 1, step)[:count]:
        cid = f"bench-{n:05d}"
        _dump(root / "customers" / f"{cid}.yaml", customer(n, templates, about=about))
        changed.append(cid)
    return changed


def _dump(path: Path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
