"""The Jinja sandbox of library templates, with bounds on everything a template could
make cost unbounded time or memory: the size of every value `*`, `+`, `~` and the
filters make (checked before it is made), the size of what is printed, the bits of an
integer product, and the number of loop iterations per rendered string. The bounds
are applied through Jinja's public hooks: the sandbox's operator interception, the
`finalize` of printed values, filters, and a rewrite of each template's nodes before it
is compiled (the node API that Jinja's extensions use). Only `render_string` renders.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from jinja2 import TemplateError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import StrictUndefined, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from wa_sync.config.characters import forbidden_character

MAX_OUTPUT_CHARS = 100_000  # per rendered string; WhatsApp's longest field is 2000
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


class RenderError(Exception):
    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


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
        raise RenderError(path, f"is refused by the template sandbox: {exc}") from exc
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
