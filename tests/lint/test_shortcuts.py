"""The lint's shortcuts: each template's features are worked out once per lint run (and
never kept from one run to the next), the placeholder rules remember verdicts per key
list, and cheap tests pass over what a rule cannot report. Each must give exactly what
the rule without it gives; these cases sit at the edge of each shortcut."""

from __future__ import annotations

import pytest

from tests.lint.helpers import config, problems, template
from wa_sync.config.rules._common import features, remembering


def text(body: str, **changes) -> object:
    return template(types={"twilio/text": {"body": body}}, **changes)


def test_features_are_shared_within_a_run_and_never_kept_after_it():
    first, second = config(), config()
    assert features(first) is not features(first)  # outside a run: worked out afresh
    with remembering():
        shared = features(first)
        assert features(first) is shared
        assert features(second) is not shared
        assert features(second)[0].template is second.customers[0].templates[0]
    with remembering():
        assert features(first) is not shared


def test_a_template_shared_by_two_customers_has_one_features():
    shared = template()
    cfg = config(templates=(shared, shared))
    found = features(cfg)
    assert found[0] is found[1]


def test_runs_nested_and_in_turn_give_each_config_its_own_answers():
    clean = config()
    broken = config(templates=(text("Hello {{1}} and {{3}}, see you soon at the clinic."),))
    with remembering():
        assert problems(clean) == []
        found = [p.rule for p in problems(broken)]
        assert found == ["VAR-SEQ", "VAR-SAMPLE", "VAR-SAMPLE"]  # {{3}}'s and "2"'s
    assert problems(clean) == []


def test_a_remembered_verdict_is_per_sample_list_and_template_kind():
    body = "Hello {{1}}, your visit at Acme Dental is on {{2}}. See you soon!"
    same_keys = [
        text(body, variables={"1": "Maria", "2": "June 3"}),
        text(body, variables={"1": "Maria"}),
        text(body, variables={"1": "Maria", "2": "June 3", "3": "x"}),
        text(body, variables={"1": "Maria", "2": "June 3", "3": "x"}, category="AUTHENTICATION"),
    ]
    found = [[p.message for p in problems(config(templates=(t,)), "VAR-SAMPLE")] for t in same_keys]
    assert found == [
        [],
        [
            "variable {{2}} has no sample value; WhatsApp needs one for every variable to "
            "review the template"
        ],
        ["sample '3' is for a variable the template does not use"],
        [],
    ]


@pytest.mark.parametrize(
    ("body", "fires"),
    [
        ("Hello {{1}}, see you soon at the clinic.", False),
        ("Hello {{{1}}}, see you soon at the clinic.", True),  # every brace counted
        ("Hello {{}} and {{1}}, see you soon at the clinic.", True),  # an empty key
        ("Hello {1}, see you soon at the clinic.", True),
        ("Hello {{1}}}, see you soon at the clinic.", True),
        ("Hello world, see you soon at the clinic.", False),
        ("Hello world}, see you soon at the clinic.", False),  # one brace alone passes
        ("Hello world}}, see you soon at the clinic.", True),
    ],
)
def test_braces_shortcut(body: str, fires: bool):
    assert bool(problems(config(templates=(text(body),)), "VAR-BRACES")) is fires


@pytest.mark.parametrize(
    ("body", "fires"),
    [
        ("Hello {{1}}, see you soon at the clinic {{2}}", True),
        ("Hello {{1}}, see you soon at the clinic {{2}} !?", True),  # punctuation only
        ("Hello {{1}}, see you soon at the clinic {{2}} x", False),
        ("Hello {{1}}, see you soon at the clinic {{2}}}", False),  # "}" ends it
        ("Hello {{1}}, see you soon at the clinic {{2}}é", False),
        ("Hello {{1}}, see you soon at the clinic 2}}", False),
        ("  {{1}}, see you soon at the clinic today.", True),  # starts with one
        ("\n{{1}}, see you soon at the clinic today.", True),
        ("{1}}, see you soon at the clinic today.", False),
    ],
)
def test_edge_shortcut(body: str, fires: bool):
    variables = {"1": "Maria", "2": "June 3"}
    found = problems(config(templates=(text(body, variables=variables),)), "VAR-EDGE")
    assert bool(found) is fires


