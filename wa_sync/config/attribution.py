"""Whose fault a problem of a library template's rendering is (SPEC §2.3).

A library file is rendered with each customer's `with:` values. A problem that every
customer's rendering has (a text too long for anyone, a filter that fails on any value)
is the library's own: it is reported once, at the library's line. A problem that only
some renderings have comes from those customers' values (a long business name, a value
holding `{{3}}`, a number where the text needs text): it is reported at each such
customer's `with:` line, where the fix is made, naming the library's line it shows in.
Out of a thousand customers, a problem at the library's line alone would leave nobody
able to tell whose value is at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from wa_sync.config.library import Library, Renderer, RenderError
from wa_sync.config.yamlfile import YamlDoc, join, parent_path
from wa_sync.errors import Location, Problem
from wa_sync.model import Config, Customer, Template


def at_values(
    file: str,
    lines: Mapping[str, int],
    entry: str,
    head: str,
    problem: Problem,
    *,
    param: str = "",
) -> Problem:
    """`problem` (found in the library's text) moved to the `with:` values of the `use:`
    entry at `entry` (the line of `with.<param>` when one param is the cause)."""
    key = join(join(entry, "with"), param) if param else join(entry, "with")
    near = key
    while near and near not in lines:  # `with:` left out: the `use:` entry's line
        near = parent_path(near)
    where = Location(file, lines.get(near))
    return replace(problem, where=where, key=key, message=head + problem.message)


def _in_library(problem: Problem) -> str:
    return f"the text at {problem.where} ({problem.key})"


# --- a load limited to some customers -------------------------------------------------------

_AT_VALUES = re.compile(r"templates\[\d+\]\.with(\..*)?")  # at_values' keys


def judged_in_estate(
    scoped: Sequence[Problem], customers: Collection[str], estate: Callable[[], Iterable[Problem]]
) -> list[Problem] | None:
    """The problems of a load limited to `customers` (`--customer`; `plan --changed-since`
    reads only the customer files that changed), those at a library's line judged on the
    estate's renderings (`estate()`, its load's problems): whose fault one is takes every
    customer's rendering, and the limited load has only its own, so a problem one
    customer's values caused was the library's. The estate's problems at the lines of
    those libraries and at the `with:` values of `customers` take their place. None when
    no problem is at a library's line (SPEC §2: templates/, customers/)."""
    libraries = {
        p.where.file for p in scoped if PurePosixPath(p.where.file).parent.name == "templates"
    }
    if not libraries:
        return None

    def judged(problem: Problem) -> bool:
        file = PurePosixPath(problem.where.file)
        if problem.where.file in libraries:
            return True
        mine = file.parent.name == "customers" and file.stem in customers
        return mine and _AT_VALUES.fullmatch(problem.key) is not None

    told = [p for p in scoped if p.where.file not in libraries]
    told += filter(judged, estate())
    return list(dict.fromkeys(told)) if any(p.is_error for p in told) else None


# --- the lint over rendered templates -------------------------------------------------------


def for_customers(
    config: Config, problems: list[Problem], origins: Mapping[int, tuple[Problem, Template]]
) -> list[Problem]:
    """The lint's problems, each in a library template's rendering kept at the library's
    line when it is the library's, told as one rendering has them, else moved to the
    `with:` line of each customer whose rendering has it. A problem is the library's when
    every rendering of that localization has it, or each has as many of its rule at its
    place (the same fault, with each one's figures: a body too long for every customer,
    by each one's name); one that only some renderings have, or have beside as many as
    the others (a value holding `{{3}}` where the library's text lacks the sample of
    `{{1}}`), is their values'."""
    if not origins:  # no problem in a library-rendered template (the usual case)
        return problems
    users: dict[int, list[Customer]] = {}  # id(rendered template) -> its customers
    renderings: dict[tuple[str, str], set[int]] = {}  # (library, language) -> its renderings
    for customer in config.customers:
        for template in customer.templates:
            if template.library:
                users.setdefault(id(template), []).append(customer)
                renderings.setdefault((template.library, template.language), set()).add(
                    id(template)
                )
    places: dict[tuple[str, Location, str], dict[int, set[Problem]]] = {}  # each rendering's
    for problem, template in origins.values():
        places.setdefault(_broken(problem), {}).setdefault(id(template), set()).add(problem)
    attributed: list[Problem] = []
    told: dict[tuple[str, Location, str], int] = {}  # a place's library problems: whose
    even: dict[tuple[str, Location, str], bool] = {}
    for problem in problems:
        origin = origins.get(id(problem))
        if origin is None:
            attributed.append(problem)
            continue
        template, broken = origin[1], _broken(problem)
        every = renderings[(template.library, template.language)]
        if broken not in even:  # each rendering has as many problems at this place
            even[broken] = len({len(places[broken].get(r, ())) for r in every}) == 1
        if not (even[broken] or all(problem in places[broken].get(r, ()) for r in every)):
            attributed += [_lint_at_values(c, template, problem) for c in users[id(template)]]
        elif told.setdefault(broken, id(template)) == id(template):  # as one rendering
            attributed.append(problem)  # has them: the first one's figures
    return attributed


