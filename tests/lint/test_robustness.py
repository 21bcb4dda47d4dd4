"""The lint never raises, whatever shapes the model holds: schema validation runs first,
but a rule must not turn a missed schema case into a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lint import corpus
from tests.lint.helpers import config, sender, template
from wa_sync.config.lint import RULE_IDS, lint_config

TYPE_NAMES = st.sampled_from(corpus.TYPE_NAMES)
TEXT = st.text(alphabet=st.sampled_from("ab1{}/:.#$% \n\t🦷®_-"), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "body",
                    "title",
                    "actions",
                    "type",
                    "url",
                    "phone",
                    "media",
                    "header_text",
                    "footer",
                    "subtitle",
                    "code",
                    "copy_code_text",
                    "code_expiration_minutes",
                    "id",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    types=st.dictionaries(TYPE_NAMES, JSON, max_size=3),
    variables=st.dictionaries(TEXT, SCALARS, max_size=4),
    category=st.sampled_from(["UTILITY", "MARKETING", "AUTHENTICATION", "x", ""]),
    language=TEXT,
    name=TEXT,
    display_name=TEXT,
    profile=st.dictionaries(
        st.sampled_from(["about", "description", "address", "emails", "websites", "vertical"]),
        JSON,
        max_size=6,
    ),
    phone=TEXT,
)
def test_lint_never_raises(
    types, variables, category, language, name, display_name, profile, phone
):
    cfg = config(
        templates=(
            template(
                types=types, variables=variables, category=category, language=language, name=name
            ),
        ),
        senders=(sender(display_name=display_name, profile=profile, phone_number=phone),),
    )
    for problem in lint_config(cfg):
        assert problem.rule in RULE_IDS
        assert problem.message
