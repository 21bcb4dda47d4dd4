"""Wire helpers that listings lean on."""

from __future__ import annotations

import json
import sqlite3

from wa_sync.emulator.wire import stored_json


def test_stored_json_decodes_every_column_of_every_row_as_json_loads_would():
    values = [
        ({"1": "Maria"}, {"twilio/text": {"body": 'Hi {{1}} \u00e9 \U0001f600 "q" \\ ,]'}}),
        ({}, {"twilio/card": {"title": "x", "actions": [{"n": 1.5e-7, "b": True, "z": None}]}}),
        ([1, "two"], "plain"),
    ]
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE t (variables TEXT, types TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [tuple(map(json.dumps, v)) for v in values])
    rows = db.execute("SELECT * FROM t").fetchall()
    decoded = stored_json(rows, ("variables", "types"))
    assert decoded == [{"variables": v, "types": t} for v, t in values]
    assert stored_json([], ("variables", "types")) == []
