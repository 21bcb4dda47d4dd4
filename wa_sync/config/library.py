"""The template library (templates/<name>.yaml), rendered per customer (SPEC §2.3).

Every string of a localization is a Jinja2 template in a sandbox with strict undefined
variables: `${{ param }}` inserts a param, `{% ... %}` are statements, and WhatsApp's
own `{{1}}` placeholders pass through untouched. Templates are text, not programs:
each library file is checked once when loaded, and only plain expressions, `if`,
`for` (two levels at most) and a few text filters are accepted; attribute access,
calls, macros and includes are refused. The sandbox (sandbox.py) remains as a second
line of defence at render time, with bounds on everything that could cost unbounded
time or memory. Rendered results are cached per (library, params, languages).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from wa_sync.config.sandbox import ENV, SAFE_FILTERS, RenderError, render_string
from wa_sync.config.yamlfile import YamlDoc, join, parent_path, strings
from wa_sync.errors import Location, Problem, Severity
from wa_sync.model import EMPTY, Template, freeze

LIBRARY_NAME = re.compile(r"^[a-z0-9_]+\Z")
MAX_PARAM_CHARS = 1_000
MAX_LOOP_DEPTH = 2
JINJA_LOOP = "loop"  # the loop variable Jinja sets in every {% for %}
ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.For,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Concat,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Assign,
    nodes.Tuple,
    nodes.List,
    nodes.Keyword,
)
# `${{2}}` is a Jinja expression printing 2, not "$" before placeholder {{2}}
DOLLAR_PLACEHOLDER = re.compile(r"\$\{\{\s*\d+\s*\}\}")
JINJA_MARKERS = ("${{", "{%", "{#")
BODY_TYPE = "twilio/text"


@dataclass(frozen=True, slots=True)
class Library:
    """One library file, checked and compiled once."""

    name: str  # the file name without .yaml: what `use:` refers to
    doc: YamlDoc
    category: str
    params: tuple[str, ...]
    localizations: Mapping[str, Any]  # language -> the localization's plain data
    compiled: Mapping[str, Any] = field(default_factory=dict)  # key path -> jinja Template
    frozen: Mapping[str, Any] = field(default_factory=dict)  # language -> frozen localization
    dynamic: frozenset[str] = frozenset()  # compiled paths and their ancestors
    lines: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # language -> lines
    # language -> where the localization is written: one Location shared by every
    # rendering, made once
    where: Mapping[str, Location] = field(default_factory=dict)

    def path(self, language: str) -> str:
        return join("localizations", language)


def load_library(doc: YamlDoc, name: str) -> tuple[Library | None, list[Problem]]:
    """Check a schema-valid library file once: its name, Jinja syntax, the names it uses."""
    data = doc.data
    problems: list[Problem] = []
    if data["name"] != name:
        problems.append(
            doc.problem(
                "name",
                f"the template is named {data['name']!r} but its file is {name}.yaml",
                f"rename the file to templates/{data['name']}.yaml, or set `name: {name}`",
            )
        )
    params = tuple(data.get("params", ()))
    compiled: dict[str, Any] = {}
    used: set[str] = set()
    for path, text in strings(data["localizations"], "localizations"):
        template, names, found = _compile(doc, path, text, params)
        problems += found
        used |= names
        if template is not None:
            compiled[path] = template
    problems += _param_problems(doc, params, used)
    if any(p.is_error for p in problems):
        return None, problems
    dynamic: set[str] = set()
    for path in compiled:
        while path and path not in dynamic:
            dynamic.add(path)
            path = parent_path(path)
    library = Library(
        name=name,
        doc=doc,
        category=data["category"],
        params=params,
        localizations=data["localizations"],
        compiled=compiled,
        frozen={lang: freeze(loc) for lang, loc in data["localizations"].items()},
        dynamic=frozenset(dynamic),
        lines={lang: _lines(doc, join("localizations", lang)) for lang in data["localizations"]},
        where={lang: doc.where(join("localizations", lang)) for lang in data["localizations"]},
    )
    return library, problems


def _lines(doc: YamlDoc, path: str) -> Mapping[str, int]:
    lines = relative_lines(doc, path, rename={"body": f"types.{BODY_TYPE}.body"})
    for key in ("name", "category"):
        if key in doc.lines:
            lines.setdefault(key, doc.lines[key])
    return freeze(lines)


def _compile(
    doc: YamlDoc, path: str, text: str, params: Sequence[str]
) -> tuple[Any, set[str], list[Problem]]:
    if not any(marker in text for marker in JINJA_MARKERS):
        return None, set(), []
    dollar = _dollar_placeholder(doc, path, text)
    if dollar is not None:
        return None, set(), [dollar]
    try:
        tree = ENV.parse(text)
    except TemplateSyntaxError as exc:
        return None, set(), [_syntax_problem(doc, path, exc)]
    problems = list(_forbidden(doc, path, tree))
    names = _names(tree)
    for unknown in sorted(names - set(params)):
        problems.append(
            doc.problem(
                path,
                f"${{{{ {unknown} }}}} is not a param of this template",
                f"add {unknown!r} to `params:` (and each customer's `with:`), or fix the "
                "name; only params are available in templates",
            )
        )
    if problems:
        return None, names, problems
    try:
        return ENV.from_string(tree), names, []
    except TemplateSyntaxError as exc:  # what Jinja checks as it compiles
        return None, names, [_syntax_problem(doc, path, exc)]


def _dollar_placeholder(doc: YamlDoc, path: str, text: str) -> Problem | None:
    dollar = DOLLAR_PLACEHOLDER.search(text)
    if not dollar:
        return None
    number = re.sub(r"\D", "", dollar.group())
    return doc.problem(
        path,
        f"{dollar.group()} is a Jinja expression that prints {number}, "
        f"not a dollar sign before the placeholder {{{{{number}}}}}",
        f"write {{% raw %}}${{{{{number}}}}}{{% endraw %}} for a dollar sign "
        "before the placeholder",
    )


def _forbidden(doc: YamlDoc, path: str, tree: nodes.Template) -> Iterator[Problem]:
    """Anything beyond inserting params, conditions and simple loops, and filters or
    tests that do not exist."""
    fix = (
        "templates may only insert params (${{ name }}), with text filters such as "
        "upper or default, and use {% if %} and {% for %}"
    )
    for node in _walk(tree):
        at = functools.partial(_problem_at, doc, path, node)
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            what = getattr(node, "attr", None) or "[...]"
            yield at(f"attribute access ({what!r}) is not allowed in the template sandbox", fix)
            return
        if not isinstance(node, ALLOWED_NODES):
            yield at(f"a Jinja {type(node).__name__.lower()} is not allowed in templates", fix)
            return
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            allowed = ", ".join(sorted(SAFE_FILTERS))
            yield at(f"the filter {node.name!r} is not allowed", f"use one of: {allowed}")
            return
        if isinstance(node, nodes.Test) and node.name not in ENV.tests:
            close = difflib.get_close_matches(node.name, list(ENV.tests), n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            tests = ", ".join(sorted(ENV.tests))
            yield at(f"there is no test named {node.name!r}", f"{hint}The tests are: {tests}")
            return
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        yield doc.problem(path, f"loops are nested more than {MAX_LOOP_DEPTH} deep", fix)


def _problem_at(doc: YamlDoc, path: str, node: nodes.Node, message: str, fix: str) -> Problem:
    """A problem at the line of `node` in the string at `path`."""
    base = doc.line(path)
    line = base + (getattr(node, "lineno", None) or 1) - 1 if base else None
    return Problem(Location(doc.file, line), path, message, fix)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _param_problems(doc: YamlDoc, params: Sequence[str], used: set[str]) -> list[Problem]:
    """A param named as Jinja's loop variable (inside a {% for %} it is the loop; outside
    it, the scan of the names used leaves it out), and params the text never uses."""
    problems = []
    if JINJA_LOOP in params:
        problems.append(
            doc.problem(
                "params",
                f"the param name {JINJA_LOOP!r} is Jinja's own (the loop variable of "
                "{% for %}), so it cannot carry a customer's value",
                f"rename it, for example to {JINJA_LOOP}_name, here and in its ${{{{ ... }}}}",
            )
        )
    for param in params:
        if param not in used and param != JINJA_LOOP:
            problems.append(
                doc.problem(
                    "params",
                    f"the param {param!r} is declared but never used as ${{{{ {param} }}}}",
                    "use it in the text or remove it from params",
                    severity=Severity.WARNING,
                )
            )
    return problems


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + (1 if isinstance(node, nodes.For) else 0)


def _names(tree: nodes.Template) -> set[str]:
    """Names read but not assigned in the template (the params it needs)."""
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    loaded = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    return loaded - stored - {JINJA_LOOP}


def _syntax_problem(doc: YamlDoc, path: str, exc: TemplateSyntaxError) -> Problem:
    base = doc.line(path)
    line = base + (exc.lineno or 1) - 1 if base else None
    return Problem(
        Location(doc.file, line),
        path,
        f"Jinja syntax error: {exc.message}",
        "check the ${{ ... }} and {% ... %} around here; WhatsApp placeholders are "
        "written {{1}}, without the $",
    )


# --- rendering for a customer ---------------------------------------------------------------


@dataclass
class Renderer:
    """Renders library templates for customers, once per (library, params, languages)."""

    cache: dict[tuple[Any, ...], tuple[Template, ...] | RenderError] = field(default_factory=dict)

    def render(
        self, library: Library, params: Mapping[str, Any], languages: Sequence[str]
    ) -> tuple[Template, ...]:
        """The library's templates in `languages` with `params`; raises RenderError."""
        key = (library.name, tuple(sorted((k, repr(v)) for k, v in params.items())), *languages)
        if key not in self.cache:
            try:
                self.cache[key] = tuple(_render(library, params, lang) for lang in languages)
            except RenderError as exc:
                self.cache[key] = exc
        result = self.cache[key]
        if isinstance(result, RenderError):
            raise result
        return result


