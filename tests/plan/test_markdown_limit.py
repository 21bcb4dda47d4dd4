"""The markdown plan under GitHub's comment limit (SPEC §4.1, §4.8 nothing hidden): each
level that folds detail away says what it no longer names, and a plan cut to fit counts
exactly what it left out — customers not read, blocked items, rows of the table."""

from __future__ import annotations

import re

from wa_sync.plan.change import Action, Actor, Change, Gate, Note, NoteKind, Phase, Plan
from wa_sync.render.markdown import LIMIT, escape, render_markdown
from wa_sync.render.text import summary_line

GATE = Gate(step=7, name="Twilio invitation", actor=Actor.CUSTOMER, action="approve it")
LONG = "x" * 400


def undeclared(customer: str, n: int) -> Note:
    address = f"customer.{customer}/template.console_{n:04d}[en]"
    return Note(customer=customer, address=address, kind=NoteKind.UNDECLARED, message=LONG)


def blocked(customer: str, n: int) -> Change:
    return Change(
        customer=customer,
        address=f"customer.{customer}/template.offer_{n:04d}[en]",
        action=Action.BLOCKED,
        phase=Phase.CONTENT,
        blocked_by=GATE,
        reason=LONG,
    )


def create(customer: str, n: int) -> Change:
    return Change(
        customer=customer,
        address=f"customer.{customer}/template.news_{n:04d}[en]",
        action=Action.CREATE,
        phase=Phase.CONTENT,
        reason=LONG,
    )


def unread(customer: str) -> Note:
    return Note(
        customer=customer, address=f"customer.{customer}", kind=NoteKind.UNREAD, message=LONG
    )


def plain(md: str) -> str:
    """The markdown as read: escapes and entities undone."""
    return md.replace("\\", "").replace("&#95;", "_").replace("&#91;", "[").replace("&#93;", "]")


def test_a_plan_without_detail_still_names_every_undeclared_object():
    """Too long with detail, short enough with a line per item: each undeclared object
    is still named (its message is what is folded away)."""
    notes = [undeclared(f"c{c}", n) for c in range(4) for n in range(50)]
    plan = Plan.of([create("c0", 1)], notes)

    md = render_markdown(plan)

    assert len(md) <= LIMIT
    assert LONG not in md  # the detail is folded away
    for note in notes:
        assert f"undeclared: {note.address}" in plain(md)


def test_a_counts_only_plan_says_how_many_names_it_does_not_name():
    notes = [undeclared(f"c{c:03d}", n) for c in range(100) for n in range(10)]
    notes += [unread("u1"), unread("u2")]  # named above the table
    notes += [Note(customer="c002", address="customer.c002", kind=NoteKind.WARNING, message="!")]
    changes = [create(f"c{c:03d}", n) for c in range(100) for n in range(8)]
    changes += [blocked("c000", 1), blocked("c001", 2)]
    plan = Plan.of(changes, notes)

    md = render_markdown(plan)

    assert len(md) <= LIMIT
    assert "console_0001" not in plain(md)  # counted, not named
    assert "news_0001" not in plain(md)
    assert (
        "only blocked items are listed; 800 change(s), 1,000 undeclared object(s) and 1 "
        "other note(s) are counted, not named" in plain(md)
    )
    assert "customer.c000/template.offer_0001[en]: blocked at step 7" in plain(md)
    assert "u1, u2" in md  # the customers not read are named above it all


def test_a_plan_cut_to_fit_keeps_the_customers_not_read_first_and_counts_the_rest():
    customers = [f"customer-not-read-{n:05d}" for n in range(4000)]
    console = [undeclared("zz-console", n) for n in range(300)]
    plan = Plan.of([], [*(unread(c) for c in customers), *console])

    md = render_markdown(plan)

    assert len(md) <= LIMIT
    assert md.endswith(f"**{escape(summary_line(plan))}**\n")
    (line,) = [x for x in md.splitlines() if x.startswith("**Not read from Twilio")]
    named = re.findall(r"customer\\-not\\-read\\-\d{5}", line)
    more = int(re.search(r"… and ([\d,]+) more$", line)[1].replace(",", ""))
    assert named == [escape(c) for c in customers[: len(named)]]
    assert len(named) + more == 4000
    table = [x for x in md.splitlines() if x.startswith("| ") and not x.startswith("| customer |")]
    rows_left = 4001 - len(table)
    assert f"left out: {more:,} customer(s) not read from Twilio, {rows_left:,} row(s) of " in md
    assert "300 undeclared object(s) are counted, not named" in md


def test_a_plan_cut_to_fit_keeps_blocked_items_before_rows_of_the_table():
    changes = [blocked(f"clinic-{c:04d}", n) for c in range(1000) for n in range(3)]
    plan = Plan.of(changes)

    md = render_markdown(plan)

    assert len(md) <= LIMIT
    shown = re.findall(r"^- customer\\\.clinic\\-(\d{4})/template\\\.offer\\_(\d{4})", md, re.M)
    rows = re.findall(r"^\| clinic\\-\d{4} \|", md, re.M)
    said = re.search(r"left out: ([\d,]+) blocked item\(s\), ([\d,]+) row\(s\) of the table", md)
    assert said is not None, md[-800:]
    assert len(shown) + int(said[1].replace(",", "")) == 3000
    assert len(rows) + int(said[2].replace(",", "")) == 1000
    assert shown[:3] == [("0000", "0000"), ("0000", "0001"), ("0000", "0002")]
