"""Sync Services and Documents, as the apply lock uses them (docs/reliability.md)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from twilio.base.exceptions import TwilioRestException

from wa_sync.emulator import Emulator


@pytest.fixture
def documents(parent):
    service = parent.sync.v1.services.create(friendly_name="wa-sync")
    return parent.sync.v1.services(service.sid).documents


def refusal(call) -> tuple[int, int]:
    with pytest.raises(TwilioRestException) as caught:
        call()
    return caught.value.status, caught.value.code


def test_one_unique_name_is_created_once_even_by_racing_clients(emu: Emulator, documents):
    def create(n: int) -> str:
        try:
            return documents.create(unique_name="lock", data={"n": n}, ttl=60).sid
        except TwilioRestException as exc:
            return f"{exc.status} {exc.code}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(create, range(16)))
    made = [a for a in answers if a.startswith("ET")]
    assert len(made) == 1
    assert sorted(set(answers) - set(made)) == ["409 54301"]
    assert [d.unique_name for d in documents.list()] == ["lock"]


def test_an_update_at_another_revision_is_refused(documents):
    made = documents.create(unique_name="lock", data={"a": 1}, ttl=60)
    assert made.revision == "0"
    renewed = documents("lock").update(data={"a": 2}, ttl=60, if_match="0")
    assert renewed.revision == "1"
    assert renewed.data == {"a": 2}
    assert refusal(lambda: documents("lock").update(ttl=60, if_match="0")) == (412, 54103)
    assert documents(made.sid).fetch().revision == "1"  # by SID as by unique name


def test_a_document_is_gone_once_its_ttl_has_passed_on_the_emulated_clock(emu, documents):
    documents.create(unique_name="lock", data={}, ttl=60)
    documents.create(unique_name="kept", data={})  # Ttl 0: never expires
    assert documents("lock").fetch().date_expires is not None
    # the emulated clock is the real one plus what was advanced: 10 s of margin for a
    # busy machine (59 s left 1 s, and the test failed under a loaded `make test`)
    emu.advance_clock(50)
    assert documents("lock").fetch()
    emu.advance_clock(11)
    assert refusal(lambda: documents("lock").fetch()) == (404, 54100)
    assert [d.unique_name for d in documents.list()] == ["kept"]
    assert documents.create(unique_name="lock", data={}, ttl=60).revision == "0"


def test_deleted_then_created_again(documents):
    documents.create(unique_name="lock", data={}, ttl=60)
    documents("lock").delete()
    assert refusal(lambda: documents("lock").delete()) == (404, 54100)
    assert documents.create(unique_name="lock", data={}, ttl=60)


@pytest.mark.parametrize(
    ("data", "ttl"),
    [("[1, 2]", 60), ("not json", 60), ("{}", -1), ("{}", 31_536_001)],
    ids=["not-an-object", "not-json", "negative-ttl", "ttl-over-a-year"],
)
def test_bad_data_or_ttl_is_400(documents, data, ttl):
    call = lambda: documents.create(unique_name="lock", data=data, ttl=ttl)  # noqa: E731
    assert refusal(call)[0] == 400


def test_services_and_documents_belong_to_their_account(parent, sub, documents):
    assert [s.friendly_name for s in parent.sync.v1.services.list()] == ["wa-sync"]
    assert sub.sync.v1.services.list() == []
    service_sid = parent.sync.v1.services.list()[0].sid
    call = lambda: sub.sync.v1.services(service_sid).documents.create(unique_name="x")  # noqa: E731
    assert refusal(call) == (404, 20404)
