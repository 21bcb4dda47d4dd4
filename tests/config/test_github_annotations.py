"""`validate --format github` within what GitHub keeps of workflow-command annotations
(actions/runner's ExecutionContext.cs): the first 10 errors and 10 warnings of a step,
each message cut at 4,096 characters."""

from __future__ import annotations

from pathlib import Path

from tests.config.conftest import run_cli


def annotations(output: str, level: str) -> list[str]:
    """The messages of the `::level ...::message` lines, unescaped as the runner does."""
    found = []
    for line in output.splitlines():
        if line.startswith((f"::{level} ", f"::{level}::")):
            data = line.split("::", 2)[2]
            found.append(data.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%"))
    return found


def test_more_problems_than_github_annotates_are_counted_in_a_notice(base_repo: Path):
    """GitHub made annotations of the first 10 errors and dropped the rest from the
    pull request's view without a word: the run looked like it had 10 problems."""
    customer = base_repo / "customers" / "base-clinic.yaml"
    extra = "".join(f"typo_{n:02d}: 1\n" for n in range(12))  # 12 unknown keys: 12 errors
    customer.write_text(customer.read_text(encoding="utf-8") + extra, encoding="utf-8")

    result = run_cli("validate", "--root", str(base_repo), "--format", "github")

    assert result.code == 1
    assert len(annotations(result.out, "error")) == 12  # every one is in the step's log
    (notice,) = annotations(result.out, "notice")
    assert notice.startswith("12 errors: GitHub shows the first 10 of each kind as annotations")
    assert "this step's log lists every one" in notice


def test_ten_problems_need_no_notice(base_repo: Path):
    customer = base_repo / "customers" / "base-clinic.yaml"
    extra = "".join(f"typo_{n:02d}: 1\n" for n in range(10))
    customer.write_text(customer.read_text(encoding="utf-8") + extra, encoding="utf-8")

    result = run_cli("validate", "--root", str(base_repo), "--format", "github")

    assert len(annotations(result.out, "error")) == 10
    assert annotations(result.out, "notice") == []


def test_a_message_longer_than_github_keeps_keeps_the_start_of_its_fix(base_repo: Path):
    """An unknown `use:` in an estate of 150 library templates: the fix lists them all
    (5,000 characters), and GitHub cut the annotation at 4,096 characters."""
    library = base_repo / "templates"
    text = (library / "appointment_reminder.yaml").read_text(encoding="utf-8")
    names = [f"shared_template_number_{n:03d}" for n in range(150)]
    for name in names:
        body = text.replace("name: appointment_reminder", f"name: {name}")
        (library / f"{name}.yaml").write_text(body, encoding="utf-8")
    customer = base_repo / "customers" / "base-clinic.yaml"
    wrong = customer.read_text(encoding="utf-8") + "  - use: qq\n    with: {clinic_name: B}\n"
    customer.write_text(wrong, encoding="utf-8")

    github = run_cli("validate", "--root", str(base_repo), "--format", "github")
    text_format = run_cli("validate", "--root", str(base_repo))

    (message,) = annotations(github.out, "error")
    assert len(message.encode("utf-16-le")) // 2 <= 4096
    assert message.startswith("templates[1].use: customer 'base-clinic': unknown library")
    assert " Fix: the library templates are: appointment_reminder, shared_template_" in message
    assert message.endswith("…")
    assert names[-1] in text_format.out  # the text format has room for all of it
