"""The outbox's admin page (admins of the message's site only; resend and withdraw, with who
and when on the message's history) and the outbox's figure on /healthz."""

from datetime import date, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from hl7v2.models import OutboundMessage, OutboundStatus
from scheduling import roles
from tests.conftest import build_unit
from tests.factories import UserFactory
from tests.hl7v2.peer import case_untold, siu_body

CHANGELIST = reverse("admin:hl7v2_outboundmessage_changelist")


def message_of(case, *, status=OutboundStatus.FAILED, sequence=1, patient="Quenby^Hestia"):
    control_id = f"ADM{case.pk:04d}{sequence:02d}"
    return OutboundMessage.objects.create(
        case=case, site=case.site, endpoint="engine", trigger="S12", sequence=sequence,
        control_id=control_id, body=siu_body(control_id=control_id, patient=patient),
        due_at=timezone.now(), status=status, attempts=2, ack_code="AE",
        ack_text="Unknown attending doctor",
    )


def staff_user(site, *user_roles):
    user = UserFactory(roles=list(user_roles), sites=[site])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="hl7v2"))
    return user


@pytest.fixture
def other_unit(db):
    return build_unit(code="other", name="Other Spine Center")


@pytest.fixture
def mine(unit, front_desk):
    return message_of(case_untold(site=unit, by=front_desk.user))


@pytest.fixture
def theirs(other_unit, front_desk):
    case = case_untold(site=other_unit, by=front_desk.user, day=date(2026, 3, 4))
    return message_of(case, patient="Farquharson^Theodora")


def test_an_admin_sees_their_site_s_messages_with_the_peer_s_words_and_not_another_site_s(
    client, unit, mine, theirs
):
    client.force_login(staff_user(unit, roles.ADMIN))

    page = client.get(CHANGELIST).content.decode()
    detail = client.get(reverse("admin:hl7v2_outboundmessage_change", args=[mine.pk]))

    assert mine.control_id in page
    assert "Unknown attending doctor" in page
    assert theirs.control_id not in page
    assert detail.status_code == 200
    assert "Quenby" in detail.content.decode()
    assert client.get(
        reverse("admin:hl7v2_outboundmessage_change", args=[theirs.pk])
    ).status_code in (302, 404)


def test_staff_who_are_not_admins_see_no_message(client, unit, mine):
    client.force_login(staff_user(unit, roles.NURSE))

    assert client.get(CHANGELIST).status_code == 403


def test_resend_puts_a_failed_message_back_in_its_turn_and_records_who_did_it(
    client, unit, mine, theirs
):
    admin_user = staff_user(unit, roles.ADMIN)
    client.force_login(admin_user)

    client.post(CHANGELIST, {"action": "resend", "_selected_action": [mine.pk, theirs.pk]})

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.attempts, mine.due_at) == (
        OutboundStatus.PLANNED, 2, timezone.now())
    assert theirs.status == OutboundStatus.FAILED, "another site's message moved"
    entry = LogEntry.objects.get(object_id=str(mine.pk))
    assert (entry.user, entry.change_message) == (admin_user, "Sent again by an admin.")
    assert not LogEntry.objects.filter(object_id=str(theirs.pk)).exists()


def test_withdraw_takes_a_message_out_and_leaves_a_sent_one(client, unit, front_desk, mine):
    sent = message_of(mine.case, status=OutboundStatus.SENT, sequence=0)
    client.force_login(staff_user(unit, roles.ADMIN))

    client.post(CHANGELIST, {"action": "withdraw", "_selected_action": [mine.pk, sent.pk]})

    mine.refresh_from_db()
    sent.refresh_from_db()
    assert mine.status == OutboundStatus.WITHDRAWN
    assert sent.status == OutboundStatus.SENT
    assert LogEntry.objects.get(object_id=str(mine.pk)).change_message == (
        "Withdrawn by an admin.")


def test_healthz_tells_the_age_of_the_oldest_undelivered_message_and_nothing_of_it(
    client, unit, front_desk, clock
):
    case = case_untold(site=unit, by=front_desk.user)
    message_of(case, status=OutboundStatus.SENT, sequence=1)
    clock.shift(timedelta(minutes=30))
    unknown = message_of(case, status=OutboundStatus.UNKNOWN, sequence=2)
    clock.shift(timedelta(minutes=20))
    message_of(case, status=OutboundStatus.PLANNED, sequence=3)
    clock.shift(timedelta(minutes=10))

    response = client.get("/healthz")

    check = response.json()["checks"]["hl7"]
    assert check == {"status": "ok", "oldest_undelivered_seconds": 1800, "ms": check["ms"]}
    text = response.content.decode()
    assert unknown.control_id not in text
    assert "Quenby" not in text
    OutboundMessage.objects.update(status=OutboundStatus.SENT)
    assert client.get("/healthz").json()["checks"]["hl7"]["oldest_undelivered_seconds"] == 0
