"""Refresh the `## Commands` section of README.md with real output.

Runs every command on a copy of the example configuration (wa-sync.yaml, customers/,
templates/) in a temporary git repository, against the embedded emulator, from a clean
state, and writes what they printed between the `<!-- commands:start -->` and
`<!-- commands:end -->` markers of README.md. The prose lives in
scripts/readme_commands.md (an `@name` line stands for an output); the outputs are
never edited by hand (SIDs and dates change on every refresh).

    .venv/bin/python scripts/readme_examples.py            # rewrite README.md
    .venv/bin/python scripts/readme_examples.py --stdout   # print the section instead
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wa_sync.emulator import Emulator  # noqa: E402

START, END = "<!-- commands:start -->", "<!-- commands:end -->"
FENCE = "```"
# Made-up parent credentials for the served-emulator example: nothing real is shown.
GIT = shutil.which("git") or "git"
DEMO_SID = "AC" + "0" * 31 + "9"
DEMO_TOKEN = "emulator-only-token"  # noqa: S105 - not a secret: the emulator takes any


class Workspace:
    """A copy of the example configuration, and wa-sync run in it as a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for name in ("customers", "templates"):
            shutil.copytree(REPO / name, root / name)
        shutil.copy(REPO / "wa-sync.yaml", root / "wa-sync.yaml")
        self.git("init", "-q")
        self.commit("example configuration")

    def git(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [GIT, "-c", "user.name=docs", "-c", "user.email=docs@example.invalid", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
        )

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WA_SYNC_"))}
        return {
            **keep,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "COLUMNS": "100",
            **extra,
        }

    def run(self, *args: str, env: dict[str, str] | None = None, shown: str = "") -> str:
        """`wa-sync ARGS` as a shell transcript: the command, what it printed (stdout and
        stderr, in order), and its exit code when not 0."""
        done = subprocess.run(  # noqa: S603 - this checkout's wa-sync
            [sys.executable, "-m", "wa_sync", *args],
            cwd=self.root,
            env=env or self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        command = shown or "wa-sync " + " ".join(_quote(a) for a in args)
        text = f"$ {command}\n{done.stdout}"
        if done.returncode:
            text += f"$ echo $?\n{done.returncode}\n"
        return text

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    @contextmanager
    def emulator(self) -> Iterator[Emulator]:
        """The embedded emulator's state, to act as WhatsApp and Meta would."""
        with Emulator(db=str(self.root / ".wa-sync" / "emulator.db")) as emulator:
            yield emulator


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def block(text: str, lang: str = "console") -> str:
    return f"{FENCE}{lang}\n{text.rstrip()}\n{FENCE}\n"


def account(emulator: Emulator, customer: str) -> dict:
    return next(a for a in emulator.state()["accounts"] if a["friendly_name"] == customer)


def contents(emulator: Emulator, friendly_name: str) -> list[dict]:
    return emulator.state()["contents"][account(emulator, friendly_name)["sid"]]


# --- the scenario -------------------------------------------------------------------


def scenario(ws: Workspace) -> dict[str, str]:
    """Every example, in the order a team meets them; returns name -> markdown."""
    out: dict[str, str] = {}
    out["validate"] = block(ws.run("validate"))
    out["validate_error"] = validate_errors(ws)

    out["plan_fresh"] = block(ws.run("--emulator", "plan"))
    out["apply"] = block(ws.run("--emulator", "apply", "--auto-approve"))
    with ws.emulator() as emulator:  # WhatsApp reviews: one rejection, the rest approved
        for content in contents(emulator, "wa-sync:acme-dental"):
            if content["language"] == "es":
                emulator.reject(content["sid"], reason="Sample values are missing for {{2}}")
            else:
                emulator.approve(content["sid"])
        sender = emulator.state()["senders"][account(emulator, "wa-sync:acme-dental")["sid"]][0]
        emulator.set_display_name_status(sender["sid"], "DECLINED", name="Acme Dental Best Price")
    out["plan_no_changes"] = block(ws.run("--emulator", "plan", "--detailed-exitcode"))
    out["status"] = block(ws.run("--emulator", "status"))
    out["status_json"] = block(
        ws.run("--emulator", "status", "--customer", "bella-bistro", "--format", "json")
    )
    with ws.emulator() as emulator:  # the corrected Spanish version is approved
        for content in contents(emulator, "wa-sync:acme-dental"):
            if content["language"] == "es":
                emulator.approve(content["sid"])
        sender = emulator.state()["senders"][account(emulator, "wa-sync:acme-dental")["sid"]][0]
        emulator.set_display_name_status(sender["sid"], None)

    ws.edit(
        "customers/acme-dental.yaml",
        "about: Family dentistry since 1990",
        "about: Family dentistry since 1990, now open on Saturdays",
    )
    ws.edit("customers/acme-dental.yaml", "get 10% off", "get 15% off")
    out["plan_changes"] = block(ws.run("--emulator", "plan", "--detailed-exitcode"))
    out["plan_markdown"] = block(
        ws.run("--emulator", "plan", "--customer", "acme-dental", "--format", "markdown"), ""
    )
    ws.commit("Saturday opening, 15% recall offer")
    ws.run("--emulator", "apply", "--auto-approve")
    out["output_during"] = block(ws.run("--emulator", "output", "--customer", "acme-dental"))
    out["output_during_json"] = block(
        ws.run("--emulator", "output", "--customer", "acme-dental", "--format", "json")
    )
    with ws.emulator() as emulator:
        for content in contents(emulator, "wa-sync:acme-dental"):
            if content["approval"]["status"] == "received":
                emulator.approve(content["sid"])
    out["output_after"] = block(ws.run("--emulator", "output"))
    out["verbose"] = block(ws.run("-v", "--emulator", "plan", "--customer", "northwind-outfitters"))

    out["access_ok"] = block(ws.run("--emulator", "access-request", "bella-bistro"))
    out["access_bad"] = block(ws.run("--emulator", "access-request", "northwind-outfitters"))
    ws.edit(
        "customers/bella-bistro.yaml",
        'facebook_business_manager_id: "234567890123456"',
        'facebook_business_manager_id: "100000000000001"',
    )
    out["access_json"] = block(
        ws.run("--emulator", "access-request", "bella-bistro", "--format", "json")
    )
    ws.git("checkout", "--", "customers/bella-bistro.yaml")

    out.update(import_example(ws))
    out["new"] = new_example(ws)
    out.update(environment_examples(ws))
    return out


def validate_errors(ws: Workspace) -> str:
    """A real mistake or two, as text and as GitHub annotations; then undone."""
    relative = "customers/acme-dental.yaml"
    original = ws.read(relative)
    ws.edit(relative, "- name: acme_recall_offer", "- name: Acme-Recall-Offer")
    ws.edit(relative, '- phone_number: "+14155550123"', '- phone_number: "(415) 555-0123"')
    text = ws.run("validate") + ws.run("validate", "--format", "github")
    (ws.root / relative).write_text(original, encoding="utf-8")
    return block(text)


def import_example(ws: Workspace) -> dict[str, str]:
    """A customer onboarded by hand before wa-sync, then imported."""
    with ws.emulator() as emulator:
        sub = emulator.create_subaccount("Contoso Pharmacy")
        auth = (sub["sid"], sub["auth_token"])

        def post(path: str, body: dict) -> dict:
            response = requests.post(emulator.url + path, json=body, auth=auth, timeout=10)
            response.raise_for_status()
            return response.json()

        sender = post(
            "/v2/Channels/Senders",
            {
                "sender_id": "whatsapp:+12065550142",
                "configuration": {"waba_id": "104000000000042"},
                "profile": {
                    "name": "Contoso Pharmacy",
                    "about": "Prescriptions ready when you are",
                    "vertical": "Medical and Health",
                    "websites": [{"website": "https://contoso.example", "label": "Website"}],
                },
                "webhook": {"callback_url": "https://hooks.example-isv.com/wa/contoso"},
            },
        )
        emulator.set_sender_status(sender["sid"], "ONLINE")
        ready = {
            "en": {"twilio/text": {"body": "Hi {{1}}, your prescription is ready for pickup."}},
            "es": {
                "twilio/quick-reply": {
                    "body": "Hola {{1}}, su receta está lista. ¿Cuándo pasará?",
                    "actions": [
                        {"title": "Hoy", "id": "today"},
                        {"title": "Mañana", "id": "tomorrow"},
                    ],
                }
            },
        }
        for language, types in ready.items():
            content = post(
                "/v1/Content",
                {
                    "friendly_name": "prescription_ready",
                    "language": language,
                    "variables": {"1": "Alex"},
                    "types": types,
                },
            )
            post(
                f"/v1/Content/{content['sid']}/ApprovalRequests/whatsapp",
                {"name": "prescription_ready", "category": "UTILITY"},
            )
            emulator.approve(content["sid"])
    text = ws.run("--emulator", "import", "contoso-pharmacy", "--account-sid", sub["sid"])
    written = ws.read("customers/contoso-pharmacy.yaml")
    after = ws.run("validate") + ws.run(
        "--emulator", "plan", "--customer", "contoso-pharmacy", "--detailed-exitcode"
    )
    again = ws.run("--emulator", "import", "contoso-pharmacy", "--account-sid", sub["sid"])
    return {
        "import": block(text),
        "import_file": block(written, "yaml"),
        "import_after": block(after + again),
    }


def new_example(ws: Workspace) -> str:
    text = ws.run("new", "customer", "globex-clinics")
    head = "\n".join(ws.read("customers/globex-clinics.yaml").splitlines()[:12])
    (ws.root / "customers" / "globex-clinics.yaml").unlink()
    return block(text + f"$ head -12 customers/globex-clinics.yaml\n{head}\n")


def environment_examples(ws: Workspace) -> dict[str, str]:
    out = {"no_credentials": block(ws.run("status"))}
    env = ws.env(
        TWILIO_ACCOUNT_SID=DEMO_SID, TWILIO_AUTH_TOKEN=DEMO_TOKEN, WA_SYNC_TWILIO_TIMEOUT="0"
    )
    shown = "WA_SYNC_TWILIO_TIMEOUT=0 wa-sync status"
    out["bad_timeout"] = block(ws.run("status", env=env, shown=shown))
    out["served"] = served_emulator(ws)
    with ws.emulator() as emulator:  # someone edits the profile in the Twilio console
        sub = account(emulator, "wa-sync:acme-dental")
        sender = emulator.state()["senders"][sub["sid"]][0]
        requests.post(
            f"{emulator.url}/v2/Channels/Senders/{sender['sid']}",
            json={"profile": {"about": "Best dentist in town!"}},
            auth=(sub["sid"], sub["auth_token"]),
            timeout=10,
        ).raise_for_status()
    out["drift"] = block(ws.run("--emulator", "plan", "--customer", "acme-dental"))
    return out


def _free_port(preferred: int = 4010) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


def served_emulator(ws: Workspace) -> str:
    """`wa-sync emulator` in one terminal, wa-sync pointed at it in another."""
    port = _free_port()
    env = ws.env(TWILIO_ACCOUNT_SID=DEMO_SID, TWILIO_AUTH_TOKEN=DEMO_TOKEN)
    server = subprocess.Popen(  # noqa: S603 - this checkout's wa-sync
        [sys.executable, "-m", "wa_sync", "emulator", "--port", str(port)],
        cwd=ws.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    lines = []
    for line in server.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    url = f"http://127.0.0.1:{port}"
    client = ws.env(
        TWILIO_ACCOUNT_SID=DEMO_SID, TWILIO_AUTH_TOKEN=DEMO_TOKEN, WA_SYNC_TWILIO_URL=url
    )
    shown = ws.run("plan", "--customer", "northwind-outfitters", env=client)
    server.send_signal(signal.SIGINT)
    rest, _ = server.communicate(timeout=10)
    rest = "^C" + rest
    first = (
        "$ export TWILIO_ACCOUNT_SID=" + DEMO_SID + " TWILIO_AUTH_TOKEN=" + DEMO_TOKEN + "\n"
        f"$ wa-sync emulator --port {port}\n" + "".join(lines) + rest
    )
    second = f"$ export WA_SYNC_TWILIO_URL={url}   # same TWILIO_* as the emulator's\n" + shown
    return block("# terminal 1\n" + first) + "\n" + block("# terminal 2\n" + second)


# --- the section ---------------------------------------------------------------------


def render(outputs: dict[str, str]) -> str:
    """The prose of scripts/readme_commands.md with each `@name` line replaced by the
    output of that name."""
    prose = (REPO / "scripts" / "readme_commands.md").read_text(encoding="utf-8")
    used = set(re.findall(r"^@(\w+)$", prose, flags=re.M))
    assert used == set(outputs), (sorted(used - set(outputs)), sorted(set(outputs) - used))
    filled = re.sub(r"^@(\w+)$", lambda m: outputs[m[1]].rstrip() + "\n", prose, flags=re.M)
    return filled.rstrip() + "\n"


def replace_section(readme: str, section: str) -> str:
    """Put `section` between the markers (or in place of `<!-- commands -->`)."""
    wrapped = f"{START}\n{section}\n{END}"
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + wrapped + tail
    if "<!-- commands -->" in readme:
        return readme.replace("<!-- commands -->", wrapped, 1)
    raise SystemExit(f"README.md has neither {START}...{END} nor <!-- commands -->")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the section instead")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wa-sync-readme-") as tmp:
        outputs = scenario(Workspace(Path(tmp) / "example"))
    section = render(outputs)
    if args.stdout:
        sys.stdout.write(section)
        return 0
    readme = REPO / "README.md"
    readme.write_text(replace_section(readme.read_text(encoding="utf-8"), section), "utf-8")
    print(f"README.md: Commands section refreshed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
