"""Content API: create, list, fetch, delete, approval lifecycle and WhatsApp's naming rules."""

from __future__ import annotations

import re

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.emulator.helpers import assert_error, make_content, raw, submit

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_create_returns_201_with_links_and_iso_dates(emu, sub):
    content = make_content(sub, "hello")
    response = raw(emu.url, "GET", f"/v1/Content/{content.sid}", sub.auth)
    body = response.json()
    assert ISO.match(body["date_created"])
    assert ISO.match(body["date_updated"])
    assert body["url"] == f"{emu.url}/v1/Content/{content.sid}"
    assert body["links"]["approval_create"].endswith("/ApprovalRequests/whatsapp")
    assert body["types"] == {"twilio/text": {"body": "Hi {{1}}, see you soon."}}
    assert content.date_created is not None
    assert content.date_created.tzinfo is not None
    assert [e["status"] for e in emu.request_log() if e["method"] == "POST"][-1] == 201


def test_sdk_pages_through_contents_and_content_and_approvals(emu, sub):
    made = [make_content(sub, f"t{n}").sid for n in range(7)]
    emu.clear_request_log()
    assert [c.sid for c in sub.content.v1.contents.list(page_size=3)] == made
    assert [c.sid for c in sub.content.v1.content_and_approvals.list(page_size=2)] == made
    assert emu.request_counts() == {"GET /v1/Content": 3, "GET /v1/ContentAndApprovals": 4}
    meta = raw(emu.url, "GET", "/v1/Content", sub.auth, params={"PageSize": 3}).json()["meta"]
    assert meta["key"] == "contents"
    assert meta["next_page_url"].startswith(f"{emu.url}/v1/Content?")
    assert meta["previous_page_url"] is None
    last = raw(emu.url, "GET", meta["next_page_url"].replace(emu.url, ""), sub.auth).json()
    assert last["meta"]["page"] == 1
    assert last["meta"]["previous_page_url"] is not None


def test_a_first_page_that_holds_everything_has_no_next_page(emu, sub):
    made = [make_content(sub, f"t{n}").sid for n in range(3)]
    full = raw(emu.url, "GET", "/v1/ContentAndApprovals", sub.auth, params={"PageSize": 3})
    assert [c["sid"] for c in full.json()["contents"]] == made
    assert full.json()["meta"]["next_page_url"] is None
    short = raw(emu.url, "GET", "/v1/ContentAndApprovals", sub.auth, params={"PageSize": 2})
    assert [c["sid"] for c in short.json()["contents"]] == made[:2]
    assert short.json()["meta"]["next_page_url"] is not None


def test_delete_is_204_and_then_404(emu, sub):
    content = make_content(sub, "short_lived")
    assert sub.content.v1.contents(content.sid).delete() is True
    assert raw(emu.url, "DELETE", f"/v1/Content/{content.sid}", sub.auth).status_code == 404
    assert emu.state()["contents"][sub.account_sid] == []


def test_approval_lifecycle_by_command(emu, sub):
    content = make_content(sub, "reminder")
    item = sub.content.v1.content_and_approvals.list()[0]
    assert item.approval_requests["status"] == "unsubmitted"
    created = submit(sub, content.sid, "reminder")
    assert (created.status, created.name, created.category) == ("received", "reminder", "UTILITY")
    assert created.content_type == "twilio/text"
    emu.reject(content.sid, reason="INVALID_FORMAT: variable at the edge")
    fetched = sub.content.v1.contents(content.sid).approval_fetch().fetch()
    assert fetched.whatsapp["status"] == "rejected"
    assert fetched.whatsapp["rejection_reason"] == "INVALID_FORMAT: variable at the edge"
    emu.approve(content.sid)
    (item,) = sub.content.v1.content_and_approvals.list()
    assert item.approval_requests == {
        "name": "reminder", "category": "UTILITY", "content_type": "twilio/text",
        "status": "approved", "rejection_reason": "", "allow_category_change": True,
    }  # fmt: skip
    approval = emu.state()["contents"][sub.account_sid][0]["approval"]
    assert approval["status"] == "approved"
    assert approval["name"] == "reminder"


def test_approval_after_a_delay_on_the_emulated_clock(make_emulator, client_for):
    emu = make_emulator(approve_after=3600)
    client = client_for(emu.parent_sid, emu.parent_token, on=emu)
    content = make_content(client, "later")
    submit(client, content.sid, "later")
    approvals = client.content.v1.contents(content.sid).approval_fetch()
    emu.advance_clock(3599)
    assert approvals.fetch().whatsapp["status"] == "received"
    emu.advance_clock(1)
    assert approvals.fetch().whatsapp["status"] == "approved"


