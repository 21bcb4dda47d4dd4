"""Security review: hostile YAML in customers/, templates/ and wa-sync.yaml.

Only plain data is read: no tag may construct a Python object, no alias may expand
past a budget, nothing may nest without bound, no file may be larger than the cap, and
every encoding problem is a message with the file, never a traceback.
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from tests.security.conftest import assert_clean_error, run_bounded, run_offline

MARKER = Path("/tmp/wa-sync-security-pwned")

TAGS = {
    "python object apply": f'name: !!python/object/apply:os.system ["touch {MARKER}"]',
    "python object new": f'name: !!python/object/new:os.system ["touch {MARKER}"]',
    "python object": "name: !!python/object:collections.OrderedDict {}",
    "python name": "name: !!python/name:os.system",
    "python module": "name: !!python/module:os",
    "python tuple": "name: !!python/tuple [a, b]",
    "custom local tag": "name: !custom value",
    "custom tag on a mapping": "name: Clinic\nsenders: !senders {}",
    "verbatim tag": "name: !<tag:yaml.org,2002:python/name:os.system> x",
    "tag directive": "%TAG !p! tag:yaml.org,2002:python/\n---\nname: !p!name:os.system x",
    "binary": "name: !!binary aGVsbG8=",
    "set": "name: !!set {a, b}",
    "omap": "name: !!omap [a: 1]",
    "tagged key": "? !!python/name:os.system x\n: 1",
}


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def merge_bomb() -> str:
    lines = ["a0: &a0 {k: v}"]
    for index in range(1, 40):
        lines.append(f"a{index}: &a{index} {{<<: [*a{index - 1}, *a{index - 1}], k{index}: v}}")
    return "\n".join(lines) + "\n"


BOUNDED = {
    "billion laughs": billion_laughs(),
    "merge key bomb": merge_bomb(),
    "deep flow sequences": "name: " + "[" * 100_000 + "]" * 100_000,
    "deep flow mappings": "name: " + "{a: " * 50_000 + "1" + "}" * 50_000,
    "deep block mappings": "".join(f"{'  ' * i}k:\n" for i in range(2_000)) + "  " * 2_000 + "v\n",
    "deep block sequences": "".join(f"{'  ' * i}-\n" for i in range(2_000)) + "  " * 2_000 + "v\n",
    "many anchors": "".join(f"a{i}: &x{i} v\n" for i in range(50_000)),
    "huge integer": "name: " + "9" * 50_000,
    "huge hex integer": "name: 0x" + "f" * 50_000,
    "huge binary integer": "name: 0b" + "1" * 50_000,
    "huge float exponent": "name: 1.0e" + "9" * 50_000,
    "long line under the cap": "name: " + "x" * 1_000_000,
    "long word before a URL's ://": "name: " + "x" * 1_000_000 + "://",
}


@pytest.fixture
def place(repo):
    """Write text (or bytes) into one of the repository's YAML files."""

    def write(where: str, content: str | bytes) -> Path:
        path = repo.root / where
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write


WHERE = ["customers/clinic-1.yaml", "templates/appointment_reminder.yaml", "wa-sync.yaml"]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("text", TAGS.values(), ids=TAGS.keys())
def test_yaml_tags_never_construct_anything(repo, place, where, text):
    MARKER.unlink(missing_ok=True)
    place(where, text + "\n")
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert where in output
    assert not MARKER.exists()
    assert "is not allowed" in output or "YAML syntax error" in output


@pytest.mark.parametrize("text", BOUNDED.values(), ids=BOUNDED.keys())
def test_expanding_or_deep_documents_cost_bounded_time_and_memory(repo, place, text):
    place("customers/clinic-1.yaml", text)
    started = time.monotonic()
    result = run_bounded("validate", "--root", str(repo.root), timeout=20)
    output = result.out + result.err
    assert "Traceback" not in output, output[-3000:]
    assert "internal error" not in output, output[-3000:]
    assert result.code in (0, 1)
    if result.code == 1:
        assert "customers/clinic-1.yaml" in output
    assert time.monotonic() - started < 20


def test_an_alias_bomb_is_named_as_one(repo, place):
    place("customers/clinic-1.yaml", billion_laughs())
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert "customers/clinic-1.yaml:" in output
    assert "alias" in output


def test_a_huge_number_is_a_message_not_a_crash(repo, place):
    place("customers/clinic-1.yaml", "name: Clinic\nwaba_id: " + "9" * 5_000 + "\n")
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert "customers/clinic-1.yaml:2" in output
    assert "too long" in output


def test_a_huge_number_as_a_template_param_is_refused(repo, place):
    from tests.e2e.helpers import customer_doc

    repo.customer("clinic-1", customer_doc(1))
    text = (repo.root / "customers/clinic-1.yaml").read_text(encoding="utf-8")
    place(
        "customers/clinic-1.yaml",
        text.replace("clinic_name: Clinic 1", "clinic_name: 0x" + "f" * 5000),
    )
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert "too long" in output


@pytest.mark.parametrize("where", WHERE)
def test_a_file_over_the_size_cap_is_refused_unread(repo, place, where):
    place(where, "name: x\n# " + "a" * (2 * 1024 * 1024) + "\n")
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert f"{where}: is too large" in output
    assert "1 048 576" in output


ENCODINGS = {
    "latin-1": ("name: Caf\u00e9\n".encode("latin-1"), "not valid UTF-8"),
    "utf-16 le with bom": (codecs.BOM_UTF16_LE + "name: x\n".encode("utf-16-le"), "UTF-16"),
    "utf-16 be with bom": (codecs.BOM_UTF16_BE + "name: x\n".encode("utf-16-be"), "UTF-16"),
    "utf-32 le with bom": (codecs.BOM_UTF32_LE + "name: x\n".encode("utf-32-le"), "UTF-16"),
    "truncated utf-8": ("name: caf\u00e9".encode()[:-1] + b"\n", "not valid UTF-8"),
    "nul byte": (b"name: a\x00b\n", "character YAML does not allow"),
    "control character": (b"name: a\x07b\n", "character YAML does not allow"),
    "lone surrogate escape": (b'name: "\\ud800"\n', ""),
}


@pytest.mark.parametrize(("raw", "expected"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_badly_encoded_files_are_messages_with_the_file(repo, place, raw, expected):
    place("customers/clinic-1.yaml", raw)
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert "customers/clinic-1.yaml" in output
    assert expected in output


def test_a_utf8_bom_is_accepted(repo, place):
    from tests.e2e.helpers import customer_doc

    path = repo.customer("clinic-1", customer_doc(1))
    place("customers/clinic-1.yaml", codecs.BOM_UTF8 + path.read_bytes())
    result = run_offline("validate", "--root", str(repo.root))
    assert result.code == 0, result.out + result.err
