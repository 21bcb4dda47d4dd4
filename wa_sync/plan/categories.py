"""Meta re-categorises approved templates (its `template_category_update`; SPEC §4.8,
issue #19.5). The plan reports the change, old and new category and what it means for
the price of each message, and never makes a new version for it: a resubmission would
only be re-categorised again (notes/tech-provider.md). Declaring the new category
accepts it; `settings.on_category_change: fail` makes `plan` exit 1 on one."""

from __future__ import annotations

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


def recategorised(template: Template, content: LiveContent) -> str:
    """What to say when the submitted `content` of `template` has a category other than
    the declared one ("" when it has not)."""
    live, declared = content.approval_category.upper(), template.category.upper()
    if not (content.approval_status.locked and live and live != declared):
        return ""
    if category_redeclared(template, content):  # the configuration's change: no note
        return ""
    return (
        f"category changed from {declared} to {live}: {content.friendly_name} is {live} in "
        f"WhatsApp (Meta re-categorises approved templates); messages are now "
        f"{PRICING.get(live, 'priced as ' + live)}, where {declared} is "
        f"{PRICING.get(declared, 'priced as ' + declared)}. No new version is made for it "
        f"(a resubmission would be re-categorised again): declare `category: {live}` to "
        "accept it"
    )
