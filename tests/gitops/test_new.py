"""`wa-sync new customer|template`: what it writes, and what it refuses."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from wa_sync.cli import main
from wa_sync.runtime import Runtime


def run(root: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    runtime = Runtime(environ={}, stdin=io.StringIO(), stdout=out, stderr=err, cwd=str(root))
    code = main(["--root", str(root), *argv], runtime)
    return code, out.getvalue(), err.getvalue()


def test_new_customer_writes_a_commented_first_stage_file(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "new", "customer", "acme-dental")
    assert (code, err) == (0, "")
    path = tmp_path / "customers" / "acme-dental.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/customer.schema.json"
    data = yaml.safe_load(text)
    assert data == {
        "name": "Acme Dental",
        "onboarding": {
            "flow": "legacy",
            "terms_accepted": False,
            "business_verification": "not_started",
            "access_request": "not_submitted",
            "invitation": "not_sent",
        },
    }
    # the sender example is there, commented out, and parses once uncommented
    assert "# senders:" in text
    uncommented = re.sub(r"(?m)^# ", "", text.split("# senders:", 1)[1].split("\n\n")[0])
    sender = yaml.safe_load("senders:" + uncommented)["senders"][0]
    assert sender["phone_number"] == "+14155550123"
    assert sender["display_name"] == "Acme Dental"
    assert "Wrote customers/acme-dental.yaml." in out
    assert "Next steps:" in out
    assert "wa-sync plan --customer acme-dental" in out


def test_new_template_writes_one_localization_with_a_sample(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "new", "template", "order_update")
    assert code == 0
    text = (tmp_path / "templates" / "order_update.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/template.schema.json"
    data = yaml.safe_load(text)
    assert data["name"] == "order_update"
    assert data["category"] == "UTILITY"
    assert list(data["localizations"]) == ["en"]
    en = data["localizations"]["en"]
    assert re.findall(r"\{\{(\d+)\}\}", en["body"]) == ["1"]
    assert en["variables"] == {"1": "Maria"}
    assert not en["body"].startswith("{{")
    assert not en["body"].rstrip(".!?").endswith("}}")
    # the commented Spanish example uncomments to a valid second localization
    spanish = re.sub(r"(?m)^  # ", "  ", text.split("localizations:", 1)[1])
    assert set(yaml.safe_load("localizations:" + spanish)["localizations"]) == {"en", "es"}
    assert "- use: order_update" in out


@pytest.mark.parametrize(
    ("kind", "name", "relative"),
    [("customer", "acme", "customers/acme.yaml"), ("template", "promo", "templates/promo.yaml")],
)
def test_refuses_to_overwrite_without_force(
    tmp_path: Path, kind: str, name: str, relative: str
) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text("# mine\n", encoding="utf-8")
    code, out, err = run(tmp_path, "new", kind, name)
    assert code == 1
    assert out == ""
    assert f"{relative} already exists" in err
    assert "--force" in err
    assert "Traceback" not in err
    assert path.read_text(encoding="utf-8") == "# mine\n"

    code, out, err = run(tmp_path, "new", kind, name, "--force")
    assert (code, err) == (0, "")
    assert path.read_text(encoding="utf-8").startswith("# yaml-language-server:")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_refuses_when_a_yml_file_exists(tmp_path: Path) -> None:
    (tmp_path / "customers").mkdir()
    (tmp_path / "customers" / "acme.yml").write_text("name: Acme\n", encoding="utf-8")
    code, _, err = run(tmp_path, "new", "customer", "acme")
    assert code == 1
    assert "customers/acme.yml already exists" in err
    assert not (tmp_path / "customers" / "acme.yaml").exists()


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Acme Dental", "did you mean 'acme-dental'?"),
        ("a", ""),
        ("ACME", "did you mean 'acme'?"),
        ("acme_dental", "did you mean 'acme-dental'?"),
        ("x" * 57, ""),
        ("acme/../../etc", ""),
    ],
)
def test_bad_customer_id(tmp_path: Path, name: str, hint: str) -> None:
    code, out, err = run(tmp_path, "new", "customer", name)
    assert code == 1
    assert out == ""
    assert err.startswith(f"Error: {name!r} is not a valid customer id")
    assert hint in err
    assert "Traceback" not in err
    assert not (tmp_path / "customers").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Order Update", "did you mean 'order_update'?"),
        ("order-update", "did you mean 'order_update'?"),
        ("x" * 513, "not a valid WhatsApp template name"),
        ("x" * 251, "251-character name cannot be a library file"),
        ("order_update_v2", "ends like a rollout version of 'order_update'"),
    ],
)
def test_bad_template_name(tmp_path: Path, name: str, message: str) -> None:
    code, _, err = run(tmp_path, "new", "template", name)
    assert code == 1
    assert message in err
    assert not (tmp_path / "templates").exists()


def test_longest_names_are_accepted(tmp_path: Path) -> None:
    assert run(tmp_path, "new", "customer", "a" * 56)[0] == 0
    assert run(tmp_path, "new", "template", "a" * 250)[0] == 0
    assert run(tmp_path, "new", "template", "reminder_v1")[0] == 0  # _v1 is never a rollout


# --- the scaffolds pass `wa-sync validate` as written, and with their examples uncommented ---

REPO = Path(__file__).resolve().parents[2]


def validate(root: Path) -> tuple[int, str]:
    code, out, err = run(root, "validate", "--strict")
    return code, out + err


def test_scaffolds_pass_validate_as_written(tmp_path: Path) -> None:
    assert run(tmp_path, "new", "customer", "acme-dental")[0] == 0
    assert run(tmp_path, "new", "template", "order_update")[0] == 0
    code, output = validate(tmp_path)
    assert code == 0, output
    assert "0 errors, 0 warnings" in output


def test_scaffold_examples_pass_validate_once_uncommented(tmp_path: Path) -> None:
    assert run(tmp_path, "new", "customer", "acme-dental")[0] == 0
    assert run(tmp_path, "new", "template", "order_update")[0] == 0
    library = REPO / "templates" / "appointment_reminder.yaml"  # the commented `use:` example
    (tmp_path / "templates" / library.name).write_text(library.read_text(encoding="utf-8"))

    customer = tmp_path / "customers" / "acme-dental.yaml"
    text = customer.read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^# (senders:|templates:|  |facebook_business_manager_id|waba_id)", r"\1", text
    )
    customer.write_text(text, encoding="utf-8")
    template = tmp_path / "templates" / "order_update.yaml"
    template.write_text(
        re.sub(r"(?m)^  # ", "  ", template.read_text(encoding="utf-8")), encoding="utf-8"
    )
    data = yaml.safe_load(text)
    assert len(data["senders"]) == 1
    assert len(data["templates"]) == 2
    assert set(yaml.safe_load(template.read_text())["localizations"]) == {"en", "es"}

    code, output = validate(tmp_path)
    assert code == 0, output
    assert "0 errors, 0 warnings" in output


# --- the onboarding flow (issue #19.1) -----------------------------------------------


def test_new_customer_with_flow_embedded_signup_validates_and_has_no_legacy_steps(
    tmp_path: Path,
) -> None:
    code, out, err = run(tmp_path, "new", "customer", "shop-one", "--flow", "embedded_signup")
    assert (code, err) == (0, "")
    data = yaml.safe_load((tmp_path / "customers" / "shop-one.yaml").read_text())
    assert data["onboarding"] == {
        "flow": "embedded_signup",
        "signup": "not_started",
        "business_verification": "not_started",
    }
    assert "Embedded Signup" in out
    assert "wa-sync verify shop-one" in out
    assert "access-request" not in out
    assert run(tmp_path, "validate")[0] == 0


def _ask(root: Path, answers: str, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    runtime = Runtime(
        environ={}, stdin=io.StringIO(answers), stdout=out, stderr=io.StringIO(),
        stdin_isatty=True, cwd=str(root),
    )  # fmt: skip
    return main(["--root", str(root), "new", "customer", *argv], runtime), out.getvalue()


def test_new_customer_asks_for_the_flow_on_a_terminal(tmp_path: Path) -> None:
    code, out = _ask(tmp_path, "tech\nembedded_signup\n", "shop-two")
    assert code == 0
    assert "'tech' is not a flow" in out
    data = yaml.safe_load((tmp_path / "customers" / "shop-two.yaml").read_text())
    assert data["onboarding"]["flow"] == "embedded_signup"


def test_new_customer_without_a_terminal_takes_the_settings_flow(tmp_path: Path) -> None:
    (tmp_path / "wa-sync.yaml").write_text("settings:\n  onboarding_flow: embedded_signup\n")
    code, out, _ = run(tmp_path, "new", "customer", "shop-three")
    assert code == 0
    assert "Onboarding flow: embedded_signup (another: --flow" in out
    data = yaml.safe_load((tmp_path / "customers" / "shop-three.yaml").read_text())
    assert data["onboarding"]["flow"] == "embedded_signup"
    assert run(tmp_path, "validate")[0] == 0


@pytest.mark.parametrize(
    ("kind", "name", "folder"),
    [("customer", "shop", "customers"), ("template", "promo", "templates")],
)
def test_a_file_where_the_folder_should_be_is_named(tmp_path: Path, kind, name, folder) -> None:
    (tmp_path / folder).write_text("notes\n")
    flow = ["--flow", "legacy"] if kind == "customer" else []
    code, _, err = run(tmp_path, "new", kind, name, *flow)
    assert code == 1
    assert f"{folder} is a file where a directory is needed" in err
    assert "already exists" not in err


INVALID_SETTINGS = "settings:\n  onboarding_flow: embedded_signup\n  paralelism: 4\n"


def test_new_customer_refuses_to_guess_the_flow_from_an_invalid_settings_file(
    tmp_path: Path,
) -> None:
    """wa-sync.yaml with a typo says embedded_signup: the new file was written as legacy,
    the default, as if the setting were legacy."""
    (tmp_path / "wa-sync.yaml").write_text(INVALID_SETTINGS)
    code, _out, err = run(tmp_path, "new", "customer", "shop-four")
    assert code == 1
    assert "wa-sync.yaml:3:" in err
    assert "--flow" in err
    assert not (tmp_path / "customers" / "shop-four.yaml").exists()
    assert run(tmp_path, "new", "customer", "shop-four", "--flow", "embedded_signup")[0] == 0


def test_new_customer_force_never_drops_an_adopted_subaccount(tmp_path: Path) -> None:
    """A file that adopts a subaccount (`account_sid`, as `import` writes it) replaced by a
    fresh scaffold: the next apply made a new subaccount `wa-sync:shop`, and the adopted
    one, with the customer's senders and templates, was in no plan any more."""
    sid = "AC" + "1" * 32
    (tmp_path / "customers").mkdir()
    adopted = tmp_path / "customers" / "shop.yaml"
    adopted.write_text(f"name: Shop\naccount_sid: {sid}\n", encoding="utf-8")
    code, _out, err = run(tmp_path, "new", "customer", "shop", "--force")
    assert code == 1
    assert sid in err
    assert "account_sid" in err
    assert adopted.read_text(encoding="utf-8") == f"name: Shop\naccount_sid: {sid}\n"
