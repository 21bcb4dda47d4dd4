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


def test_the_hints_are_read_before_the_settings_and_given_after_the_parallelism(
    tmp_path, monkeypatch
):
    """The hints are read while the account listing is on its way, before the settings,
    so that this thread is done when the page comes; the reads they start wait until
    the parallelism is set."""
    write_estate(tmp_path, customers=2, templates=1)
    done: list[str] = []
    given: list = []

    class Gateway:  # what _prefetch asks of a gateway, noted in order
        def prefetch(self, hints, customers):
            done.append(f"prefetch {customers}")
            given.append(hints)

        def set_parallelism(self, parallelism):
            assert not given[0].__self__.done(), "hints given before the parallelism was set"
            done.append(f"parallelism {parallelism}")

    read_hints = common.customer_hints
    monkeypatch.setattr(common, "customer_hints", lambda *a: done.append("hints") or read_hints(*a))
    from wa_sync.config import settings

    read_settings = settings.load_settings
    monkeypatch.setattr(
        settings, "load_settings", lambda *a: done.append("settings") or read_settings(*a)
    )
    common._prefetch(Gateway(), str(tmp_path), ["bench-00001", "bench-00002"], None)
    assert done == ["prefetch 2", "hints", "settings", "parallelism 16"]
    assert given[0]() == [("bench-00001", None), ("bench-00002", None)]
