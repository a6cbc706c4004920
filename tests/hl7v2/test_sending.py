"""Delivery of the outbox's SIU messages to a real MLLP peer (tests/hl7v2/peer.py): what each
answer of the peer leaves on the row, what is never sent twice, and each case's order."""

import json
import os
from datetime import date, timedelta
from itertools import count

import pytest
from django.db import connection
from django.utils import timezone

from hl7v2.mllp_client import ack_read
from hl7v2.models import OutboundMessage, OutboundStatus
from hl7v2.sending import (
    BACKOFF,
    STALE_SENDING,
    hl7_dispatch,
    hl7_dispatch_soon,
    hl7_messages_resend,
    hl7_messages_withdraw,
    hl7_sweep,
)
from tests.conftest import REDIS_SERVER, project_broker_forget
from tests.hl7v2.peer import DROP, Peer, case_untold, free_port, siu_body
from tests.threads import run_together

pytestmark = pytest.mark.postgres

ENDPOINT = "engine"
_control_ids = count(1)


@pytest.fixture
def peer(settings):
    peer = Peer().start()
    settings.HL7_ENDPOINTS = {ENDPOINT: peer.address}
    yield peer
    peer.stop()


@pytest.fixture
def case(unit, front_desk):
    return case_untold(site=unit, by=front_desk.user)


def message_written(case, *, sequence: int = 1, trigger: str = "S12", endpoint: str = ENDPOINT,
                    due_at=None) -> OutboundMessage:
    """An outbox row as the booking services write it, with a small valid SIU body."""
    control_id = f"T{next(_control_ids):06d}"
    return OutboundMessage.objects.create(
        case=case, site=case.site, endpoint=endpoint, trigger=trigger, sequence=sequence,
        control_id=control_id, body=siu_body(control_id=control_id, trigger=trigger),
        due_at=due_at or timezone.now(),
    )


def reread(message: OutboundMessage) -> OutboundMessage:
    message.refresh_from_db()
    return message


def test_a_message_the_peer_accepts_is_sent_once_with_the_ack_recorded(peer, case):
    message = message_written(case)

    outcomes = hl7_dispatch()

    assert outcomes == {message.pk: OutboundStatus.SENT}
    assert peer.control_ids() == [message.control_id]
    assert peer.received[0].text.replace("\n", "\r").rstrip("\r") == message.body.rstrip("\r")
    message = reread(message)
    assert message.status == OutboundStatus.SENT
    assert message.ack_code == "AA"
    assert message.acked_at is not None
    assert message.peer_called_at is not None
    assert message.attempts == 1
    assert hl7_dispatch() == {}
    assert peer.control_ids() == [message.control_id]


@pytest.mark.parametrize("code", ["AE", "AR"])
def test_a_message_the_peer_refuses_fails_with_its_words_and_is_not_sent_again(
    peer, case, clock, code
):
    message = message_written(case)
    peer.answers[message.control_id] = (code, "Unknown location ROOM-1")

    assert hl7_dispatch() == {message.pk: OutboundStatus.FAILED}
    clock.shift(timedelta(days=1))
    assert hl7_dispatch() == {}

    message = reread(message)
    assert message.status == OutboundStatus.FAILED
    assert message.ack_code == code
    assert message.ack_text == "Unknown location ROOM-1"
    assert peer.control_ids() == [message.control_id]


def test_a_peer_that_is_down_gets_the_message_later_after_a_growing_backoff(
    settings, case, clock
):
    port = free_port()
    settings.HL7_ENDPOINTS = {ENDPOINT: f"127.0.0.1:{port}"}
    message = message_written(case)
    written_at = timezone.now()

    assert hl7_dispatch() == {message.pk: OutboundStatus.PLANNED}
    message = reread(message)
    assert (message.attempts, message.due_at) == (1, written_at + BACKOFF)
    assert message.peer_called_at is None
    assert "No connection" in message.error
    assert hl7_dispatch() == {}, "sent again before its backoff ran out"

    clock.shift(BACKOFF)
    assert hl7_dispatch() == {message.pk: OutboundStatus.PLANNED}
    assert reread(message).due_at == written_at + BACKOFF + 2 * BACKOFF

    peer = Peer(port=port).start()
    try:
        clock.shift(2 * BACKOFF)
        assert hl7_dispatch() == {message.pk: OutboundStatus.SENT}
        assert peer.control_ids() == [message.control_id]
    finally:
        peer.stop()
    assert reread(message).attempts == 3