def _render(library: Library, params: Mapping[str, Any], language: str) -> Template:
    path = library.path(language)
    rendered = _render_value(library, library.frozen[language], path, params)
    types = rendered.get("types") or MappingProxyType(
        {BODY_TYPE: MappingProxyType({"body": rendered["body"]})}
    )
    return Template(
        name=library.doc.data["name"],
        language=language,
        category=library.category,
        types=types,
        variables=rendered.get("variables", EMPTY),
        library=library.name,
        where=library.where[language],
        path=path,
        lines=library.lines[language],
    )


def _render_value(library: Library, value: Any, path: str, params: Mapping[str, Any]) -> Any:
    """The frozen `value` with its compiled strings rendered; static parts are shared."""
    if path not in library.dynamic:
        return value
    if isinstance(value, str):
        return render_string(library.compiled[path], params, path)
    if isinstance(value, Mapping):
        return MappingProxyType(
            {k: _render_value(library, v, join(path, k), params) for k, v in value.items()}
        )
    return tuple(_render_value(library, v, join(path, i), params) for i, v in enumerate(value))


# --- one template entry to the model ----------------------------------------------------------


def build_template(
    doc: YamlDoc,
    path: str,
    entry: Mapping[str, Any],
    *,
    name: str,
    language: str,
    category: str,
    library: str = "",
) -> Template:
    """A Template from an inline entry or a (rendered) localization at `path` in `doc`."""
    types = entry["types"] if "types" in entry else {BODY_TYPE: {"body": entry["body"]}}
    lines = relative_lines(doc, path, rename={"body": f"types.{BODY_TYPE}.body"})
    return Template(
        name=name,
        language=language,
        category=category,
        types=freeze(types),
        variables=freeze({str(k): v for k, v in entry.get("variables", {}).items()}),
        library=library,
        where=doc.where(path),
        path=path,
        lines=freeze(lines),
    )


def relative_lines(
    doc: YamlDoc, path: str, rename: Mapping[str, str] | None = None
) -> dict[str, int]:
    """The lines under `path`, keyed relative to it ("types.twilio/text.body" -> 12)."""
    prefix = f"{path}."
    found: dict[str, int] = {}
    for key, line in doc.lines.items():
        if not key.startswith(prefix):
            continue
        relative = key[len(prefix) :]
        for old, new in (rename or {}).items():
            if relative == old or relative.startswith(f"{old}."):
                relative = new + relative[len(old) :]
        found[relative] = line
    return found


def check_params(library: Library, given: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key path under the `use:` entry, param, "missing" | "unknown" | "too long")."""
    found = [("with", param, "missing") for param in library.params if param not in given]
    for param, value in given.items():
        if param not in library.params:
            found.append((f"with.{param}", param, "unknown"))
        elif isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
            found.append((f"with.{param}", param, "too long"))
    return found
