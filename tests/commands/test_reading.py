"""What a command sets up while it reads Twilio."""

from __future__ import annotations

import io
import sys

import pytest

from bench.estate import write_estate
from wa_sync.commands import common
from wa_sync.runtime import Runtime


def test_readers_get_the_interpreter_lock_sooner_while_a_command_reads(tmp_path):
    root = tmp_path / "estate"
    write_estate(root, customers=2, templates=1)
    runtime = Runtime(environ={}, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    before = sys.getswitchinterval()
    assert before > common.READER_SWITCH_INTERVAL

    with common.load_and_connect(runtime, root=str(root), only=None, shard=None, emulator=True) as (
        loaded,
        _gateway,
    ):
        assert sys.getswitchinterval() == common.READER_SWITCH_INTERVAL
        assert [c.id for c in loaded.config.customers] == ["bench-00001", "bench-00002"]

    assert sys.getswitchinterval() == before


def test_the_switch_interval_comes_back_after_an_error():
    before = sys.getswitchinterval()

    def failing() -> None:
        with common.prompt_switching(0.001):
            assert sys.getswitchinterval() == 0.001
            raise KeyError("boom")

    with pytest.raises(KeyError):
        failing()
    assert sys.getswitchinterval() == before


def test_a_hint_is_a_top_level_account_sid_line_and_nothing_else(tmp_path):
    (tmp_path / "customers").mkdir()
    sids = {n: "AC" + str(n) * 32 for n in range(1, 6)}
    files = {
        "first": f"account_sid: '{sids[1]}'\nname: x\n",
        "crlf": f"name: x\r\naccount_sid: {sids[2]}\r\n",
        "prefixed": f"name: x\ncustomer_account_sid: {sids[3]}\n",
        "nested": f"name: x\nonboarding:\n  account_sid: {sids[4]}\n",
        "none": "name: x\n",
    }
    for name, text in files.items():
        (tmp_path / "customers" / f"{name}.yaml").write_bytes(text.encode())
    assert dict(common.customer_hints(str(tmp_path), list(files))) == {
        "first": sids[1],
        "crlf": sids[2],
        "prefixed": None,
        "nested": None,
        "none": None,
    }