def test_an_endpoint_no_longer_configured_keeps_its_messages_waiting(peer, case):
    message = message_written(case, endpoint="retired")

    assert hl7_dispatch() == {message.pk: OutboundStatus.PLANNED}
    assert "not configured" in reread(message).error
    assert peer.control_ids() == []


def test_a_connection_dropped_after_the_message_went_leaves_it_unknown_never_resent(
    peer, case, clock
):
    message = message_written(case)
    peer.answers[message.control_id] = DROP

    assert hl7_dispatch() == {message.pk: OutboundStatus.UNKNOWN}
    clock.shift(timedelta(days=1))
    assert hl7_dispatch() == {}
    hl7_sweep(now=timezone.now() + timedelta(days=1))
    assert hl7_dispatch() == {}

    assert reread(message).status == OutboundStatus.UNKNOWN
    assert peer.control_ids() == [message.control_id]


def test_a_case_s_messages_go_one_batch_after_another_in_their_order(peer, case, unit,
                                                                       front_desk):
    # Written out of order, all due at once: the later one still waits for the earlier.
    later = message_written(case, sequence=2, trigger="S13")
    earlier = message_written(case, sequence=1)
    other_case = message_written(case_untold(site=unit, by=front_desk.user))

    assert hl7_dispatch() == {earlier.pk: OutboundStatus.SENT, other_case.pk: OutboundStatus.SENT}
    assert hl7_dispatch() == {later.pk: OutboundStatus.SENT}

    assert peer.control_ids()[-1] == later.control_id
    assert peer.control_ids().index(earlier.control_id) < peer.control_ids().index(
        later.control_id)


@pytest.mark.parametrize("answer", [("AE", "Unknown slot"), DROP], ids=["failed", "unknown"])
def test_a_later_message_waits_while_an_earlier_one_is_failed_or_unknown_until_an_admin_acts(
    peer, case, clock, answer
):
    first = message_written(case, sequence=1)
    second = message_written(case, sequence=2, trigger="S14")
    peer.answers[first.control_id] = answer

    hl7_dispatch()
    for _ in range(3):
        clock.shift(timedelta(hours=1))
        assert hl7_dispatch() == {}
    assert peer.control_ids() == [first.control_id]
    assert reread(second).status == OutboundStatus.PLANNED

    del peer.answers[first.control_id]
    assert [m.pk for m in hl7_messages_resend(messages=[first, second])] == [first.pk]
    assert reread(first).attempts == 1, "a resend keeps the attempts so far"
    assert hl7_dispatch() == {first.pk: OutboundStatus.SENT}
    assert hl7_dispatch() == {second.pk: OutboundStatus.SENT}
    assert peer.control_ids() == [first.control_id, first.control_id, second.control_id]


def test_a_withdrawn_earlier_message_lets_the_later_ones_go_without_it(peer, case):
    first = message_written(case, sequence=1)
    second = message_written(case, sequence=2, trigger="S15")
    peer.answers[first.control_id] = ("AR", "Duplicate appointment")
    hl7_dispatch()

    assert [m.pk for m in hl7_messages_withdraw(messages=[first])] == [first.pk]
    assert hl7_dispatch() == {second.pk: OutboundStatus.SENT}

    assert reread(first).status == OutboundStatus.WITHDRAWN
    assert peer.control_ids() == [first.control_id, second.control_id]


def test_neither_a_resend_nor_a_withdrawal_moves_a_message_being_sent_or_sent(peer, case):
    sent = message_written(case, sequence=1)
    hl7_dispatch()
    sending = message_written(case, sequence=2)
    OutboundMessage.objects.filter(pk=sending.pk).update(
        status=OutboundStatus.SENDING, claimed_at=timezone.now(),
        peer_called_at=timezone.now(),
    )

    assert hl7_messages_resend(messages=[sent, sending]) == []
    assert hl7_messages_withdraw(messages=[sent, sending]) == []
    assert reread(sent).status == OutboundStatus.SENT
    assert reread(sending).status == OutboundStatus.SENDING