def _broken(problem: Problem) -> tuple[str, Location, str]:
    """The rule broken and where in the library's text: what every rendering may share
    while its message differs (the length of each customer's body, say)."""
    return (problem.rule, problem.where, problem.key)


def _lint_at_values(customer: Customer, template: Template, problem: Problem) -> Problem:
    head = (
        f"customer {customer.id!r}, template {template.library!r} [{template.language}]: "
        f"with these `with:` values, {_in_library(problem)} breaks a WhatsApp rule: "
    )
    fix = (
        f"change these values (other customers' values render without this problem), or "
        f"{problem.where.file} so that it suits them too; for the rendered text: {problem.fix}"
    )
    entry = customer.uses[(template.library, template.language)]
    return at_values(customer.where.file, customer.lines, entry, head, replace(problem, fix=fix))


# --- templates that cannot be rendered ------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A customer's `use:` entry whose library template could not be rendered."""

    customer: str
    doc: YamlDoc  # the customer file
    entry: str  # the `use:` entry's key path, "templates[2]"
    library: Library
    given: Mapping[str, Any]  # its `with:` values
    languages: Sequence[str]
    error: RenderError


@dataclass
class Renderings:
    """What rendered and what failed, for render_problems once every customer is read."""

    rendered: set[tuple[str, str]] = field(default_factory=set)  # (library, language)
    failures: list[Failure] = field(default_factory=list)

    def render(
        self,
        renderer: Renderer,
        library: Library,
        given: Mapping[str, Any],
        languages: Sequence[str],
        *,
        customer: str,
        doc: YamlDoc,
        entry: str,
    ) -> list[Template] | None:
        """The `use:` entry's templates, or None with the failure kept."""
        try:
            made = renderer.render(library, given, languages)
        except RenderError as exc:
            failure = Failure(customer, doc, entry, library, given, tuple(languages), exc)
            self.failures.append(failure)
            return None
        self.rendered.update((library.name, language) for language in languages)
        return list(made)


_LIBRARY_FIX = (
    "check the ${{ ... }} and {% ... %} of this text: the filters and tests it uses, their "
    "arguments, and what it prints"
)


def render_problems(renderings: Renderings, renderer: Renderer) -> Iterator[Problem]:
    """Each failure at the `with:` line of its customer when its values are the cause: a
    value that is no text (the text renders with it as text), or values that the
    library's text fails on where other customers' render. A failure of the library's
    text whatever the values is reported once, at the library's line."""
    seen: set[tuple[str, str, str]] = set()
    for failure in renderings.failures:
        exc, library = failure.error, failure.library
        problem = library.doc.problem(exc.path, str(exc), _LIBRARY_FIX)
        typed = _not_text(failure, renderer)
        if typed:
            yield _type_at_values(failure, problem, typed)
        elif (library.name, _language(failure)) in renderings.rendered:
            yield _render_at_values(failure, problem)
        elif (once := (library.name, exc.path, str(exc))) not in seen:
            seen.add(once)
            where = failure.doc.where(failure.entry)
            message = f"{exc} (rendering it for customer {failure.customer!r}, {where})"
            yield replace(problem, message=message)


def _language(failure: Failure) -> str:
    """The language of the localization whose text failed ("" when none is)."""
    path = failure.error.path
    for language in failure.languages:
        top = failure.library.path(language)
        if path == top or path.startswith(f"{top}."):
            return language
    return ""


def _not_text(failure: Failure, renderer: Renderer) -> list[str]:
    """The params given as a number or true/false, when the text renders with them
    written as text (and so they are the cause)."""
    typed = [k for k, v in failure.given.items() if not isinstance(v, str)]
    if not typed:
        return []
    as_text = {k: _as_written(v) for k, v in failure.given.items()}
    try:
        renderer.render(failure.library, as_text, failure.languages)
    except RenderError:
        return []
    return typed


def _as_written(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_at_values(failure: Failure, problem: Problem, typed: list[str]) -> Problem:
    param = typed[0] if len(typed) == 1 else ""
    shown = ", ".join(f"{k}: {json.dumps(_as_written(failure.given[k]))}" for k in typed)
    what = "a number or true/false" if len(typed) == 1 else "numbers or true/false"
    head = (
        f"customer {failure.customer!r}, template {failure.library.name!r}: "
        f"`with:` gives {', '.join(typed)} as {what}, not text, and {_in_library(problem)} "
    )
    fix = f"write it as text, in quotes ({shown}): the template renders with it as text"
    return at_values(
        failure.doc.file,
        failure.doc.lines,
        failure.entry,
        head,
        replace(problem, fix=fix),
        param=param,
    )


def _render_at_values(failure: Failure, problem: Problem) -> Problem:
    head = (
        f"customer {failure.customer!r}, template {failure.library.name!r}: with these "
        f"`with:` values, {_in_library(problem)} "
    )
    fix = (
        "change these values (other customers' values render), or "
        f"{problem.where.file} so that it suits them too"
    )
    return at_values(
        failure.doc.file, failure.doc.lines, failure.entry, head, replace(problem, fix=fix)
    )
