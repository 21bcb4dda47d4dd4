"""Template library rendering (SPEC §2.3): `${{ }}` params, `{{1}}` untouched, the
sandbox, and the shape of the Templates it makes."""

from __future__ import annotations

import pytest

from wa_sync.config.library import Renderer, load_library
from wa_sync.config.sandbox import ENV, RenderError, render_string
from wa_sync.config.yamlfile import parse_yaml

LIBRARY = """\
name: reminder
category: UTILITY
params: [clinic_name, tone]
localizations:
  en:
    body: "Hi {{1}}, ${{ clinic_name }} reminds you of {{2}}.{% if tone=='warm' %} Hi!{% endif %}"
    variables: {"1": "Maria", "2": "June 3"}
  es:
    types:
      twilio/quick-reply:
        body: "Hola {{1}}, ${{ clinic_name | upper }} le recuerda su cita."
        actions:
          - {title: "${{ tone | title }}", id: confirm}
    variables: {"1": "María"}
"""


def library(text: str = LIBRARY, name: str = "reminder"):
    loaded, problems = load_library(parse_yaml(text, f"templates/{name}.yaml"), name)
    return loaded, problems


def test_params_are_inserted_and_whatsapp_placeholders_pass_through():
    loaded, problems = library()
    en, es = Renderer().render(loaded, {"clinic_name": "Acme", "tone": "warm"}, ["en", "es"])

    assert problems == []
    assert en.types["twilio/text"]["body"] == ("Hi {{1}}, Acme reminds you of {{2}}. Hi!")
    assert es.types["twilio/quick-reply"]["body"] == "Hola {{1}}, ACME le recuerda su cita."
    assert es.types["twilio/quick-reply"]["actions"][0] == {"title": "Warm", "id": "confirm"}
    assert dict(en.variables) == {"1": "Maria", "2": "June 3"}


def test_rendered_templates_point_at_their_localization():
    loaded, _ = library()
    en, es = Renderer().render(loaded, {"clinic_name": "Acme", "tone": "x"}, ["en", "es"])

    assert (en.name, en.language, en.category, en.library) == (
        "reminder",
        "en",
        "UTILITY",
        "reminder",
    )
    assert str(en.where) == "templates/reminder.yaml:5"
    assert en.path == "localizations.en"
    assert en.lines["types.twilio/text.body"] == 6
    assert en.lines["variables.2"] == 7
    assert en.lines["category"] == 2
    assert es.lines["types.twilio/quick-reply.actions[0].title"] == 13


def test_renders_are_cached_per_params():
    loaded, _ = library()
    renderer = Renderer()
    first = renderer.render(loaded, {"clinic_name": "Acme", "tone": "x"}, ["en"])
    again = renderer.render(loaded, {"tone": "x", "clinic_name": "Acme"}, ["en"])
    other = renderer.render(loaded, {"clinic_name": "Bella", "tone": "x"}, ["en"])

    assert first is again
    assert other is not first
    assert other[0].types["twilio/text"]["body"].startswith("Hi {{1}}, Bella")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${{ ''.__class__.__mro__ }}", "attribute access ('__mro__') is not allowed"),
        ("${{ cycler.__init__.__globals__ }}", "attribute access ('__globals__') is not allowed"),
        ("${{ clinic_name['__class__'] }}", "attribute access ('[...]') is not allowed"),
        ("${{ lipsum(5) }}", "a Jinja call is not allowed"),
        ("${{ clinic_name.upper() }}", "not allowed"),
        ("{% macro m() %}x{% endmacro %}", "a Jinja macro is not allowed"),
        ("{% include 'x' %}", "a Jinja include is not allowed"),
        ("${{ clinic_name | format(1) }}", "the filter 'format' is not allowed"),
        ("${{ range }}", "${{ range }} is not a param"),
        ("${{ tone ", "Jinja syntax error"),
        ("Pay ${{2}} now", "is a Jinja expression that prints 2"),
        (
            "{% for a in tone %}{% for b in tone %}{% for c in tone %}{% endfor %}{% endfor %}"
            "{% endfor %}",
            "loops are nested more than 2 deep",
        ),
    ],
)
def test_anything_beyond_text_is_refused_when_the_library_loads(expression: str, message: str):
    text = LIBRARY.replace(" Hi!", " " + expression.replace('"', '\\"'))
    loaded, problems = library(text)

    assert loaded is None
    assert any(message in p.message for p in problems), [p.message for p in problems]
    assert all(p.where.file == "templates/reminder.yaml" for p in problems)
    assert {p.where.line for p in problems if p.is_error} == {6}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("${{ ''.__class__ }}", "refused by the template sandbox"),
        ("${{ x * 1000000 }}", "would exceed"),
        ("${{ 2 ** 99999 }}", "`**` is not allowed"),
        ("${{ '%s' % x }}", "`%` formatting is not allowed"),
        ("${{ missing }}", "undefined"),
        ("${{ 1 / 0 }}", "cannot be rendered"),
    ],
)
def test_the_sandbox_refuses_at_render_time_too(source: str, message: str):
    """The second line of defence, for whatever the load-time check might miss."""
    with pytest.raises(RenderError, match=message.replace("*", r"\*")):
        render_string(ENV.from_string(source), {"x": "ab"}, "localizations.en.body")


def test_unused_param_is_a_warning():
    loaded, problems = library(
        LIBRARY.replace("params: [clinic_name, tone]", "params: [clinic_name, tone, city]")
    )

    assert loaded is not None
    (warning,) = problems
    assert not warning.is_error
    assert "'city' is declared but never used" in warning.message


def test_file_name_must_match_the_template_name():
    loaded, problems = library(name="other")

    assert loaded is None
    assert problems[0].message == "the template is named 'reminder' but its file is other.yaml"
