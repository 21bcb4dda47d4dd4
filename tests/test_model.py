from types import MappingProxyType

import pytest

from wa_sync.model import ApprovalStatus, LiveAccount, LiveContent, freeze, thaw


def test_freeze_makes_deep_read_only_copies_and_thaw_restores_json():
    frozen = freeze({"a": [1, {"b": 2}]})
    assert isinstance(frozen, MappingProxyType)
    assert frozen["a"] == (1, MappingProxyType({"b": 2}))
    with pytest.raises(TypeError):
        frozen["a"] = 1  # type: ignore[index]
    assert thaw(frozen) == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize(
    ("friendly_name", "expected"),
    [
        ("reminder", ("reminder", 1)),
        ("reminder_v2", ("reminder", 2)),
        ("reminder_v10", ("reminder", 10)),
        ("reminder_v1", ("reminder_v1", 1)),
        ("reminder_v02", ("reminder_v02", 1)),
    ],
    ids=["plain", "v2", "v10", "v1-is-a-name", "leading-zero-is-a-name"],
)
def test_content_version_comes_from_the_v_suffix(friendly_name, expected):
    content = LiveContent(sid="HX1", friendly_name=friendly_name, language="en", types={})
    assert content.base_name_and_version == expected


def test_account_customer_id_comes_from_the_wa_sync_friendly_name():
    assert LiveAccount(sid="AC1", friendly_name="wa-sync:acme").customer_id == "acme"
    assert LiveAccount(sid="AC1", friendly_name="Acme").customer_id is None


def test_submitted_content_is_locked():
    assert not ApprovalStatus.UNSUBMITTED.locked
    assert ApprovalStatus.APPROVED.locked
    assert ApprovalStatus.RECEIVED.in_review


def test_versions_of_a_template_are_its_name_and_v_suffixes_in_one_language_oldest_first():
    from wa_sync.model import LiveCustomer

    def content(sid, name, language="en"):
        return LiveContent(sid=sid, friendly_name=name, language=language, types={})

    live = LiveCustomer(
        customer_id="acme",
        contents=(
            content("HX3", "promo_v3"),
            content("HX1", "promo"),
            content("HX2", "promo_v2"),
            content("HX4", "promo", "es"),
            content("HX5", "promotion"),
        ),
    )
    assert [c.sid for c in live.versions("promo", "en")] == ["HX1", "HX2", "HX3"]
    assert [c.sid for c in live.versions("promo", "es")] == ["HX4"]
    assert live.versions("other", "en") == ()
