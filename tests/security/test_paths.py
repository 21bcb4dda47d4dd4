"""Security review: paths. Nothing the repository's files or the command line name may
reach a file outside the repository, hang on a special file, or write through a link.

`use:` names a library template by name, never by path: it is looked up among the
files in templates/, so no value of it is ever joined to a path. `--out` (plan) and
`--report` (apply) name files the user chooses, anywhere: they are the user's own
choice, like a shell redirection, and are not confined to the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.e2e.helpers import customer_doc
from tests.security.conftest import REPO_ROOT, assert_clean_error, run_offline

SECRET_TEXT = "name: stolen\n# the contents of a file outside the repository\n"


def validate(repo, *extra: str):
    return run_offline("validate", "--root", str(repo.root), *extra)


# --- use: -------------------------------------------------------------------------------

TRAVERSALS = [
    "../../../../etc/passwd",
    "../templates/appointment_reminder",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "appointment_reminder/../appointment_reminder",
    "./appointment_reminder",
    "appointment_reminder\n",
    "appointment_reminder\x00",
    "~/.ssh/id_rsa",
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_use_is_a_name_never_a_path(repo, tmp_path, name):
    outside = tmp_path / "outside.yaml"
    outside.write_text(SECRET_TEXT, encoding="utf-8")
    doc = customer_doc(1, templates=[{"use": name, "with": {"clinic_name": "x"}}])
    repo.customer("clinic-1", doc)
    output = assert_clean_error(validate(repo))
    assert "customers/clinic-1.yaml" in output
    assert "stolen" not in output
    assert "root:" not in output  # nothing of /etc/passwd


# --- --root -----------------------------------------------------------------------------

COMMANDS = [
    ["validate"],
    ["plan"],
    ["apply", "--auto-approve"],
    ["status"],
    ["output"],
    ["access-request", "clinic-1"],
    ["import", "clinic-1", "--account-sid", "AC" + "0" * 32],
    ["new", "customer", "clinic-1"],
    ["new", "template", "reminder"],
]


@pytest.mark.parametrize(
    "command", COMMANDS, ids=lambda c: c[0] + (f" {c[1]}" if c[0] == "new" else "")
)
@pytest.mark.parametrize("kind", ["a file", "a missing directory"])
def test_root_must_be_an_existing_directory(tmp_path, env, command, kind):
    root = tmp_path / "root"
    if kind == "a file":
        root.write_text("not a directory", encoding="utf-8")
    result = run_offline(*command, "--root", str(root), environ=env)
    output = assert_clean_error(result)
    assert f"--root {root}: no such directory" in output
    if kind == "a missing directory":
        assert not root.exists()  # nothing was created


# --- ids that name files --------------------------------------------------------------------

BAD_IDS = ["../x", "../../etc/cron.d/x", "/tmp/x", "..", "a/b", "x\n", "x\\..\\y", "x\x00y"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_import_refuses_an_id_that_is_a_path(repo, cli, emulator, bad):
    account = emulator.create_subaccount("someone")
    result = cli("import", bad, "--account-sid", account["sid"])
    assert_clean_error(result)
    assert "not a valid customer id" in result.err
    assert sorted(p.name for p in (repo.root / "customers").iterdir()) == []
    assert emulator.request_counts() == {} or sum(emulator.request_counts().values()) == 0


@pytest.mark.parametrize("kind", ["customer", "template"])
@pytest.mark.parametrize("bad", BAD_IDS)
def test_new_refuses_a_name_that_is_a_path(repo, tmp_path, kind, bad):
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = run_offline("new", kind, bad, "--root", str(repo.root))
    assert_clean_error(result)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_customer_file_name_with_a_newline_is_not_an_id(repo):
    path = repo.customer("clinic-1", customer_doc(1))
    path.rename(repo.root / "customers" / "clinic-1\n.yaml")
    output = assert_clean_error(validate(repo))
    assert "is not a valid customer id" in output


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phone_number", "+14155550001\n"),
        ("template name", "recall_offer\n"),
        ("waba_id", "104000000000001\n"),
        ("customer_account_sid", "AC" + "0" * 31 + "1\n"),
    ],
)
def test_anchored_patterns_do_not_accept_a_trailing_newline(repo, key, value):
    doc = customer_doc(1)
    if key == "phone_number":
        doc["senders"][0]["phone_number"] = value
    elif key == "template name":
        doc["templates"][1]["name"] = value
    else:
        doc[key] = value
    repo.customer("clinic-1", doc)
    output = assert_clean_error(validate(repo))
    assert "customers/clinic-1.yaml" in output


def test_customer_option_is_an_id_not_a_path(repo):
    repo.customer("clinic-1", customer_doc(1))
    output = assert_clean_error(validate(repo, "--customer", "../templates/appointment_reminder"))
    assert "no file customers/" in output


# --- symbolic links ---------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path) -> Path:
    """A directory outside the repository holding valid-looking YAML."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "clinic-9.yaml").write_text(SECRET_TEXT, encoding="utf-8")
    (directory / "appointment_reminder.yaml").write_text(SECRET_TEXT, encoding="utf-8")
    (directory / "wa-sync.yaml").write_text(SECRET_TEXT, encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("customers/clinic-9.yaml", "clinic-9.yaml"),
        ("templates/appointment_reminder.yaml", "appointment_reminder.yaml"),
        ("wa-sync.yaml", "wa-sync.yaml"),
    ],
)
def test_a_symlinked_file_outside_the_repository_is_refused(repo, outside, link, target):
    path = repo.root / link
    path.unlink(missing_ok=True)
    path.symlink_to(outside / target)
    output = assert_clean_error(validate(repo))
    assert f"{link}: is a symbolic link to a file outside the repository" in output
    assert "stolen" not in output


