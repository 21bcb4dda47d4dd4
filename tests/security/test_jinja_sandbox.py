"""Security review: the Jinja sandbox of library templates (templates/*.yaml).

A library template is text with `${{ param }}` insertions, `{% if %}` and `{% for %}`;
nothing in it may reach Python objects, the file system or unbounded time or memory.
Each case is a library template a hostile contributor could commit; `validate` must
refuse it with the file and a plain message, never run it to completion or crash.
"""

from __future__ import annotations

import time

import pytest
from jinja2.exceptions import SecurityError

from tests.e2e.helpers import customer_doc
from tests.security.conftest import assert_clean_error, run_bounded, run_offline
from wa_sync.config.sandbox import ENV

# Each is refused when the library file is loaded: attribute access, calls, globals,
# format-string tricks, filters that reach attributes or formatting.
STATIC = {
    "dunder attribute": "${{ clinic_name.__class__ }}",
    "dunder through a subscript": "${{ clinic_name['__class__'] }}",
    "mro walk": "${{ clinic_name.__class__.__mro__[1].__subclasses__() }}",
    "cycler globals": "${{ cycler.__init__.__globals__.os }}",
    "lipsum globals": "${{ lipsum.__globals__['os'] }}",
    "lipsum call": "${{ lipsum(100000, false, 100000, 100000) }}",
    "joiner": "${{ joiner() }}",
    "namespace": "{% set ns = namespace(a=1) %}${{ ns }}",
    "range with a huge argument": "{% for i in range(10**12) %}x{% endfor %}",
    "str.format": "${{ '{0.__class__}'.format(clinic_name) }}",
    "str.format_map": "${{ '{x.__class__}'.format_map({'x': clinic_name}) }}",
    "format filter": "${{ '%s'|format(clinic_name) }}",
    "format filter with attribute": "${{ '{0.__class__}'|format(clinic_name) }}",
    "attr filter": "${{ clinic_name|attr('__class__') }}",
    "map attribute": "${{ [clinic_name]|map(attribute='__class__')|list }}",
    "power": "${{ 'x' * 10**9 }}",
    "macro recursion": "{% macro m() %}${{ m() }}{% endmacro %}${{ m() }}",
    "recursive loop": "{% for i in [1] recursive %}${{ loop([1]) }}{% endfor %}",
    "loop attribute": "{% for i in [1] %}${{ loop.cycle }}{% endfor %}",
    "include": "{% include '/etc/passwd' %}",
    "import": "{% import 'x' as x %}",
    "extends": "{% extends '../../etc/passwd' %}",
    "self": "${{ self }}",
    "config global": "${{ config }}",
    "request global": "${{ request }}",
    "nested loops three deep": (
        "{% for a in clinic_name %}{% for b in clinic_name %}{% for c in clinic_name %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
}

# Each compiles (it is only operators, loops and filters on params) and must be
# stopped by a bound at render time, quickly and within a small amount of memory.
BOMBS = {
    "string repeat": "${{ 'x' * 1000000000 }}",
    "list repeat printed": "${{ [clinic_name] * 1000000000 }}",
    "repeat under the limit, twice": "${{ 'x' * 99999 }}${{ 'x' * 99999 }}",
    "concatenation doubling": "{% set s = 'x' * 99999 %}"
    + "{% set s = s ~ s %}" * 30
    + "${{ s|length }}",
    "addition doubling": "{% set s = 'x' * 99999 %}"
    + "{% set s = s + s %}" * 30
    + "${{ s|length }}",
    "integer squaring": "{% set n = 99999999999 %}" + "{% set n = n * n %}" * 40 + "${{ n > 1 }}",
    "list printed whole": "{% set s = 'x' * 99999 %}${{ [s] * 99999 }}",
    "list turned to a string": "{% set s = 'x' * 99999 %}${{ ([s] * 99999)|string|length }}",
    "replace with the empty string": "${{ clinic_name|replace('', 'y' * 99999)"
    "|replace('', 'y' * 99999)|length }}",
    "silent nested loops": "{% for a in 'x' * 99999 %}{% for b in 'x' * 99999 %}"
    "{% endfor %}{% endfor %}",
    "silent loops that only assign": "{% for a in [1] * 99999 %}{% for b in [1] * 99999 %}"
    "{% set c = a + b %}{% endfor %}{% endfor %}",
    "loops that print": "{% for a in 'x' * 99999 %}{% for b in 'x' * 99999 %}ab"
    "{% endfor %}{% endfor %}",
    "upper of a huge list": "{% set s = 'x' * 99999 %}${{ ([s] * 99999)|upper }}",
    "truncate end argument": "{% set s = 'x' * 99999 %}"
    "${{ clinic_name|truncate(5, true, [s] * 99999) }}",
}


def library_with(body: str) -> dict:
    return {
        "name": "hostile",
        "category": "UTILITY",
        "params": ["clinic_name"],
        "localizations": {
            "en": {
                "body": "Hi {{1}}, ${{ clinic_name }} says: " + body,
                "variables": {"1": "Maria"},
            }
        },
    }


def hostile_repo(repo, body: str):
    repo.write("templates/hostile.yaml", library_with(body))
    repo.customer(
        "clinic-1",
        customer_doc(1, templates=[{"use": "hostile", "with": {"clinic_name": "Dent"}}]),
    )
    return repo


@pytest.mark.parametrize("body", STATIC.values(), ids=STATIC.keys())
def test_template_reaching_past_params_is_refused_when_loaded(repo, body):
    hostile_repo(repo, body)
    started = time.monotonic()
    output = assert_clean_error(run_offline("validate", "--root", str(repo.root)))
    assert time.monotonic() - started < 5
    assert "templates/hostile.yaml" in output
    assert "__globals__" not in output.replace(body, "")  # nothing evaluated was shown
    assert "<class" not in output


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_template_exhausting_time_or_memory_is_stopped_by_a_bound(repo, body):
    hostile_repo(repo, body)
    output = assert_clean_error(run_bounded("validate", "--root", str(repo.root), timeout=20))
    assert "templates/hostile.yaml" in output
    assert "clinic-1" in output  # rendering it for this customer


def test_legitimate_template_features_still_render(repo):
    body = (
        "{% if clinic_name|length > 3 %}${{ clinic_name|upper }}{% else %}"
        "${{ clinic_name|lower }}{% endif %} "
        "{% for letter in clinic_name %}${{ letter }}.{% endfor %} "
        "${{ clinic_name ~ '!' }} ${{ clinic_name|replace('e', 'E') }} ${{ 2 * 3 + 1 }} "
        "${{ clinic_name|truncate(9, true, '') }} ${{ '-' * 3 }}"
    )
    hostile_repo(repo, body)
    result = run_offline("validate", "--root", str(repo.root), "--format", "json")
    assert result.code == 0, result.out + result.err


def test_every_template_is_rendered_only_through_the_bounded_path():
    """The compiled templates count loop iterations against a budget only
    render_string sets: rendering any other way is refused, not unbounded."""
    template = ENV.from_string("{% for a in x %}${{ a }}{% endfor %}")
    with pytest.raises(SecurityError):
        template.render(x="abc")
