"""The repository's files -> the validated, normalised model (SPEC §2, §4.6).

`load_repo` reads wa-sync.yaml, customers/*.yaml and templates/*.yaml once: each file
is scanned for credentials, parsed (yamlfile), checked against its JSON Schema
(schema), and turned into model objects, library templates rendered per customer
(library). Then the cross-file checks and the WhatsApp policy lint run on the model.
Every problem is collected before anything is reported.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wa_sync.config.attribution import Renderings, judged_in_estate, render_problems
from wa_sync.config.files import unread_folder
from wa_sync.config.flows import read_onboarding
from wa_sync.config.library import (
    LIBRARY_NAME,
    Library,
    Renderer,
    build_template,
    check_params,
    load_library,
    relative_lines,
)
from wa_sync.config.limits import limit_problems
from wa_sync.config.lint import lint_config
from wa_sync.config.settings import read_checked, read_settings
from wa_sync.config.yamlfile import YamlDoc, join
from wa_sync.errors import ConfigInvalid, Location, Problem, UsageError
from wa_sync.model import (
    CUSTOMER_ID_PATTERN,
    FRIENDLY_NAME_PREFIX,
    Config,
    Customer,
    Flow,
    Sender,
    Template,
    freeze,
    rollout_name_clash,
)

CUSTOMERS_DIR = "customers"
TEMPLATES_DIR = "templates"


def load_repo(root: str, customers: Sequence[str] | None = None) -> tuple[Config, list[Problem]]:
    """The repository at `root` as a Config, with its warnings.

    Raises ConfigInvalid with every problem (errors and warnings) when there is any
    error. With `customers`, only those customer files (and the library templates they
    use) are loaded; ids without a file are left for the caller to report, and a
    problem at a library's line is judged on the whole estate (attribution.py).
    """
    config, found = load_model(root, customers)
    try:
        return finish_load(config, found)
    except ConfigInvalid as invalid:
        judged = customers and judged_in_estate(invalid.problems, customers, lambda: _all(root))
        if not judged:
            raise
        raise ConfigInvalid(judged) from invalid


def _all(root: str) -> tuple[Problem, ...]:
    """The estate's problems, every customer's: for a load limited to some (load_repo)."""
    try:
        finish_load(*load_model(root))
    except ConfigInvalid as invalid:
        return invalid.problems
    return ()


def load_model(root: str, customers: Sequence[str] | None = None) -> tuple[Config, list[Problem]]:
    """The first part of `load_repo`: every file read, checked and rendered into the
    model, with the problems found so far (errors too: nothing is raised for them).
    `finish_load` lints the model and gives load_repo's verdict."""
    loader = _Loader(check_root(root), set(customers) if customers is not None else None)
    return loader.load(), loader.problems


ESTATE_PARTS = ("wa-sync.yaml", "customers", "templates")


def check_root(root: str) -> Path:
    """The repository's root directory, or a UsageError when there is none."""
    base = Path(root)
    if not base.is_dir():
        raise UsageError(f"--root {root}: no such directory")
    if not any((base / name).exists() for name in ESTATE_PARTS):
        # a wrong directory (a CI step without the estate's `root:`) is not an empty estate
        raise UsageError(
            f"--root {root}: not a wa-sync estate: it holds no wa-sync.yaml, customers/ or "
            "templates/. Give the estate's directory with --root (the default is the "
            "current directory), or start one there with `wa-sync init`"
        )
    return base


def finish_load(config: Config, found: Sequence[Problem]) -> tuple[Config, list[Problem]]:
    """The second part of `load_repo`: the WhatsApp lint over the model, then the
    verdict on every problem (ConfigInvalid, or the config and its warnings)."""
    linted = lint_config(config) + limit_problems(config)
    problems = list(dict.fromkeys([*found, *linted]))  # a shared library's lint, once
    if any(problem.is_error for problem in problems):
        raise ConfigInvalid(problems)
    return config, [problem for problem in problems if not problem.is_error]


@dataclass(frozen=True, slots=True)
class _Declared:
    """Where a customer file declares a template or phone number (for duplicates)."""

    customer: str
    where: Location
    key: str