@pytest.mark.parametrize("directory", ["customers", "templates"])
def test_a_symlinked_directory_outside_the_repository_is_refused(repo, outside, directory):
    (repo.root / directory / "appointment_reminder.yaml").unlink(missing_ok=True)
    (repo.root / directory).rmdir()
    (repo.root / directory).symlink_to(outside)
    output = assert_clean_error(validate(repo))
    assert "is a symbolic link to a file outside the repository" in output
    assert "stolen" not in output


def test_a_symlinked_directory_inside_the_repository_is_read(repo):
    (repo.root / "data").mkdir()
    (repo.root / "customers").rmdir()
    (repo.root / "customers").symlink_to(repo.root / "data")
    repo.customer("clinic-1", customer_doc(1))
    result = validate(repo)
    assert result.code == 0, result.out + result.err


@pytest.mark.parametrize(
    "target", ["/etc/passwd", "/proc/self/environ", "/dev/zero", "/dev/urandom", "/dev/stdin"]
)
def test_a_symlink_to_a_system_or_device_file_is_refused(repo, target):
    (repo.root / "customers" / "clinic-1.yaml").symlink_to(target)
    output = assert_clean_error(validate(repo))
    assert "customers/clinic-1.yaml" in output
    assert "root:" not in output
    assert "PATH=" not in output


def test_a_symlink_loop_is_a_message(repo):
    link = repo.root / "customers" / "clinic-1.yaml"
    link.symlink_to(link)
    output = assert_clean_error(validate(repo))
    assert "customers/clinic-1.yaml: cannot be read" in output


# --- special files --------------------------------------------------------------------------


def _within(seconds: float, action):
    """Run `action` in a thread; fail (instead of hanging the run) if it blocks."""
    box: dict = {}

    def target():
        box["result"] = action()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _unblock_fifos()
        thread.join(5)
        pytest.fail(f"blocked for more than {seconds} seconds")
    return box["result"]


_FIFOS: list[Path] = []


def _unblock_fifos() -> None:
    for fifo in _FIFOS:  # open the other end so that a blocked open returns
        try:
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass


@pytest.fixture
def fifo(repo) -> Path:
    path = repo.root / "customers" / "clinic-1.yaml"
    os.mkfifo(path)
    _FIFOS.append(path)
    yield path
    _FIFOS.remove(path)


def test_a_fifo_in_customers_does_not_hang_validate(repo, fifo):
    output = assert_clean_error(_within(10, lambda: validate(repo)))
    assert "customers/clinic-1.yaml: is not a regular file" in output


def test_a_fifo_in_templates_does_not_hang_validate(repo):
    path = repo.root / "templates" / "appointment_reminder.yaml"
    path.unlink()
    os.mkfifo(path)
    _FIFOS.append(path)
    try:
        output = assert_clean_error(_within(10, lambda: validate(repo)))
    finally:
        _FIFOS.remove(path)
    assert "templates/appointment_reminder.yaml: is not a regular file" in output


def test_a_fifo_as_wa_sync_yaml_does_not_hang_plan(repo, env):
    path = repo.root / "wa-sync.yaml"
    os.mkfifo(path)
    _FIFOS.append(path)
    try:
        result = _within(10, lambda: run_offline("plan", "--root", str(repo.root), environ=env))
    finally:
        _FIFOS.remove(path)
    assert "wa-sync.yaml: is not a regular file" in assert_clean_error(result)


