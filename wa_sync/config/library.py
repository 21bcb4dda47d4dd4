"""The template library (templates/<name>.yaml), rendered per customer (SPEC §2.3).

Every string of a localization is a Jinja2 template in a sandbox with strict undefined
variables: `${{ param }}` inserts a param, `{% ... %}` are statements, and WhatsApp's
own `{{1}}` placeholders pass through untouched. Templates are text, not programs:
each library file is checked once when loaded, and only plain expressions, `if`,
`for` (two levels at most) and a few text filters are accepted; attribute access,
calls, macros and includes are refused. The sandbox remains as a second line of
defence at render time, with bounds on everything that could cost unbounded time or
memory: the size of every value `*`, `+`, `~` and the filters make (checked before it
is made), the size of what is printed, the bits of an integer product, and the number
of loop iterations per rendered string. Rendered results are cached per (library,
params, languages).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import StrictUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from wa_sync.config.characters import forbidden_character
from wa_sync.config.yamlfile import YamlDoc, join, parent_path, strings
from wa_sync.errors import Location, Problem, Severity
from wa_sync.model import EMPTY, Template, freeze

LIBRARY_NAME = re.compile(r"^[a-z0-9_]+\Z")
MAX_OUTPUT_CHARS = 100_000  # per rendered string; WhatsApp's longest field is 2000
MAX_PARAM_CHARS = 1_000
MAX_LOOP_DEPTH = 2
MAX_LOOP_ITERATIONS = 10_000  # per rendered string, all loops together
MAX_INT_BITS = 4_096  # of a product: no digit string longer than ~1200 characters
LOOP_FILTER = "wa_sync_bounded_loop"  # wraps every loop's iterable; not for templates
CONCAT_FILTER = "wa_sync_bounded_concat"  # replaces every `~`; not for templates
SAFE_FILTERS = frozenset(
    [
        "upper",
        "lower",
        "title",
        "capitalize",
        "trim",
        "replace",
        "truncate",
        "default",
        "d",
        "string",
        "int",
        "float",
        "round",
        "abs",
        "length",
    ]
)
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


_LOOP_BUDGET: ContextVar[list[int] | None] = ContextVar("wa_sync_loop_budget", default=None)


def _size(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
    """At least len(str(value)), computed without making the string; stops past `limit`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2  # decimal digits are bits * 0.302
    if isinstance(value, float):
        return 24
    if isinstance(value, list | tuple | set | frozenset | dict):
        total = 2
        items = value.items() if isinstance(value, dict) else ((item, None) for item in value)
        for key, item in items:
            for part in (key, item):  # a str inside a container is shown by repr: x10 at most
                total += 4 + (10 * len(part) if isinstance(part, str) else _size(part, limit))
            if total > limit:
                break
        return total
    return 0  # Undefined, loop state, generators: small, or they fail on their own


def _check_size(value: Any, what: str = "the value") -> None:
    if _size(value) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"{what} would exceed {MAX_OUTPUT_CHARS} characters")


class _Bounds(NodeTransformer):
    """Applied to every template before it is compiled, through Jinja's node API (the
    one extensions use): each loop's iterable goes through LOOP_FILTER, which counts
    iterations, and each `~` through CONCAT_FILTER, which refuses a string that would
    be too long before making it."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)  # in place
        node.iter = _filtered(node.iter, LOOP_FILTER)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filtered(nodes.List(node.nodes, lineno=node.lineno), CONCAT_FILTER)


def _filtered(node: nodes.Node, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with every operator that can grow a value bounded (through the
    sandbox's operator interception) and every template compiled with _Bounds."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def compile(  # type: ignore[override]
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        tree = self.parse(source, name, filename) if isinstance(source, str) else source
        bounded = _Bounds().visit(tree)
        return super().compile(bounded, name, filename, raw, defer_init)  # type: ignore[call-overload]

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            raise SecurityError("`**` is not allowed in templates")
        if op == "%" and isinstance(left, str):
            raise SecurityError("`%` formatting is not allowed in templates")
        if op == "*" and _repeats(left, right) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the result would exceed {MAX_OUTPUT_CHARS} characters")
        if op == "*" and _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise SecurityError(f"the product would exceed {MAX_INT_BITS} bits")
        if op == "+" and _joined(left, right) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the result would exceed {MAX_OUTPUT_CHARS} characters")
        return super().call_binop(context, op, left, right)


def _bounded_concat(values: Sequence[Any]) -> str:
    """`a ~ b`: Jinja's str_join, refused before it makes a string that is too long."""
    total = 0
    for value in values:
        total += _size(value)
        if total > MAX_OUTPUT_CHARS:
            raise SecurityError(f"`~` would make more than {MAX_OUTPUT_CHARS} characters")
    return "".join(map(str, values))


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _joined(left: Any, right: Any) -> int:
    sized = (str, list, tuple)
    return len(left) + len(right) if isinstance(left, sized) and isinstance(right, sized) else 0