@dataclass
class _Loader:
    root: Path
    only: set[str] | None
    problems: list[Problem] = field(default_factory=list)
    libraries: dict[str, Library | None] = field(default_factory=dict)
    renderer: Renderer = field(default_factory=Renderer)
    renderings: Renderings = field(default_factory=Renderings)
    phones: dict[str, _Declared] = field(default_factory=dict)
    account_sids: dict[str, _Declared] = field(default_factory=dict)
    library_files: dict[str, str] = field(default_factory=dict)
    flow: Flow = Flow.LEGACY  # settings.onboarding_flow

    def load(self) -> Config:
        isv, settings = read_settings(self.root, self.problems)
        self.flow = settings.onboarding_flow
        self.library_files = self._yaml_files(TEMPLATES_DIR, self._library_stem_ok)
        if self.only is None:
            for name in self.library_files:
                self._library(name)
        customers = []
        for stem, relative in self._yaml_files(CUSTOMERS_DIR, self._customer_stem_ok).items():
            if self.only is None or stem in self.only:
                customer = self._customer(stem, relative)
                if customer is not None:
                    customers.append(customer)
        self.problems += render_problems(self.renderings, self.renderer)
        return Config(root=str(self.root), isv=isv, settings=settings, customers=tuple(customers))

    # --- files -----------------------------------------------------------------------------

    def _read(self, relative: str, kind: str) -> YamlDoc | None:
        """A file parsed and schema-valid, or None with its problems recorded."""
        return read_checked(self.root, relative, kind, self.problems)

    def _yaml_files(self, directory: str, stem_ok: Callable[[str, str], bool]) -> dict[str, str]:
        """stem -> relative path of each directory/*.yaml, in name order."""
        path = self.root / directory
        if not path.exists() and not path.is_symlink():
            return {}
        if not path.is_dir():
            self._error(directory, f"{directory} is not a directory", "make it a directory")
            return {}
        found: dict[str, str] = {}
        for entry in sorted(path.iterdir(), key=lambda p: p.name):
            relative = f"{directory}/{printable(entry.name)}"
            if entry.name.startswith("."):
                continue
            if entry.suffix.lower() in (".yml", ".yaml") and entry.suffix != ".yaml":
                self._error(  # `acme.YAML`, read on one machine, would be lost on another
                    relative,
                    f"has the extension {printable(entry.suffix)}; wa-sync reads only .yaml files",
                    f"rename it to {directory}/{printable(entry.stem)}.yaml",
                )
            elif entry.suffix == ".yaml" and stem_ok(entry.stem, relative):
                found[entry.stem] = relative
            elif entry.is_dir() and not entry.is_symlink():
                self.problems += unread_folder(entry, relative)
        return found

    def _customer_stem_ok(self, stem: str, relative: str) -> bool:
        if CUSTOMER_ID_PATTERN.match(stem):
            return True
        word = "".join(c if c.isalnum() else "-" for c in stem.lower()).strip("-")
        candidates = (word, f"{word[:47]}-customer", "my-customer")  # "q" is too short
        suggestion = next(c for c in candidates if CUSTOMER_ID_PATTERN.match(c))
        self._error(
            relative,
            f"the file name {stem!r} is not a valid customer id: the id is the file name, "
            "2-56 characters of a-z, 0-9 and -, starting with a letter or digit",
            f"rename it, for example to customers/{suggestion}.yaml",
        )
        return False

    def _library_stem_ok(self, stem: str, relative: str) -> bool:
        if LIBRARY_NAME.match(stem):
            if clash := rollout_name_clash(stem):
                self._error(relative, clash[0], f"{clash[1]}: rename {relative} and its `name:`")
                return False
            return True
        suggestion = "".join(c if c.isalnum() else "_" for c in stem.lower()).strip("_")
        self._error(
            relative,
            f"the file name {stem!r} is not a valid template name (a-z, 0-9 and _ only)",
            f"rename it, for example to templates/{suggestion or 'my_template'}.yaml",
        )
        return False

    def _error(self, file: str, message: str, fix: str = "", line: int | None = None) -> None:
        self.problems.append(Problem(Location(file, line), "", message, fix))

    # --- templates/*.yaml --------------------------------------------------------------------

    def _library(self, name: str) -> Library | None:
        if name not in self.libraries:
            library = None
            relative = self.library_files.get(name)
            doc = self._read(relative, "template") if relative else None
            if doc is not None:
                library, found = load_library(doc, name)
                self.problems += found
            self.libraries[name] = library
        return self.libraries[name]

    # --- customers/*.yaml --------------------------------------------------------------------

    def _customer(self, cid: str, relative: str) -> Customer | None:
        doc = self._read(relative, "customer")
        if doc is None:
            return None
        data = doc.data
        before, failed = len(self.problems), len(self.renderings.failures)
        self._account_sid(cid, doc)
        senders = tuple(self._sender(cid, doc, i, s) for i, s in enumerate(data.get("senders", ())))
        templates, uses = self._templates(cid, doc)
        onboarding, wrong_flow = read_onboarding(doc, self.flow)
        self.problems += wrong_flow
        if any(p.is_error for p in self.problems[before:]) or self.renderings.failures[failed:]:
            return None  # a template that cannot be rendered is reported once all are read
        return Customer(
            id=cid,
            name=data["name"],
            facebook_business_manager_id=data.get("facebook_business_manager_id"),
            customer_account_sid=data.get("customer_account_sid"),
            account_sid=data.get("account_sid"),
            waba_id=data.get("waba_id"),
            protect=data.get("protect", False),
            onboarding=onboarding,
            senders=senders,
            templates=templates,
            where=Location(relative),
            lines=doc.lines,
            uses=MappingProxyType(uses),
        )

    def _account_sid(self, cid: str, doc: YamlDoc) -> None:
        """One subaccount, one customer (SPEC §4.3): an account_sid in two files is an
        error, or each apply (with prune, above all) would undo the other's. The
        subaccount's FriendlyName, and so a claim by name, is Twilio's: the fix says so
        (nothing is asked of Twilio for an invalid configuration, docs/reliability.md)."""
        sid = doc.data.get("account_sid")
        if not sid:
            return
        first = self.account_sids.setdefault(sid, _Declared(cid, doc.where("account_sid"), ""))
        if first.customer != cid:
            self.problems.append(
                doc.problem(
                    "account_sid",
                    f"the subaccount {sid} is also managed by customer {first.customer!r} "
                    f"at {first.where}: two customers would manage one subaccount",
                    "a subaccount belongs to exactly one customer: keep account_sid in at "
                    "most one of these files. Twilio may hold one more claim, which this "
                    f"check cannot see: a subaccount named '{FRIENDLY_NAME_PREFIX}<id>' is "
                    "customer <id>'s by its name; once this is fixed, `wa-sync plan` reads "
                    "that name and names customer <id> if so",
                )
            )

    def _sender(self, cid: str, doc: YamlDoc, index: int, entry: Mapping[str, Any]) -> Sender:
        path = join("senders", index)
        phone = entry["phone_number"]
        key = join(path, "phone_number")
        first = self.phones.get(phone)
        if first is None:
            self.phones[phone] = _Declared(cid, doc.where(key), key)
        else:
            owner = "this customer" if first.customer == cid else f"customer {first.customer!r}"
            self.problems.append(
                doc.problem(
                    key,
                    f"the phone number {phone} is declared twice: also by {owner} "
                    f"at {first.where} ({first.key})",
                    "a WhatsApp sender belongs to exactly one customer: remove one of the two",
                )
            )
        return Sender(
            phone_number=phone,
            display_name=entry["display_name"],
            profile=freeze(entry.get("profile", {})),
            webhook=freeze(entry.get("webhook", {})),
            verification=entry.get("verification"),
            ignore=tuple(entry.get("ignore", ())),
            protect=entry.get("protect", False),
            where=doc.where(path),
            path=path,
            lines=freeze(relative_lines(doc, path)),
        )

    def _templates(
        self, cid: str, doc: YamlDoc
    ) -> tuple[tuple[Template, ...], dict[tuple[str, str], str]]:
        """The customer's templates, and the `use:` entry of each library rendering."""
        declared: dict[tuple[str, str], _Declared] = {}
        templates: list[Template] = []
        uses: dict[tuple[str, str], str] = {}
        for index, entry in enumerate(doc.data.get("templates", ())):
            path = join("templates", index)
            if "use" in entry:
                made: Iterable[Template] = self._use(cid, doc, path, entry)
            elif clash := rollout_name_clash(entry["name"]):
                self.problems.append(doc.problem(join(path, "name"), *clash))
                continue
            else:
                made = [
                    build_template(
                        doc,
                        path,
                        entry,
                        name=entry["name"],
                        language=entry["language"],
                        category=entry["category"],
                    )
                ]
            if entry.get("protect"):
                made = [replace(template, protect=True) for template in made]
            if entry.get("ignore"):
                made = [replace(template, ignore=tuple(entry["ignore"])) for template in made]
            for template in made:
                first = declared.setdefault(template.key, _Declared(cid, doc.where(path), path))
                if first.key != path:
                    self.problems.append(_duplicate(doc, path, template, first))
                    continue
                templates.append(template)
                if template.library:
                    uses[(template.library, template.language)] = path
        return tuple(templates), uses

    def _use(self, cid: str, doc: YamlDoc, path: str, entry: Mapping[str, Any]) -> list[Template]:
        name = entry["use"]
        if name not in self.library_files:
            close = difflib.get_close_matches(name, list(self.library_files), n=1)
            self.problems.append(
                doc.problem(
                    join(path, "use"),
                    f"customer {cid!r}: unknown library template {name!r}: there is no "
                    f"file templates/{name}.yaml",
                    f"Did you mean {close[0]!r}?" if close else _available(self.library_files),
                )
            )
            return []
        library = self._library(name)
        if library is None:  # its own problems are reported against its file
            return []
        given = entry.get("with", {})
        problems = [
            _param_problem(doc, path, cid, library, *found)
            for found in check_params(library, given)
        ]
        languages = entry.get("languages") or list(library.localizations)
        for index, language in enumerate(languages):
            if language not in library.localizations:
                problems.append(
                    doc.problem(
                        join(path, f"languages[{index}]"),
                        f"customer {cid!r}, template {name!r}: the language {language!r} is "
                        f"not in templates/{name}.yaml",
                        f"choose from {', '.join(library.localizations)}, or add a "
                        f"localization for {language} to the library template",
                    )
                )
        self.problems += problems
        if problems:
            return []
        made = self.renderings.render(
            self.renderer, library, given, languages, customer=cid, doc=doc, entry=path
        )
        return made or []


