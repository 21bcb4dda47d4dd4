"""Loading in a forked child gives exactly what loading in this process gives."""

from __future__ import annotations

import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from bench.estate import write_estate
from wa_sync.commands import background
from wa_sync.config import repo
from wa_sync.config.repo import load_repo
from wa_sync.errors import ConfigInvalid

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _always_fork(monkeypatch):
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 0)


@pytest.fixture
def estate(tmp_path):
    root = tmp_path / "estate"
    write_estate(root, customers=4, templates=3)
    return root


def test_the_model_is_the_one_loaded_here(estate):
    pending = background.load_in_background(str(estate), None)
    assert isinstance(pending, background._Pending)
    assert pending() == load_repo(str(estate))


def test_the_repository_example_and_a_customer_subset(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "customers", root / "customers")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "wa-sync.yaml", root / "wa-sync.yaml")
    assert background.load_in_background(str(root), None)() == load_repo(str(root))
    one = ["acme-dental"]
    assert background.load_in_background(str(root), one)() == load_repo(str(root), one)


def test_an_invalid_configuration_raises_the_same_problems(estate):
    (estate / "customers" / "bench-00002.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigInvalid) as here:
        load_repo(str(estate))
    with pytest.raises(ConfigInvalid) as there:
        background.load_in_background(str(estate), None)()
    assert there.value.problems == here.value.problems
    assert str(there.value) == str(here.value)


def test_a_child_that_sends_nothing_means_loading_here(estate, monkeypatch):
    monkeypatch.setattr(background, "_send", lambda writer, root, customers: None)
    assert background.load_in_background(str(estate), None)() == load_repo(str(estate))


@pytest.mark.parametrize("cut", ["in the length", "in the model"])
def test_a_child_that_dies_while_sending_means_loading_here(estate, monkeypatch, cut):
    def dying(writer, root, customers):
        whole = len(pickle.dumps(load_repo(root)[0], protocol=pickle.HIGHEST_PROTOCOL))
        head = (whole + 8).to_bytes(background._LENGTH_BYTES, "big")
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(head[:3] if cut == "in the length" else head + b"\x80\x05" + b"x" * 100)

    monkeypatch.setattr(background, "_send", dying)
    pending = background.load_in_background(str(estate), None)
    assert isinstance(pending, background._Pending)
    assert background.early_model(pending) is None
    assert pending() == load_repo(str(estate))


def test_another_error_in_the_child_is_raised_as_loading_here_raises_it(estate, monkeypatch):
    calls = []

    def failing(root, customers=None):
        calls.append(os.getpid())
        raise RuntimeError("boom")

    monkeypatch.setattr(repo, "load_model", failing)  # in the child
    monkeypatch.setattr(repo, "load_repo", failing)  # here
    with pytest.raises(RuntimeError, match="boom"):
        background.load_in_background(str(estate), None)()
    assert calls == [os.getpid()]  # the child's call is not seen here: one call, ours


def test_the_model_comes_early_and_stands_when_the_lint_passes(estate):
    pending = background.load_in_background(str(estate), None)
    early = background.early_model(pending)
    assert early is not None
    config, warnings = pending()
    assert config is early
    assert (config, warnings) == load_repo(str(estate))


def test_no_early_model_for_a_configuration_with_errors(estate):
    (estate / "customers" / "bench-00002.yaml").write_text("name: [unclosed\n")
    pending = background.load_in_background(str(estate), None)
    assert background.early_model(pending) is None
    with pytest.raises(ConfigInvalid):
        pending()


def test_an_early_model_the_lint_refuses_is_not_used(estate):
    library = estate / "templates" / "bench_notice_0.yaml"
    library.write_text(library.read_text().replace("UTILITY", "MARKETING", 1) + "\n")
    (estate / "customers" / "bench-00003.yaml").write_text(
        (estate / "customers" / "bench-00003.yaml")
        .read_text()
        .replace("Open every day of the week", "x" * 200)
    )
    with pytest.raises(ConfigInvalid) as here:
        load_repo(str(estate))
    assert all(p.rule for p in here.value.problems if p.is_error)  # lint errors only
    pending = background.load_in_background(str(estate), None)
    assert background.early_model(pending) is not None
    with pytest.raises(ConfigInvalid) as there:
        pending()
    assert there.value.problems == here.value.problems


def test_a_cancelled_load_leaves_no_child(estate):
    pending = background.load_in_background(str(estate), None)
    background.cancel(pending)
    with pytest.raises(ChildProcessError):
        os.waitpid(pending.pid, os.WNOHANG)


def _running_in_group(group: int) -> list[int]:
    """Processes of process group `group` that are not zombies (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_cancel_after_the_model_also_stops_the_lint(estate, monkeypatch):
    """The lint runs in a grandchild while the model is sent; a cancel stops both."""

    def slow_lint(config, found):  # a lint that would run for a minute
        import time

        time.sleep(60)
        return config, []

    monkeypatch.setattr(repo, "finish_load", slow_lint)  # the child imports it after the fork
    pending = background.load_in_background(str(estate), None)
    assert background.early_model(pending) is not None  # the lint is under way
    assert len(_running_in_group(pending.pid)) == 2  # the child and its lint
    background.cancel(pending)
    for _ in range(100):
        if not _running_in_group(pending.pid):
            break
        time.sleep(0.05)
    assert _running_in_group(pending.pid) == []


def test_small_repositories_load_here(estate, monkeypatch):
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 100)
    pending = background.load_in_background(str(estate), None)
    assert not isinstance(pending, background._Pending)
    assert pending() == load_repo(str(estate))


def plan_output(root: Path) -> tuple[int, str, str]:
    import io

    from wa_sync.cli import main
    from wa_sync.runtime import Runtime

    out, err = io.StringIO(), io.StringIO()
    runtime = Runtime(environ={}, stdin=io.StringIO(), stdout=out, stderr=err)
    code = main(["plan", "--root", str(root), "--emulator", "--no-color"], runtime)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("at_least", "forks"), [(4, 1), (5, 0)])
def test_a_plan_forks_its_load_from_as_many_customer_files_as_it_listed(
    estate, monkeypatch, at_least, forks
):
    """The plan lists customers/ once, before the fork and the reads: the count the
    background load goes by is that listing's (4 files here)."""
    monkeypatch.setattr(background, "MIN_CUSTOMERS", at_least)
    forked: list[object] = []
    real_fork = background._fork
    monkeypatch.setattr(background, "_fork", lambda child: forked.append(child) or real_fork(child))

    def listed_again(root):
        raise AssertionError("customers/ listed a second time")

    monkeypatch.setattr(background, "_customer_files", listed_again)
    code, out, _err = plan_output(estate)
    assert (code, len(forked)) == (0, forks)
    assert "customer.bench-00004" in out


def test_a_plan_is_the_same_either_way(estate, monkeypatch):
    forked = plan_output(estate)
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 10**9)
    assert plan_output(estate) == forked
    assert forked[0] == 0
    assert "customer.bench-00004" in forked[1]


