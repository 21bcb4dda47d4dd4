"""`plan` and `apply --changed-since REF` (SPEC §3): only the customers whose files, or
the library templates they use, differ from git revision REF."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bench.estate import write_estate
from tests.e2e.conftest import cli, emulator, env, repo  # noqa: F401 (fixtures)
from tests.e2e.helpers import customer_doc

PROFILE = ("senders", 0, "profile")
WORDED = "Hello {{1}}, ${{ clinic_name }} reminds you of your visit on {{2}}. Reply to confirm."


def git(root, *args: str) -> str:
    who = ["-c", "user.email=t@example.com", "-c", "user.name=t"]
    done = subprocess.run(
        ["git", "-C", str(root), *who, *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def commit(root) -> str:
    if not (root / ".git").exists():
        git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "change", "--allow-empty")
    return git(root, "rev-parse", "HEAD")


def about(doc: dict, text: str) -> None:
    doc["senders"][0]["profile"]["about"] = text


def planned(cli, *args: str) -> tuple[set[str], dict]:  # noqa: F811
    """The customers a JSON plan has changes or notes for, and the plan."""
    result = cli("plan", "--format", "json", *args)
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    touched = {c["customer"] for c in plan["changes"]} | {n["customer"] for n in plan["notes"]}
    return touched, plan


@pytest.fixture
def three(repo, cli):  # noqa: F811
    """Three applied customers: two use the library template, one writes its own."""
    repo.customer("clinic-1", customer_doc(1))
    repo.customer("clinic-2", customer_doc(2))
    inline = customer_doc(3)
    inline["templates"] = inline["templates"][1:]
    repo.customer("clinic-3", inline)
    assert cli("apply", "--auto-approve").code == 0
    commit(repo.root)
    return repo


def test_one_edited_customer_of_a_thousand_is_read_with_at_most_four_requests(
    repo,  # noqa: F811
    cli,  # noqa: F811
    emulator,  # noqa: F811
):
    write_estate(repo.root, customers=1000, templates=1)
    some = [f"bench-{n:05d}" for n in (1, 2, 500)]
    assert cli("apply", "--auto-approve", *(f"--customer={c}" for c in some)).code == 0
    base = commit(repo.root)
    repo.edit("customers/bench-00500.yaml", lambda d: about(d, "Now open late"))
    emulator.clear_request_log()

    touched, plan = planned(cli, "--changed-since", base)

    assert touched == {"bench-00500"}
    assert plan["customers"] == ["bench-00500"]
    (change,) = plan["changes"]
    assert change["action"] == "update"
    assert change["after"]["profile"]["about"] == "Now open late"
    log = emulator.request_log()
    assert len(log) <= 4, [r["path"] for r in log]
    subaccounts = {r["account_sid"] for r in log} - {emulator.parent_sid}
    assert len(subaccounts) == 1  # only bench-00500's subaccount was read


def test_a_changed_library_template_touches_every_customer_that_uses_it(three, cli):  # noqa: F811
    three.edit(
        "templates/appointment_reminder.yaml",
        lambda d: d["localizations"]["en"].update(body=d["localizations"]["en"]["body"] + " Bye."),
    )
    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert plan["customers"] == ["clinic-1", "clinic-2"]
    assert touched == {"clinic-1", "clinic-2"}


def test_a_changed_settings_file_touches_every_customer(three, cli):  # noqa: F811
    three.write("wa-sync.yaml", {"settings": {"parallelism": 4}})
    _touched, plan = planned(cli, "--changed-since", "HEAD")
    assert plan["customers"] == ["clinic-1", "clinic-2", "clinic-3"]


def test_nothing_changed_plans_nothing_and_reads_only_the_listing(three, cli, emulator):  # noqa: F811
    (three.root / "README.md").write_text("not configuration\n")
    emulator.clear_request_log()
    result = cli("plan", "--changed-since", "HEAD", "--detailed-exitcode")
    assert result.code == 0, result.err
    assert "No changes" in result.out
    assert len(emulator.request_log()) == 1


@pytest.mark.parametrize(
    ("args", "told"),
    [
        (("--changed-since", "HEAD"), "0 of 3 customers planned"),
        (("--customer", "clinic-2"), "1 of 3 customers planned"),
        ((), ""),
    ],
    ids=["changed-since", "customer", "whole estate"],
)
def test_a_plan_of_some_customers_says_that_the_others_were_not_read(three, cli, args, told):  # noqa: F811
    """`No changes. Twilio matches the configuration.` of a pull request's scoped plan was
    said of the whole estate, of which it had read one customer, or none."""
    result = cli("plan", *args)
    assert result.code == 0, result.err
    summary = result.out.strip().splitlines()[-1]
    assert summary.startswith("No changes. Twilio matches the configuration."), summary
    if told:
        assert summary.endswith(f"{told}; the others were not read."), summary
    else:
        assert "planned" not in summary, summary
    markdown = cli("plan", "--format", "markdown", *args).out
    assert (told in markdown) if told else ("customers planned" not in markdown)


def test_a_new_untracked_customer_file_is_in_scope(three, cli):  # noqa: F811
    three.customer("clinic-4", customer_doc(4))
    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert plan["customers"] == ["clinic-4"]
    assert touched == {"clinic-4"}


def test_a_deleted_customer_file_is_reported(three, cli):  # noqa: F811
    (three.root / "customers" / "clinic-2.yaml").unlink()
    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert plan["customers"] == []
    (note,) = plan["notes"]
    assert note["customer"] == "clinic-2"
    assert "has no customer file" in note["message"]
    assert touched == {"clinic-2"}


def test_an_earlier_revision_covers_every_commit_since(three, cli):  # noqa: F811
    base = git(three.root, "rev-parse", "HEAD")
    three.edit("customers/clinic-1.yaml", lambda d: about(d, "First"))
    commit(three.root)
    three.edit("customers/clinic-3.yaml", lambda d: about(d, "Second"))
    commit(three.root)
    touched, _plan = planned(cli, "--changed-since", base)
    assert touched == {"clinic-1", "clinic-3"}
    touched, _plan = planned(cli, "--changed-since", "HEAD~1")
    assert touched == {"clinic-3"}


def test_customer_and_shard_narrow_the_changed_customers(three, cli):  # noqa: F811
    three.edit("customers/clinic-1.yaml", lambda d: about(d, "First"))
    three.edit("customers/clinic-2.yaml", lambda d: about(d, "Second"))
    touched, _plan = planned(cli, "--changed-since", "HEAD", "--customer", "clinic-2")
    assert touched == {"clinic-2"}


def test_apply_changes_only_the_changed_customers(three, cli, emulator):  # noqa: F811
    three.edit("customers/clinic-1.yaml", lambda d: about(d, "Applied"))
    three.edit("customers/clinic-2.yaml", lambda d: about(d, "Not in this change"))
    commit(three.root)
    three.edit("customers/clinic-1.yaml", lambda d: about(d, "Applied now"))

    result = cli("apply", "--auto-approve", "--changed-since", "HEAD")

    assert result.code == 0, result.err
    assert "customer.clinic-1/" in result.out
    assert "clinic-2" not in result.out
    abouts = {
        s["profile"]["about"] for senders in emulator.state()["senders"].values() for s in senders
    }
    assert "Applied now" in abouts
    assert "Not in this change" not in abouts


@pytest.mark.parametrize("ref", ["no-such-branch", "-x", "HEAD~99"])
def test_an_unknown_revision_is_a_clear_error_before_any_request(three, cli, emulator, ref):  # noqa: F811
    emulator.clear_request_log()
    result = cli("plan", f"--changed-since={ref}")
    assert result.code == 1
    assert f"--changed-since {ref}: git knows no commit {ref!r}" in result.err
    assert "fetch-depth: 0" in result.err
    assert "Traceback" not in result.err
    assert emulator.request_log() == []


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("ref", ["", " "], ids=["empty", "blank"])
def test_an_empty_revision_is_a_usage_error(three, cli, emulator, capsys, command, ref):  # noqa: F811
    """`--changed-since "$BASE"` with BASE unset in CI: planning (or applying) every
    customer instead would pass silently."""
    emulator.clear_request_log()
    approve = ["--auto-approve"] if command == "apply" else []
    result = cli(command, *approve, f"--changed-since={ref}")
    assert result.code == 1
    assert "argument --changed-since: a git revision is needed" in capsys.readouterr().err
    assert emulator.request_log() == []


def test_outside_a_git_work_tree_is_a_clear_error(repo, cli, tmp_path):  # noqa: F811
    repo.customer("clinic-1", customer_doc(1))
    result = cli("plan", "--changed-since", "main")
    assert result.code == 1
    assert "is not in a git work tree" in result.err


def test_an_invalid_changed_customer_is_reported_as_by_a_full_plan(three, cli):  # noqa: F811
    three.edit("customers/clinic-2.yaml", lambda d: d.update(name=42))
    result = cli("plan", "--changed-since", "HEAD")
    assert result.code == 1
    assert "customers/clinic-2.yaml:" in result.err


def test_without_git_installed_it_says_so(three, cli, emulator, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    emulator.clear_request_log()
    result = cli("plan", "--changed-since", "HEAD")
    assert result.code == 1
    assert "--changed-since HEAD: git could not be run" in result.err
    assert "not in a git work tree" not in result.err
    assert "install git" in result.err
    assert emulator.request_log() == []


def _link(root, relative: str, target: str) -> None:
    """Move `relative` to `target` (inside the repository) and leave a symbolic link."""
    link, real = root / relative, root / target
    real.parent.mkdir(parents=True, exist_ok=True)
    link.rename(real)
    link.symlink_to(os.path.relpath(real, link.parent), target_is_directory=real.is_dir())


@pytest.mark.parametrize(
    ("linked", "target", "edited", "expected"),
    [
        ("customers/clinic-3.yaml", "shared/clinic-3.yaml", "shared/clinic-3.yaml", ["clinic-3"]),
        ("customers", "estate/customers", "estate/customers/clinic-2.yaml", ["clinic-2"]),
        (
            "templates/appointment_reminder.yaml",
            "shared/reminder.yaml",
            "shared/reminder.yaml",
            ["clinic-1", "clinic-2"],
        ),
    ],
    ids=["customer-file", "customers-folder", "library-template"],
)
def test_an_edit_through_a_symbolic_link_is_planned(three, cli, linked, target, edited, expected):  # noqa: F811
    """A customer file or library template may be a symbolic link to a file inside the
    repository: git lists the file it points to as changed, not the link, and the
    customer it configures was silently left out of the plan."""
    _link(three.root, linked, target)
    commit(three.root)
    if edited == "shared/reminder.yaml":
        three.edit(edited, lambda d: d["localizations"]["en"].update(body=WORDED))
    else:
        three.edit(edited, lambda d: about(d, "Edited through a link"))
    _touched, full = planned(cli)
    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert {c["customer"] for c in full["changes"]} == set(expected)  # what a full plan sees
    assert plan["customers"] == expected
    assert touched == set(expected)


def test_a_customer_file_git_ignores_is_in_scope(three, cli):  # noqa: F811
    """A file `.gitignore` matches still differs from REF (REF has no such file) and a
    full plan reads it: `--changed-since` left it out, silently."""
    (three.root / ".gitignore").write_text("customers/*-trial.yaml\n")
    commit(three.root)
    three.customer("clinic-trial", customer_doc(4))
    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert plan["customers"] == ["clinic-trial"]
    assert touched == {"clinic-trial"}
    assert {c["cause"] for c in plan["changes"]} == {"config"}  # not drift: the file is new


def test_a_deleted_file_that_adopted_its_subaccount_is_reported(three, cli, emulator):  # noqa: F811
    """An imported customer adopts its subaccount by `account_sid`, whose FriendlyName is
    no `wa-sync:` name: once its file was deleted no plan said a word of the subaccount,
    its senders and templates (SPEC §4.5: a removed customer file's subaccount is
    reported)."""
    sid = emulator.create_subaccount("Made By Hand")["sid"]
    assert cli("import", "shop", "--account-sid", sid).code == 0
    commit(three.root)
    (three.root / "customers" / "shop.yaml").unlink()

    touched, plan = planned(cli, "--changed-since", "HEAD")
    assert touched == {"shop"}
    (note,) = plan["notes"]
    assert sid in note["message"]
    assert "has no customer file" in note["message"]
    assert "customers/shop.yaml" in note["message"]


@pytest.mark.parametrize("changed_since", [[], ["--changed-since", "HEAD"]], ids=["", "scoped"])
def test_an_estate_below_the_top_of_its_repository_tells_config_from_drift(
    repo,  # noqa: F811
    cli,  # noqa: F811
    changed_since,
):
    """The estate in a folder of its repository, and `diff.relative` set in git's
    configuration (it makes `git diff` name files relative to that folder): the edit of
    a customer file was told as drift, someone changing Twilio by hand."""
    repo.customer("clinic-1", customer_doc(1))
    assert cli("apply", "--auto-approve").code == 0
    top = repo.root.parent
    git(top, "init", "-q")
    git(top, "config", "diff.relative", "true")
    commit(top)
    repo.edit("customers/clinic-1.yaml", lambda d: about(d, "Edited in the pull request"))
    _touched, plan = planned(cli, *changed_since)
    (change,) = plan["changes"]
    assert change["cause"] == "config"