def test_submitted_content_cannot_change_or_be_resubmitted_92009(emu, sub):
    content = make_content(sub, "locked")
    submit(sub, content.sid, "locked")
    with pytest.raises(TwilioRestException) as caught:
        submit(sub, content.sid, "locked")
    assert (caught.value.status, caught.value.code) == (400, 92009)
    emu.reject(content.sid)
    with pytest.raises(TwilioRestException) as caught:
        submit(sub, content.sid, "locked")
    assert caught.value.code == 92009
    body = {"types": {"twilio/text": {"body": "changed"}}}
    response = raw(emu.url, "PUT", f"/v1/Content/{content.sid}", sub.auth, json=body)
    assert "already been submitted" in assert_error(response, 400, 92009)["message"]


def test_unsubmitted_content_may_be_updated(emu, sub):
    content = make_content(sub, "draft")
    body = {"types": {"twilio/text": {"body": "Changed {{1}}"}}}
    response = raw(emu.url, "PUT", f"/v1/Content/{content.sid}", sub.auth, json=body)
    assert response.status_code == 200
    assert response.json()["types"] == body["types"]


def test_name_and_language_are_unique_per_account(emu, sub, parent):
    first = make_content(sub, "greeting", "en")
    make_content(sub, "greeting", "es")  # another language is another template
    make_content(parent, "greeting", "en")  # another account is another WABA
    with pytest.raises(TwilioRestException) as caught:
        make_content(sub, "greeting", "en")
    assert (caught.value.status, caught.value.code) == (409, 20409)
    # a submission under a name another content holds in that language is refused too
    other = make_content(sub, "greeting_v2", "en")
    with pytest.raises(TwilioRestException) as caught:
        submit(sub, other.sid, "greeting")
    assert caught.value.status == 409
    submit(sub, first.sid, "greeting")
    assert submit(sub, other.sid, "greeting_v2").status == "received"


def test_deleted_approved_name_is_blocked_for_30_days(emu, sub):
    content = make_content(sub, "promo", "en")
    submit(sub, content.sid, "promo", "MARKETING")
    emu.approve(content.sid)
    sub.content.v1.contents(content.sid).delete()
    # WhatsApp's rule, on the name submitted: Twilio's content is made as any other
    for language in ("en", "es"):
        again = make_content(sub, "promo", language)
        with pytest.raises(TwilioRestException) as caught:
            submit(sub, again.sid, "promo")
        assert (caught.value.status, caught.value.code) == (409, 20409)
        assert "30 days" in caught.value.msg
    renamed = make_content(sub, "promo_new", "es")
    with pytest.raises(TwilioRestException):
        submit(sub, renamed.sid, "promo")
    emu.advance_clock(30 * 86400 + 1)
    assert submit(sub, again.sid, "promo").status == "received"


def test_a_deleted_rejected_name_is_free_at_once(emu, sub):
    content = make_content(sub, "oops")
    submit(sub, content.sid, "oops")
    emu.reject(content.sid)
    sub.content.v1.contents(content.sid).delete()
    assert make_content(sub, "oops").friendly_name == "oops"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"types": {"twilio/text": {"body": "x"}}}, "language"),
        ({"language": "en"}, "types"),
        ({"language": "en", "types": {"twilio/unknown": {}}}, "Unknown content type"),
        ({"language": "en", "types": {"twilio/text": {}}}, "missing body"),
        ({"language": "en", "types": {"twilio/text": {"body": "x"}}, "extra": 1}, "Unknown"),
        ({"language": "en", "types": {"twilio/text": {"body": "x"}}, "variables": {"1": 2}},
         "variables"),
    ],
)  # fmt: skip
def test_invalid_content_is_400(emu, sub, body, fragment):
    response = raw(emu.url, "POST", "/v1/Content", sub.auth, json=body)
    assert fragment in assert_error(response, 400, 20001)["message"]


@pytest.mark.parametrize(
    "body",
    [{"name": "Bad Name", "category": "UTILITY"}, {"name": "ok", "category": "TRANSACTIONAL"},
     {"name": "ok\n", "category": "UTILITY"},  # `$` let the final newline through
     {"category": "UTILITY"}, {"name": "ok", "category": "UTILITY", "allow_category_change": True}],
)  # fmt: skip
def test_invalid_submission_is_400(emu, sub, body):
    content = make_content(sub, "ok")
    path = f"/v1/Content/{content.sid}/ApprovalRequests/whatsapp"
    assert_error(raw(emu.url, "POST", path, sub.auth, json=body), 400, 20001)


def test_form_bodies_are_refused_on_the_content_api(emu, sub):
    response = raw(
        emu.url, "POST", "/v1/Content", sub.auth, data={"language": "en", "types": "twilio/text"}
    )
    assert_error(response, 400, 20001)
