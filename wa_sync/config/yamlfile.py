"""Safe YAML that keeps the line of every key: plain data plus a map key path -> line.

Only the safe loader is used (libyaml's CSafeLoader when available). Files are read as
bytes with a size cap, decoded as strict UTF-8, composed into nodes, and turned into
plain data by our own walk, which refuses tags other than YAML's plain ones, duplicate
keys, and documents that expand (through aliases) past a node budget: an alias bomb
costs bounded time and memory. Every refusal is a `YamlFileError` carrying a Problem
with the file and, where there is one, the line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from wa_sync.config.files import YamlFileError, file_error, grouped
from wa_sync.errors import Location, Problem

try:  # libyaml is an order of magnitude faster; the pure-Python loader is equivalent
    SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    SafeLoader = yaml.SafeLoader

MAX_NODES = 100_000  # nodes after alias expansion, per file
TOO_DEEP_FIX = "no wa-sync file needs more than a few levels: check the brackets and indentation"
MAX_DEPTH = 64  # nesting levels
MAX_INT_BITS = 256  # an integer scalar: far more digits than any phone number or id

_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
STR_TAG = _TAG + "str"
MERGE_TAG = _TAG + "merge"
SEQ_TAG = _TAG + "seq"
MAP_TAG = _TAG + "map"


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """One file's plain data and the line of each key path ("senders[0].profile.about")."""

    file: str  # relative to the repository root, with forward slashes
    data: Any
    lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # key path -> the source text of a scalar YAML read as a number, boolean or null
    # (`0x1F`, `no`, `+14155550199`): what a fix that says "quote it" must quote
    written: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def line(self, path: str) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = parent_path(path)

    def where(self, path: str = "") -> Location:
        return Location(self.file, self.line(path))

    def problem(self, path: str, message: str, fix: str = "", **kwargs: Any) -> Problem:
        return Problem(self.where(path), path, message, fix, **kwargs)