def test_new_force_replaces_a_fifo_instead_of_writing_into_it(repo):
    path = repo.root / "customers" / "clinic-1.yaml"
    os.mkfifo(path)
    _FIFOS.append(path)
    try:
        result = _within(
            10,
            lambda: run_offline("new", "customer", "clinic-1", "--force", "--root", str(repo.root)),
        )
    finally:
        _FIFOS.remove(path)
    assert result.code == 0, result.err
    assert path.is_file()
    assert not path.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_in_customers_is_refused(repo):
    path = repo.root / "customers" / "clinic-1.yaml"
    os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # a character device: /dev/zero
    output = assert_clean_error(_within(10, lambda: validate(repo)))
    assert "customers/clinic-1.yaml: is not a regular file" in output


# --- writing through links --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["new", "import"])
def test_force_replaces_a_symlink_and_never_writes_through_it(
    repo, cli, emulator, tmp_path, command
):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    link = repo.root / "customers" / "clinic-1.yaml"
    link.symlink_to(victim)
    if command == "new":
        result = run_offline("new", "customer", "clinic-1", "--force", "--root", str(repo.root))
    else:
        account = emulator.create_subaccount("wa-sync:clinic-1")
        result = cli("import", "clinic-1", "--account-sid", account["sid"], "--force")
    assert result.code == 0, result.err
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not link.is_symlink()
    assert link.is_file()


@pytest.mark.parametrize("command", ["new", "import"])
def test_a_dangling_symlink_is_not_followed_to_create_a_file(
    repo, cli, emulator, tmp_path, command
):
    victim = tmp_path / "created-outside.txt"
    link = repo.root / "customers" / "clinic-1.yaml"
    link.symlink_to(victim)
    if command == "new":
        result = run_offline("new", "customer", "clinic-1", "--root", str(repo.root))
    else:
        account = emulator.create_subaccount("wa-sync:clinic-1")
        result = cli("import", "clinic-1", "--account-sid", account["sid"])
    assert_clean_error(result)
    assert "already exists" in result.err
    assert not victim.exists()


def test_import_force_replaces_a_fifo_instead_of_hanging(repo, env, emulator):
    account = emulator.create_subaccount("wa-sync:clinic-1")
    path = repo.root / "customers" / "clinic-1.yaml"
    os.mkfifo(path)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "wa_sync",
                "import",
                "clinic-1",
                "--account-sid",
                account["sid"],
                "--force",
                "--root",
                str(repo.root),
            ],
            cwd=REPO_ROOT,
            env={**env, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        _FIFOS.append(path)
        _unblock_fifos()
        pytest.fail("import --force blocked on a FIFO")
    assert done.returncode == 0, done.stderr
    assert path.is_file()


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "..", "a/../b"])
@pytest.mark.parametrize(
    "command", [["access-request"], ["plan", "--customer"], ["status", "--customer"]]
)
def test_customer_ids_on_the_command_line_are_never_paths(repo, cli, emulator, command, bad):
    repo.customer("clinic-1", customer_doc(1))
    result = cli(*command, bad)
    output = assert_clean_error(result)
    assert "root:" not in output
    assert [r for r in emulator.request_log() if r["method"] != "GET"] == []


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["status"], ["output"]])
def test_a_fifo_in_customers_does_not_hang_commands_that_read_twilio(repo, cli, emulator, command):
    repo.customer("clinic-2", customer_doc(2))
    path = repo.root / "customers" / "clinic-1.yaml"
    os.mkfifo(path)
    _FIFOS.append(path)
    try:
        result = _within(15, lambda: cli(*command))
    finally:
        _FIFOS.remove(path)
    assert "customers/clinic-1.yaml: is not a regular file" in assert_clean_error(result)


def test_a_symlink_outside_is_refused_before_any_read(repo, cli, emulator, tmp_path):
    """A customer file linked from outside the repository is refused, and nothing is
    read from the subaccount it names."""
    account = emulator.create_subaccount("someone else")
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"name: x\naccount_sid: {account['sid']}\n", encoding="utf-8")
    (repo.root / "customers" / "clinic-1.yaml").symlink_to(outside)
    emulator.clear_request_log()
    assert_clean_error(cli("plan"))
    assert not [r for r in emulator.request_log() if r["account_sid"] == account["sid"]]


def test_a_linked_customers_directory_is_read_only_through_the_checks(
    repo, cli, emulator, tmp_path
):
    account = emulator.create_subaccount("someone else")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "clinic-1.yaml").write_text(f"account_sid: {account['sid']}\n", encoding="utf-8")
    shutil.rmtree(repo.root / "customers")
    (repo.root / "customers").symlink_to(outside)
    emulator.clear_request_log()
    assert "outside the repository" in assert_clean_error(cli("plan"))
    assert emulator.request_log() == []


def test_the_emulator_state_is_never_a_link_out_of_the_repository(repo, cli, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo.root / ".wa-sync").symlink_to(outside)
    result = cli("--emulator", "plan", environ={})
    assert result.code == 1
    assert "is a symbolic link" in result.err
    assert list(outside.iterdir()) == []