def _repeats(left: Any, right: Any) -> int:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(count, int):
            return len(seq) * max(count, 0)
    return 0


def _finalize(value: Any) -> Any:
    """Every printed value, before Jinja turns it into a string."""
    _check_size(value, "the printed value")
    return value


def _bounded_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """A loop's iterable, counted against the rendered string's iteration budget."""
    budget = _LOOP_BUDGET.get()
    if budget is None:
        raise SecurityError("library templates are rendered only through render_string")
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"loops would run more than {MAX_LOOP_ITERATIONS} times")
        yield item


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments and result are size-checked (`replace` before it runs)."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if not isinstance(value, Undefined):
                _check_size(value, f"an argument of the filter {name!r}")
        if name == "replace":
            _check_replace(signature.bind(*args, **kwargs).arguments)
        result = func(*args, **kwargs)
        _check_size(result, f"the result of the filter {name!r}")
        return result

    return guarded


def _check_replace(arguments: Mapping[str, Any]) -> None:
    text, old, new = (str(arguments[key]) for key in ("s", "old", "new"))
    found = len(text) + 1 if not old else text.count(old)
    count = arguments.get("count")
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    if len(text) + found * max(0, len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"`replace` would make more than {MAX_OUTPUT_CHARS} characters")


def _environment() -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=StrictUndefined,
        variable_start_string="${{",
        variable_end_string="}}",
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace: only params
    for name in set(env.filters) - SAFE_FILTERS:
        del env.filters[name]
    for name in SAFE_FILTERS:
        env.filters[name] = _guarded(name, env.filters[name])
    env.filters[LOOP_FILTER] = _bounded_loop
    env.filters[CONCAT_FILTER] = _bounded_concat
    return env


ENV = _environment()


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
    for param in params:
        if param not in used:
            problems.append(
                doc.problem(
                    "params",
                    f"the param {param!r} is declared but never used as ${{{{ {param} }}}}",
                    "use it in the text or remove it from params",
                    severity=Severity.WARNING,
                )
            )
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


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + (1 if isinstance(node, nodes.For) else 0)


def _names(tree: nodes.Template) -> set[str]:
    """Names read but not assigned in the template (the params it needs)."""
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    loaded = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    return loaded - stored - {"loop"}


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


class RenderError(Exception):
    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


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


# What the template's own code (its operators, filters and tests, with the arguments
# it gives them) can raise, all of it the template's problem.
RENDER_FAILURES = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    RecursionError,
)


def render_string(template: Any, params: Mapping[str, Any], path: str = "") -> str:
    """One compiled string with `params`; every failure becomes a RenderError."""
    out: list[str] = []
    size = 0
    budget = _LOOP_BUDGET.set([MAX_LOOP_ITERATIONS])
    try:
        for chunk in template.generate(params):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderError(path, f"renders to more than {MAX_OUTPUT_CHARS} characters")
            out.append(chunk)
    except SecurityError as exc:
        raise RenderError(path, f"refused by the template sandbox: {exc}") from exc
    except UndefinedError as exc:
        raise RenderError(path, f"uses an undefined value: {exc}") from exc
    except AssertionError as exc:  # how Jinja's filters check some arguments (truncate)
        message = f"cannot be rendered: a filter's argument is wrong ({exc})"
        raise RenderError(path, message) from exc
    except RENDER_FAILURES as exc:
        raise RenderError(path, f"cannot be rendered: {exc}") from exc
    finally:
        _LOOP_BUDGET.reset(budget)
    text = "".join(out)
    shown = forbidden_character(text)
    if shown is not None:  # from an escape in a Jinja string, say "\u202e"
        raise RenderError(path, f"renders to text that holds the character {shown}")
    return text


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
