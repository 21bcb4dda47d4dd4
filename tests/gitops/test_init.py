"""`wa-sync init`: a new estate whose files work as written, checked by the tools that
read them (wa-sync itself, actionlint, pre-commit, the `$schema` headers' targets)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.gitops.test_workflows import actionlint
from wa_sync.cli import main
from wa_sync.commands.init import SCAFFOLD

SCHEMA_HEADER = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)")


@pytest.fixture
def estate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "estate"
    assert main(["init", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"Initialized a wa-sync estate in {root}: 14 files." in out
    assert "Next steps:" in out
    return root


def test_init_writes_the_estate(estate: Path) -> None:
    written = sorted(str(p.relative_to(estate)) for p in estate.rglob("*") if p.is_file())
    assert written == sorted(
        [*SCAFFOLD, *(f"schema/{k}.schema.json" for k in ("customer", "template", "wa-sync"))]
    )


def test_the_estate_validates_and_plans(estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(estate), "validate"]) == 0
    assert "Valid: 2 customers, 2 senders, 5 templates; 0 errors, 0 warnings." in (
        capsys.readouterr().out
    )
    assert main(["--root", str(estate), "--emulator", "plan", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert (
        "Plan: 9 to create, 0 to update, 0 to replace, 0 to delete, 5 to submit; 0 blocked." in out
    )


def test_the_workflows_pass_actionlint(estate: Path) -> None:
    workflows = sorted((estate / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 3
    findings = actionlint(*workflows)
    assert not findings, findings
    for path in workflows:
        assert "uses: wa-sync/wa-sync@v" in path.read_text(encoding="utf-8")


def test_pre_commit_accepts_the_config(estate: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=estate,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (hook,) = yaml.safe_load((estate / ".pre-commit-config.yaml").read_text())["repos"]
    assert hook["repo"] == "local"  # no ref to pin: it runs the wa-sync that is installed
    assert hook["hooks"][0]["entry"] == "wa-sync validate"


def test_pre_commit_runs_the_hook(estate: Path) -> None:
    """`pre-commit run` in the estate as a git repository: the hook finds the installed
    wa-sync and passes; a broken customer file fails it."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "HOME": str(estate.parent),
        "PRE_COMMIT_HOME": str(estate.parent / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=estate, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    run("git", "init", "-q")
    run("git", "add", "-A")
    hook = (sys.executable, "-m", "pre_commit", "run", "--all-files")
    proc = run(*hook)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "wa-sync validate" in proc.stdout
    assert "Passed" in proc.stdout
    customer = estate / "customers" / "example-clinic.yaml"
    customer.write_text(customer.read_text(encoding="utf-8").replace("verified", "done"))
    proc = run(*hook)
    assert proc.returncode == 1
    assert "customers/example-clinic.yaml" in proc.stdout


def test_schema_headers_and_editor_settings_point_at_files(estate: Path) -> None:
    files = [estate / "wa-sync.yaml", *estate.glob("customers/*"), *estate.glob("templates/*")]
    assert len(files) == 4
    for path in files:
        (target,) = SCHEMA_HEADER.findall(path.read_text(encoding="utf-8"))
        assert (path.parent / target).resolve().is_file(), (path, target)
    settings = json.loads((estate / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    for schema, globs in settings["yaml.schemas"].items():
        assert (estate / schema).is_file(), schema
        assert any(estate.glob(globs[0])), globs


def test_new_files_in_the_estate_resolve_and_validate(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(estate), "new", "customer", "globex-clinics"]) == 0
    assert main(["--root", str(estate), "new", "template", "order_update"]) == 0
    for path in (estate / "customers/globex-clinics.yaml", estate / "templates/order_update.yaml"):
        text = path.read_text(encoding="utf-8")
        (target,) = SCHEMA_HEADER.findall(text)
        assert (path.parent / target).resolve().is_file()
        for named in re.findall(r"\b([\w./-]+\.md)\b", text):
            assert (estate / named).is_file(), named
    capsys.readouterr()
    assert main(["--root", str(estate), "validate"]) == 0


def test_the_readme_links_resolve(estate: Path) -> None:
    text = (estate / "README.md").read_text(encoding="utf-8")
    for link in MARKDOWN_LINK.findall(text):
        if not link.startswith("https://"):
            assert (estate / link).exists(), link
    assert "pipx install" in text


def test_init_replaces_nothing_without_force(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = estate / "customers" / "example-clinic.yaml"
    customer.write_text("name: Mine\n", encoding="utf-8")
    assert main(["init", str(estate)]) == 1
    err = capsys.readouterr().err
    assert "already has .github/workflows/wa-sync-apply.yml" in err
    assert "pass --force" in err
    assert customer.read_text(encoding="utf-8") == "name: Mine\n"
    assert main(["init", str(estate), "--force"]) == 0
    assert customer.read_text(encoding="utf-8") != "name: Mine\n"


def test_init_into_an_existing_repository(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("ours\n")
    assert main(["init", str(tmp_path)]) == 0
    assert (tmp_path / "notes.txt").read_text() == "ours\n"
    assert (tmp_path / "wa-sync.yaml").is_file()


def test_init_writes_into_root_without_dir(tmp_path: Path) -> None:
    assert main(["--root", str(tmp_path / "there"), "init"]) == 0
    assert (tmp_path / "there" / "wa-sync.yaml").is_file()


def test_init_pins_the_action_it_is_given(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert main(["init", str(tmp_path), "--action", f"my-org/wa-sync@{sha}"]) == 0
    plan = (tmp_path / ".github" / "workflows" / "wa-sync-plan.yml").read_text()
    assert f"uses: my-org/wa-sync@{sha}" in plan
    readme = (tmp_path / "README.md").read_text()
    assert f"git+https://github.com/my-org/wa-sync@{sha}" in readme


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--action", "./"], "is not OWNER/REPO@REF"),
        (["--action", "my-org/wa-sync"], "is not OWNER/REPO@REF"),
    ],
)
def test_init_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["init", str(tmp_path / "new"), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_init_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["init", str(target)]) == 1
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("in_the_way", ["customers", ".github/workflows"])
@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
def test_a_file_where_init_needs_a_directory_is_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], in_the_way: str, force: bool
) -> None:
    blocker = tmp_path / in_the_way
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("notes\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["init", str(tmp_path), *(["--force"] if force else [])]) == 1
    err = capsys.readouterr().err
    assert f"{in_the_way} is a file where wa-sync init needs a directory" in err
    assert "already exists" not in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert blocker.read_text() == "notes\n"


@pytest.mark.parametrize("name", ["my estate", "estate ü $HOME", "it's-ours"])
def test_the_first_next_step_runs_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """The `cd DIR && git init` step, pasted into a shell, must work for a directory whose
    name has a space, a quote or a `$` in it."""
    root = tmp_path / name
    assert main(["init", str(root)]) == 0
    (step,) = re.findall(r"1\. (cd .* && git init) \(", capsys.readouterr().out)
    subprocess.run(["bash", "-c", step], cwd=tmp_path, check=True, capture_output=True)
    assert (root / ".git").is_dir()


def test_an_estate_below_the_top_of_a_repository_is_told_where_ci_must_live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub runs only the workflows at the top of a repository, and pre-commit reads only
    its configuration there: an estate made in a folder of an existing repository got them
    in its own folder, where they never run, and was told that pull requests would get a
    plan comment (and to `git init` it)."""
    repository = tmp_path / "repository"
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    assert main(["init", str(repository / "infra" / "whatsapp")]) == 0
    out = capsys.readouterr().out
    assert "git init" not in out
    assert f"inside the git repository at {repository}" in out
    assert f"{repository / '.github' / 'workflows'}" in out
    assert "root: infra/whatsapp" in out

    assert main(["init", str(tmp_path / "plain")]) == 0  # in no repository
    assert main(["init", str(repository)]) == 0  # the top itself
    assert "inside the git repository" not in capsys.readouterr().out