def join(path: str, key: str | int) -> str:
    """The key path of a child: join("senders[0]", "profile") -> "senders[0].profile"."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parent_path(path: str) -> str:
    """The key path one level up; always shorter, whatever the keys hold."""
    if path.endswith("]") and "[" in path:
        return path[: path.rindex("[")]
    return path[: max(path.rfind("."), 0)]


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, text) of every string under `value` (plain data), depth first."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from strings(child, join(path, key))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            yield from strings(child, join(path, index))


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse YAML text (the contents of `file`) into a YamlDoc; raises YamlFileError."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise file_error(
                file, 1, "the file is empty", "add the settings it should hold, or delete it"
            )
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null":
            raise file_error(
                file,
                None,  # the whole file, as for an empty one
                "the file holds no data (only `---`, `~` or `null`)",
                "add the settings it should hold, or delete it",
            )
        walker = _Walker(loader, file)
        data = walker.build(node, "", 0)
    except yaml.MarkedYAMLError as exc:
        raise YamlFileError(_syntax_problem(exc, text, file)) from exc
    except yaml.YAMLError as exc:  # ReaderError: a control character, for one
        raise YamlFileError(_reader_problem(exc, text, file)) from exc
    except RecursionError as exc:
        raise file_error(
            file,
            None,
            f"the YAML is nested too deeply (more than {MAX_DEPTH} levels)",
            TOO_DEEP_FIX,
        ) from exc
    finally:
        loader.dispose()
    return YamlDoc(file, data, MappingProxyType(walker.lines), MappingProxyType(walker.written))


# --- nodes to plain data -----------------------------------------------------------------


class _Walker:
    """Builds plain data from a node graph, recording the line of each key path."""

    def __init__(self, loader: yaml.SafeLoader, file: str):
        self.loader = loader
        self.file = file
        self.budget = MAX_NODES
        self.lines: dict[str, int] = {"": 1}
        self.written: dict[str, str] = {}

    def build(self, node: yaml.Node, path: str, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise file_error(
                self.file,
                _line(node),
                f"expands to more than {grouped(MAX_NODES)} values through aliases "
                "(an alias bomb?)",
                "write the data out plainly instead of through nested anchors and aliases",
            )
        if depth > MAX_DEPTH:
            raise file_error(
                self.file,
                _line(node),
                f"is nested more than {MAX_DEPTH} levels deep",
                TOO_DEEP_FIX,
            )
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, SEQ_TAG)
            items = []
            for index, child in enumerate(node.value):
                child_path = join(path, index)
                self.lines.setdefault(child_path, _line(child))
                items.append(self.build(child, child_path, depth + 1))
            return items
        assert isinstance(node, yaml.MappingNode)
        self._check_tag(node, MAP_TAG)
        return self._mapping(node, path, depth)

    def _scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        if node.tag == STR_TAG:  # most scalars: what the constructor would return
            return node.value
        self.written[path] = node.value
        if node.tag not in SCALAR_TAGS:
            self._refuse_tag(node)
        if node.tag == _TAG + "timestamp":  # no date fields here: keep what was written
            return node.value
        try:
            value = self.loader.construct_object(node)
        except ValueError:  # Python's cap on the digits of an int read from text
            value = None
        if isinstance(value, float) and not math.isfinite(value):  # .nan passes `minimum`
            raise YamlFileError(
                Problem(
                    Location(self.file, _line(node)),
                    path,
                    f"{node.value} is not a number wa-sync can use",
                    "write a number such as 0.25, or put it in quotes if it is text",
                )
            )
        if (value is None and node.tag == _TAG + "int") or _int_too_long(value):
            raise file_error(
                self.file,
                _line(node),
                f"the number starting {node.value[:20]}... is too long",
                "quote it if it is text, or write a shorter number",
            )
        return value

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            self._refuse_tag(node)

    def _refuse_tag(self, node: yaml.Node) -> None:
        tag = node.tag.replace(_TAG, "!!")
        raise file_error(
            self.file,
            _line(node),
            f"the tag {tag} is not allowed: wa-sync files hold plain data only "
            "(strings, numbers, booleans, lists and mappings)",
            f"remove {tag}" + (" and quote the value" if isinstance(node, yaml.ScalarNode) else ""),
        )

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[tuple[int, yaml.Node]] = []  # (the line of `<<`, what it merges)
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append((_line(key_node), value_node))
                continue
            key = self._key(key_node)
            child_path = join(path, key)
            if key in result:
                first = self.lines.get(child_path)
                raise file_error(
                    self.file,
                    _line(key_node),
                    f"duplicate key {key!r}" + (f" (first given at line {first})" if first else ""),
                    "keep one of the two; YAML would silently use only the last",
                )
            self.lines[child_path] = _line(key_node)
            result[key] = self.build(value_node, child_path, depth + 1)
        if merges:  # `<<: *base` and `<<: [*a, *b]`: explicit keys win
            explicit = {key: self.lines[join(path, key)] for key in result}
            for line, merged in merges:
                for key, value in self._merged(merged, path, depth, line).items():
                    result.setdefault(key, value)
            self.lines.update((join(path, key), line) for key, line in explicit.items())
        return result

    def _merged(self, node: yaml.Node, path: str, depth: int, line: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise file_error(
                    self.file,
                    line,
                    "`<<` merges only mappings",
                    "merge an anchored mapping (`<<: *defaults`), or write the keys out",
                )
            for key, value in self._mapping(source, path, depth + 1).items():
                merged.setdefault(key, value)
        return merged

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise file_error(
                self.file,
                _line(node),
                "a key must be a plain word, not a list or mapping",
                "write the key as a word; YAML's `? [a, b]` complex keys mean nothing here",
            )
        if node.tag not in SCALAR_TAGS:
            self._refuse_tag(node)
        if node.value == "":
            raise file_error(self.file, _line(node), "a key is empty", "write the key's name")
        if not node.value.isprintable():
            raise file_error(
                self.file,
                _line(node),
                f"the key {node.value!r} holds a line break or another control character",
                "keys are plain words: remove it",
            )
        return str(node.value)  # as written: `1:` is the key "1", `yes:` the key "yes"


def _int_too_long(value: Any) -> bool:
    """An integer no configuration value needs, whose digits Python may refuse to print."""
    return isinstance(value, int) and value.bit_length() > MAX_INT_BITS


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# --- error messages ------------------------------------------------------------------------


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    tab_line = _tab_indented_line(text, line)
    if tab_line is not None:
        return Problem(
            Location(file, tab_line),
            "",
            "a tab is used for indentation; YAML allows only spaces",
            "replace the tab with spaces (two per level is usual)",
        )
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    if "expected a single document" in context:
        return Problem(
            Location(file, line),
            "",
            "holds more than one YAML document (a second `---`)",
            "keep one document per file: remove the `---` line and what follows, or merge them",
        )
    if "found character" in problem and "cannot start any token" in problem:
        problem = problem.replace("that cannot start any token", "where a value should start")
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        message += f" at column {mark.column + 1}"
    return Problem(
        Location(file, line),
        "",
        message,
        "check the indentation and quoting on this line and the one before; "
        "quote values containing ': ' or starting with a special character",
    )


def _reader_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(exc, "position", None)
    line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
    character = getattr(exc, "character", None)
    if isinstance(character, str) and character:
        character = ord(character)
    shown = f" (U+{character:04X})" if isinstance(character, int) else ""
    return Problem(
        Location(file, line),
        "",
        f"contains a character YAML does not allow{shown}",
        "remove the control character",
    )


def _tab_indented_line(text: str, error_line: int | None) -> int | None:
    """The line at (or just before) the error whose indentation holds a tab, if any."""
    lines = text.splitlines()
    last = min(error_line or len(lines), len(lines))
    for number in (last, last - 1):
        if number >= 1:
            line = lines[number - 1]
            if "\t" in line[: len(line) - len(line.lstrip(" \t"))]:
                return number
    return None