@pytest.mark.parametrize(
    ("sample", "fires"),
    [("M" * 10, False), ("M" * 11, True), ("", False)],
)
def test_body_length_shortcut_at_the_limit(sample: str, fires: bool):
    body = "Hello {{1}}, see you soon." + "x" * (1024 - 26 - 5)  # 1019: 5 below the limit
    assert len(body) == 1019
    found = problems(config(templates=(text(body, variables={"1": sample}),)), "TPL-BODY-LEN")
    assert bool(found) is fires


@pytest.mark.parametrize(
    ("sample", "rules"),
    [
        ("Maria", []),
        ("  ", ["VAR-SAMPLE-WS"]),
        ("a\tb", ["VAR-SAMPLE-WS"]),
        ("a     b", ["VAR-SAMPLE-WS"]),
        ("a    b", []),
        ("50%", ["VAR-SPECIAL"]),
        ("\n$5", ["VAR-SAMPLE-WS", "VAR-SPECIAL"]),
    ],
)
def test_sample_shortcut(sample: str, rules: list[str]):
    cfg = config(templates=(template(variables={"1": sample, "2": "June 3"}),))
    found = [p.rule for p in problems(cfg) if p.rule in ("VAR-SAMPLE-WS", "VAR-SPECIAL")]
    assert found == rules


def test_a_remembered_button_verdict_names_each_template_s_own_type():
    urls = [{"type": "URL", "title": "Open", "url": f"https://acme.example/{i}"} for i in range(3)]
    found = [
        problems(
            config(templates=(template(types={kind: {"body": "Hello there", "actions": urls}}),)),
            "BTN-URL-COUNT",
        )
        for kind in ("twilio/call-to-action", "twilio/card", "twilio/call-to-action")
    ]
    assert [[p.message for p in each] for each in found] == [
        ["twilio/call-to-action has 3 URL buttons; WhatsApp allows at most 2"],
        ["twilio/card has 3 URL buttons; WhatsApp allows at most 2"],
        ["twilio/call-to-action has 3 URL buttons; WhatsApp allows at most 2"],
    ]


@pytest.mark.parametrize(("length", "rules"), [(20, []), (21, ["warning"]), (26, ["error"])])
def test_label_shortcut_at_the_strictest_limit(length: int, rules: list[str]):
    actions = [{"type": "QUICK_REPLY", "title": "t" * length, "id": "a"}]
    t = template(types={"twilio/quick-reply": {"body": "Hello there", "actions": actions}})
    found = problems(config(templates=(t,)), "BTN-LABEL-LEN")
    assert [str(p.severity) for p in found] == rules


@pytest.mark.parametrize(
    ("types", "keys"),
    [
        ({"twilio/text": {"body": "Hello there"}}, []),
        ({"twilio/text": {"body": " \n "}}, ["twilio/text.body"]),
        ({"twilio/text": {"body": "Hi"}, "twilio/media": {"media": ["x"]}}, ["twilio/media.body"]),
        ({"twilio/text": {"body": "Hi"}, "twilio/card": {"title": 3}}, ["twilio/card.title"]),
    ],
)
def test_body_required_shortcut(types: dict, keys: list[str]):
    found = problems(config(templates=(template(types=types, variables={}),)), "TPL-BODY-REQ")
    assert [p.key.removeprefix("templates[0].types.") for p in found] == keys


@pytest.mark.parametrize(("emoji", "fires"), [(10, False), (11, True)])
def test_emoji_shortcut(emoji: int, fires: bool):
    t = template(
        types={"twilio/text": {"body": "Hello there " + "🦷" * (emoji - 1), "x": {"y": "🦷"}}},
        variables={},
    )
    assert bool(problems(config(templates=(t,)), "TPL-EMOJI-MAX")) is fires