def printable(name: str) -> str:
    """A file name as shown in messages: a line break or control character in it is
    written as an escape, so that it cannot start a line of output (a CI log reads a
    line starting with `::` as a command). Such a name is never a valid id or name."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _duplicate(doc: YamlDoc, path: str, template: Template, first: _Declared) -> Problem:
    via = f" (from library template {template.library!r})" if template.library else ""
    return doc.problem(
        path,
        f"the template {template.name!r} in language {template.language!r}{via} is declared "
        f"twice in this customer: also at {first.where} ({first.key})",
        "a template is identified by its name and language: remove one, or rename it",
        rule="TPL-NAME-UNIQUE",
    )


def _param_problem(
    doc: YamlDoc, path: str, cid: str, library: Library, key: str, param: str, kind: str
) -> Problem:
    head = f"customer {cid!r}, template {library.name!r}: "
    if kind == "missing":
        return doc.problem(
            join(path, key),
            head + f"the param {param!r} is missing",
            f"add it under `with:`, for example `with: {{{param}: ...}}`",
        )
    if kind == "unknown":
        close = difflib.get_close_matches(param, library.params, n=1)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        declared = ", ".join(library.params) or "none"
        return doc.problem(
            join(path, key),
            head + f"{param!r} is not a param of the template",
            f"{hint}The params of templates/{library.name}.yaml are: {declared}",
        )
    return doc.problem(
        join(path, key),
        head + f"the value of {param!r} is too long",
        "keep param values under 1000 characters",
    )


def _available(files: Mapping[str, str]) -> str:
    if not files:
        return "there are no library templates: add templates/<name>.yaml, or write it inline"
    return f"the library templates are: {', '.join(files)}"