def test_the_sweeper_marks_a_dead_sender_s_message_unknown_or_gives_it_back(case):
    now = timezone.now()
    with_peer = message_written(case, sequence=1)
    not_yet = message_written(case, sequence=2)
    recent = message_written(case, sequence=3)
    long_ago = now - STALE_SENDING - timedelta(seconds=1)
    OutboundMessage.objects.filter(pk=with_peer.pk).update(
        status=OutboundStatus.SENDING, claimed_at=long_ago, peer_called_at=long_ago)
    OutboundMessage.objects.filter(pk=not_yet.pk).update(
        status=OutboundStatus.SENDING, claimed_at=long_ago)
    OutboundMessage.objects.filter(pk=recent.pk).update(
        status=OutboundStatus.SENDING, claimed_at=now, peer_called_at=now)

    assert hl7_sweep(now=now) == {"unknown": 1, "requeued": 1}

    assert reread(with_peer).status == OutboundStatus.UNKNOWN
    assert reread(not_yet).status == OutboundStatus.PLANNED
    assert reread(recent).status == OutboundStatus.SENDING


def test_an_answer_to_another_message_is_not_taken_for_this_one(peer, case):
    message = message_written(case)
    peer.answers[message.control_id] = ("AA", "", "SOMEONE-ELSE")

    assert hl7_dispatch() == {message.pk: OutboundStatus.UNKNOWN}
    assert "another message" in reread(message).error


def test_the_ack_reader_takes_the_code_the_control_id_and_the_text():
    ack = ack_read("MSH|^~\\&|ENGINE|HOSPITAL|VERTEBRO|SPINE_UNIT|20260303||ACK^S12^ACK|A1|P|"
                   "2.5.1\rMSA|AE|T000001|Patient not found\r")
    assert (ack.code, ack.control_id, ack.text) == ("AE", "T000001", "Patient not found")


@pytest.mark.django_db(transaction=True)
def test_dispatchers_running_at_once_never_send_a_message_twice_and_keep_each_case_s_order(
    peer, unit, front_desk
):
    days = [date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]
    cases = [case_untold(site=unit, by=front_desk.user, day=day) for day in days * 2]
    messages = [
        message_written(case, sequence=sequence, trigger="S14")
        for sequence in range(1, 6) for case in cases
    ]
    peer.delay = 0.002

    def dispatcher() -> int:
        claimed = 0
        while outcomes := hl7_dispatch(limit=3):
            claimed += len(outcomes)
        return claimed

    results = run_together([dispatcher] * 4)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(results) == len(messages)
    received = peer.control_ids()
    assert sorted(received) == sorted(m.control_id for m in messages), "a message went twice"
    for case in cases:
        order = [m.control_id for m in sorted(
            (m for m in messages if m.case_id == case.pk), key=lambda m: m.sequence)]
        assert [cid for cid in received if cid in order] == order
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}
    assert sum(1 for r in results if r) > 1, "only one dispatcher did the work"
    connection.close()


@pytest.fixture
def broker(monkeypatch, settings):
    """The Redis of CELERY_BROKER_URL (as .ci/run sets it), its database emptied."""
    import redis

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        if os.environ.get("VERTEBRO_REQUIRE_SERVICES"):
            pytest.fail("VERTEBRO_REQUIRE_SERVICES is set but CELERY_BROKER_URL is not Redis")
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    settings.CELERY_BROKER_URL = url
    project_broker_forget()
    client = redis.Redis.from_url(url, socket_timeout=5)
    client.flushdb()
    yield client
    project_broker_forget()


@REDIS_SERVER
def test_a_dispatch_is_asked_for_once_the_outbox_rows_are_committed(
    broker, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as rolled_back:
        hl7_dispatch_soon()
    assert broker.llen("celery") == 0, "asked for before the commit"

    with django_capture_on_commit_callbacks(execute=True):
        message_written(case)
        hl7_dispatch_soon()

    assert len(rolled_back) == 1
    queued = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    assert [entry["headers"]["task"] for entry in queued] == ["hl7v2.tasks.hl7_dispatch_due"]


def test_after_a_message_left_unknown_the_rest_of_the_batch_waits_for_the_next_try(
    peer, case, unit, front_desk, clock
):
    dropped = message_written(case)
    other = message_written(case_untold(site=unit, by=front_desk.user, day=date(2026, 3, 4)))
    peer.answers[dropped.control_id] = DROP

    assert hl7_dispatch() == {dropped.pk: OutboundStatus.UNKNOWN,
                              other.pk: OutboundStatus.PLANNED}
    assert peer.control_ids() == [dropped.control_id]
    clock.shift(BACKOFF)
    assert hl7_dispatch() == {other.pk: OutboundStatus.SENT}
