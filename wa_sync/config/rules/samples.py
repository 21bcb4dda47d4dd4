"""The sample-value rules (whatsapp-rules.md §1 "Variables"): every placeholder has a
realistic sample, and the samples fit WhatsApp's and Twilio's limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from wa_sync.config.lint import rule
from wa_sync.config.rules._common import WARNING, beyond, features, problem
from wa_sync.config.rules.variables import VERDICTS, is_auth, well_formed
from wa_sync.errors import Problem
from wa_sync.model import Config

TW_COUNT_MAX = 100
# VAR-TW-VALUE (B): 1600 in Twilio's current docs, 255 in the older page
VALUE_MAX_STRICTEST, VALUE_MAX_LENIENT = 255, 1600
SPECIAL = re.compile(r"[#$%]")
BAD_WHITESPACE = re.compile(r"[\r\n\t]| {5,}")
# what VAR-SAMPLE-WS and VAR-SPECIAL look for in a sample that has a non-space character
_SUSPECT_SAMPLE = re.compile(r"[\r\n\t#$%]| {5,}")


@lru_cache(maxsize=VERDICTS)
def _sample_gaps(
    keys: tuple[str, ...], sample_keys: tuple[str, ...], auth: bool
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The variables without a sample, and (but in authentication templates, whose
    code sample has no placeholder) the samples without a variable, in their order."""
    used = {key for key in keys if well_formed(key)}
    unused = () if auth else tuple(key for key in sample_keys if key not in used)
    return frozenset(used.difference(sample_keys)), unused


@rule("VAR-SAMPLE")
def samples(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        unsampled, unused = _sample_gaps(f.keys, f.sample_keys, is_auth(t))
        if not (unsampled or unused):
            continue
        first_use: dict[str, str] = {}
        for rel, key in f.usages:
            first_use.setdefault(key, rel)
        for key, rel in first_use.items():
            if key in unsampled:
                yield problem(
                    t,
                    rel,
                    "VAR-SAMPLE",
                    f"variable {{{{{key}}}}} has no sample value; WhatsApp needs one for every "
                    "variable to review the template",
                    f"add variables: {{{key!r}: <a realistic example>}}",
                )
        for key in unused:
            yield problem(
                t,
                f"variables.{key}",
                "VAR-SAMPLE",
                f"sample {key!r} is for a variable the template does not use",
                "remove the sample or use the variable in the text",
                WARNING,
            )


@rule("VAR-SAMPLE-WS", "VAR-SPECIAL")
def sample_values(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for key, value in f.samples.items():
            text = value if isinstance(value, str) else str(value)
            if text.strip() and not _SUSPECT_SAMPLE.search(text):
                continue  # the usual sample: one search instead of three
            rel = f"variables.{key}"
            if not text.strip():
                yield problem(
                    t,
                    rel,
                    "VAR-SAMPLE-WS",
                    f"sample {key!r} is empty; WhatsApp rejects empty values (Twilio error 63013)",
                    "give a realistic example value",
                )
            elif BAD_WHITESPACE.search(text):
                yield problem(
                    t,
                    rel,
                    "VAR-SAMPLE-WS",
                    f"sample {key!r} contains a newline, tab or 5+ spaces in a row, which "
                    "WhatsApp rejects in variables (Twilio error 63013)",
                    "use one line with single spaces",
                )
            special = SPECIAL.findall(text)
            if special:
                special = sorted(set(special))
                yield problem(
                    t,
                    rel,
                    "VAR-SPECIAL",
                    f"sample {key!r} contains {' '.join(special)}; special characters "
                    "#, $ and % in parameters get templates rejected",
                    "use a value without #, $ or % (e.g. 'USD 25' for '$25')",
                )


@rule("VAR-TW-VALUE")
def value_length(config: Config) -> Iterator[Problem]:
    for f in features(config):
        t = f.template
        for key, value in f.samples.items():
            text = value if isinstance(value, str) else str(value)
            if len(text) <= VALUE_MAX_STRICTEST:
                continue  # within both limits
            found = beyond(
                len(text),
                strictest=VALUE_MAX_STRICTEST,
                lenient=VALUE_MAX_LENIENT,
                what=f"sample {key!r}",
            )
            if found:
                severity, message = found
                yield problem(
                    t,
                    f"variables.{key}",
                    "VAR-TW-VALUE",
                    message,
                    f"keep variable values to {VALUE_MAX_STRICTEST} characters",
                    severity,
                )


@rule("VAR-TW-COUNT")
def variable_count(config: Config) -> Iterator[Problem]:
    for f in features(config):
        if len(f.keys) + len(f.sample_keys) <= TW_COUNT_MAX:
            continue  # not even with every key different
        t = f.template
        keys = {k for _, k in f.usages if k} | set(f.samples)
        if len(keys) > TW_COUNT_MAX:
            yield problem(
                t,
                "variables",
                "VAR-TW-COUNT",
                f"the template has {len(keys)} variables; Twilio allows at most {TW_COUNT_MAX}",
                "use fewer variables",
            )
