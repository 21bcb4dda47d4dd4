"""A submitted template whose category in WhatsApp differs from the declared one
(SPEC §4.8, issue #19.5). wa-sync cannot tell who changed which side: Meta re-categorises
approved templates (its `template_category_update`), and a person may edit `category:`
in the file. The plan names both categories, what a message costs in each, and both
ways out, and never makes a new version for a category alone (a resubmission of the same
wording would only be categorised as before, notes/tech-provider.md): declaring the
category WhatsApp holds accepts it; keeping the declared one takes a template of a new
name (an approved template's category cannot be edited, whatsapp-rules.md LC-EDIT-CAT),
which a change of wording makes (`<name>_v<N+1>`, plan/templates.py).
`settings.on_category_change: fail` makes `plan` exit 1 on one."""

from __future__ import annotations

from collections.abc import Callable

from wa_sync.model import ApprovalStatus, LiveContent, Template

# What a message costs in each category, per Twilio's per-message pricing since 2025-07-01
# (notes/tech-provider.md "Templates after approval").
PRICING = {
    "MARKETING": "charged for every delivered message",
    "UTILITY": "charged only outside the 24-hour customer service window",
    "AUTHENTICATION": "charged for every delivered message, at authentication rates",
}


def category_redeclared(template: Template, content: LiveContent) -> bool:
    """The rejected `content` was submitted under another category than the declared
    one: only the configuration changed it (the fix of an INCORRECT_CATEGORY rejection,
    say), since Meta re-categorises templates it approves, not those it rejects."""
    live = content.approval_category.upper()
    if content.approval_status is not ApprovalStatus.REJECTED:
        return False
    return bool(live) and live != template.category.upper()


def _price(category: str) -> str:
    return PRICING.get(category, "priced as " + category)


def recategorised(template: Template, content: LiveContent, next_name: Callable[[], str]) -> str:
    """What to say when the submitted `content` of `template` has a category other than
    the declared one ("" when it has not); `next_name()` is the version a change of
    wording would create (worked out only for a note: every template is asked)."""
    live, declared = content.approval_category.upper(), template.category.upper()
    if not (content.approval_status.locked and live and live != declared):
        return ""
    if category_redeclared(template, content):  # the configuration's change: no note
        return ""
    name, next_version = content.friendly_name, next_name()
    costs = (
        f"{live} messages are {_price(live)}, {declared} ones are {_price(declared)}. "
        "No new version is made for a category alone"
    )
    if content.approval_status.in_review:
        # Meta decides the category as it approves (whatsapp-rules.md TPL-CAT-MIXED)
        return (
            f"{name} is in WhatsApp review as {live}, and the file declares {declared}: "
            f"{costs}. To keep {live}, declare `category: {live}`; for {declared}, as a "
            f"template in review cannot be changed, change the template's wording: "
            f"{next_version} is then created and submitted as {declared}"
        )
    return (
        f"{name} is {live} in WhatsApp, and the file declares {declared}: {costs}. "
        f"If Meta re-categorised {name}, declare `category: {live}` to accept it; if "
        f"{declared} is the one intended, as the category of an approved template cannot "
        f"be edited in WhatsApp, change the template's wording: {next_version} is then "
        f"created and submitted as {declared}, and {name} stays in service until "
        f"{next_version} is approved"
    )