def test_a_plan_of_an_invalid_configuration_reports_it_either_way(estate, monkeypatch):
    (estate / "templates" / "bench_notice_1.yaml").write_text("name: bench_notice_1\n")
    forked = plan_output(estate)
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 10**9)
    assert plan_output(estate) == forked
    assert forked[0] == 1
    assert "bench_notice_1" in forked[2]


def test_a_plan_refused_by_the_lint_after_an_early_model_is_reported_the_same(estate, monkeypatch):
    path = estate / "customers" / "bench-00003.yaml"
    path.write_text(path.read_text().replace("Open every day of the week", "x" * 200))
    forked = plan_output(estate)
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 10**9)
    assert plan_output(estate) == forked
    assert forked[0] == 1
    assert forked[1] == ""  # no plan
    assert "bench-00003" in forked[2]


def test_warnings_of_an_early_model_are_printed_once(estate, monkeypatch):
    path = estate / "templates" / "bench_notice_0.yaml"  # a sample no text uses: a warning
    path.write_text(path.read_text().replace("'2': A-1001", "'2': A-1001\n      '9': spare", 1))
    forked = plan_output(estate)
    monkeypatch.setattr(background, "MIN_CUSTOMERS", 10**9)
    here = plan_output(estate)
    assert here == forked
    assert here[0] == 0
    assert here[2].count("warning:") >= 1
    assert "'9'" in here[2]


def test_the_load_is_forked_before_the_twilio_sdk_is_imported():
    """The plan and apply commands fork the load first and import the network stack
    (twilio, requests: a tenth of a second) after, while the load runs on the other core."""
    import subprocess
    import sys

    probe = (
        "import sys, wa_sync.cli, wa_sync.commands.plan, wa_sync.commands.apply;"
        "print(sorted(m for m in ('twilio', 'requests', 'urllib3') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_what_every_customer_file_repeats_is_sent_once(estate):
    """Key paths and where a library localization is written are one object in every
    customer's model, so the pickle sent to the planning process holds each once."""
    import pickle

    config, _ = load_repo(str(estate))
    first, second = config.customers[:2]
    keys = {key: key for key in first.lines}
    assert all(keys[key] is key for key in second.lines)
    assert first.templates[0].where is second.templates[0].where
    one = len(pickle.dumps(config.customers[:1], protocol=pickle.HIGHEST_PROTOCOL))
    two = len(pickle.dumps(config.customers[:2], protocol=pickle.HIGHEST_PROTOCOL))
    assert two - one < one / 2
