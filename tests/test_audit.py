"""The audit trail: every change of a patient, case, stage or held drug with who and from where
(django-auditlog), every view of a record (AccessLog), read in the admin and edited by nobody."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from audit.models import AccessLog
from scheduling import roles
from scheduling.models import Case, CaseMedication, Patient, Stage
from tests.conftest import case_payload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"
PROXY = "10.0.0.2"


def entries(model, action=None, **filters):
    rows = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), **filters)
    if action is not None:
        rows = rows.filter(action=action)
    return list(rows.order_by("id"))


def book(client, **overrides):
    response = client.post(CASES, case_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_booking_through_the_api_logs_patient_case_stages_and_drugs_with_the_actor(
    unit, front_desk
):
    case = book(front_desk, medications=["warfarin"])
    stage_ids = set(Stage.objects.filter(case_id=case["id"]).values_list("pk", flat=True))

    [patient] = entries(Patient, LogEntry.Action.CREATE)
    [case_entry] = entries(Case, LogEntry.Action.CREATE)
    stages = entries(Stage, LogEntry.Action.CREATE)
    [held] = entries(CaseMedication, LogEntry.Action.CREATE)

    assert case_entry.object_id == case["id"]
    assert {entry.object_id for entry in stages} == stage_ids
    assert len(stages) == 4
    assert held.object_id == CaseMedication.objects.get(case_id=case["id"]).pk
    assert patient.changes_dict["last_name"] == ["None", "Whitfield"]
    for entry in [patient, case_entry, *stages, held]:
        assert entry.actor == front_desk.user
        assert entry.remote_addr == "127.0.0.1"


def test_a_cancel_logs_the_status_change_and_the_released_stages(unit, front_desk):
    case = book(front_desk)
    response = front_desk.post(f"{CASES}{case['id']}/cancel/", {"reason": "Feeling better"},
                               format="json")
    assert response.status_code == 200

    [change] = entries(Case, LogEntry.Action.UPDATE, object_id=case["id"])
    assert change.changes_dict["status"] == ["booked", "cancelled"]
    assert change.changes_dict["cancel_reason"] == ["", "Feeling better"]
    assert change.actor == front_desk.user
    released = entries(Stage, LogEntry.Action.UPDATE)
    assert len(released) == 4
    assert all(entry.changes_dict == {"active": ["True", "False"]} for entry in released)
    assert all(entry.actor == front_desk.user for entry in released)


def test_a_reschedule_logs_the_old_stages_deleted_the_new_ones_and_the_moved_hold(
    unit, front_desk
):
    case = book(front_desk, medications=["warfarin"])
    response = front_desk.post(
        f"{CASES}{case['id']}/reschedule/", {"date": "2026-03-06"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert len(entries(Stage, LogEntry.Action.DELETE)) == 4
    assert len(entries(Stage, LogEntry.Action.CREATE)) == 8
    [moved] = entries(CaseMedication, LogEntry.Action.UPDATE)
    assert moved.changes_dict["hold_starts_on"] == ["2026-02-26", "2026-03-01"]
    [case_change] = entries(Case, LogEntry.Action.UPDATE)
    assert case_change.changes_dict["day"] == ["2026-03-03", "2026-03-06"]
    assert {e.actor for e in entries(Stage)} == {front_desk.user}


def test_a_change_in_the_admin_is_logged_with_the_admin_and_their_address(client, patient):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    data = {
        "first_name": patient.first_name, "last_name": "Corrected", "date_of_birth": "1948-05-17",
        "mrn": patient.mrn, "phone": patient.phone, "email": patient.email,
        "preferred_channel": "sms", "language": "en",
    }
    response = client.post(f"/admin/scheduling/patient/{patient.pk}/change/", data,
                           REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    [change] = entries(Patient, LogEntry.Action.UPDATE, object_id=patient.pk)
    assert change.changes_dict["last_name"][1] == "Corrected"
    assert change.actor == admin
    assert change.remote_addr == "192.0.2.10"


def test_behind_the_proxy_the_address_is_the_client_not_a_made_up_one(
    unit, front_desk, settings
):
    settings.PROXY_COUNT = 1
    headers = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
    response = front_desk.post(CASES, case_payload(), format="json", **headers)
    assert response.status_code == 201
    front_desk.get(f"{CASES}{response.json()['id']}/", **headers)
    assert {entry.remote_addr for entry in LogEntry.objects.all()} == {"203.0.113.7"}
    assert AccessLog.objects.get().remote_addr == "203.0.113.7"


# Views of records


def test_reading_a_case_through_the_api_writes_an_access_row(unit, front_desk, nurse):
    case = book(front_desk)
    assert nurse.get(f"{CASES}{case['id']}/").status_code == 200
    access = AccessLog.objects.get()
    assert access.user == nurse.user
    assert access.username == nurse.user.username
    assert access.remote_addr == "127.0.0.1"
    assert access.url_name == "api-case"
    assert access.method == "GET"
    assert access.case_id == case["id"]
    assert access.patient_id == case["patient"]["id"]


def test_reading_a_cases_messages_is_an_access_too(unit, front_desk, nurse):
    case = book(front_desk)
    assert nurse.get(f"{CASES}{case['id']}/messages/").status_code == 200
    assert AccessLog.objects.get().url_name == "api-case-messages"


def test_a_case_not_found_or_not_allowed_writes_no_access_row(unit, front_desk):
    from tests.conftest import client_for

    case = book(front_desk)
    assert front_desk.get(f"{CASES}{case['id'] + 1000}/").status_code == 404
    elsewhere = client_for(roles.NURSE, sites=[])
    assert elsewhere.get(f"{CASES}{case['id']}/").status_code == 404
    assert client_for().get(f"{CASES}{case['id']}/").status_code == 403
    assert not AccessLog.objects.exists()


def test_the_case_page_and_patient_search_are_logged_without_the_search_words(client, unit):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    clerk = UserFactory(roles=[roles.FRONT_DESK])
    clerk.sites.set([unit])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    case = book(api)
    client.force_login(clerk)
    assert client.get(f"/cases/{case['id']}/").status_code == 200
    assert client.get("/patients/", {"q": "Whitfield"}).status_code == 200
    detail, search = AccessLog.objects.order_by("id")
    assert (detail.url_name, detail.case_id, detail.user) == ("case-detail", case["id"], clerk)
    assert detail.patient_id == case["patient"]["id"]
    assert (search.url_name, search.case_id, search.patient_id) == ("patient-search", None, None)
    assert "Whitfield" not in search.path


# Reading the trail


@pytest.fixture
def trail(unit, front_desk):
    case = book(front_desk)
    front_desk.get(f"{CASES}{case['id']}/")
    return LogEntry.objects.first(), AccessLog.objects.get()


def test_superusers_and_the_admin_role_read_the_trail(client, trail, unit):
    log_entry, access = trail
    for reader in [
        UserFactory(is_staff=True, is_superuser=True),
        UserFactory(is_staff=True, roles=[roles.ADMIN], sites=[unit]),
    ]:
        client.force_login(reader)
        assert client.get("/admin/audit/accesslog/").status_code == 200
        assert client.get(f"/admin/audit/accesslog/{access.pk}/change/").status_code == 200
        assert client.get("/admin/auditlog/logentry/").status_code == 200
        assert client.get(f"/admin/auditlog/logentry/{log_entry.pk}/change/").status_code == 200


def test_other_staff_cannot_read_the_trail(client, trail):
    client.force_login(UserFactory(is_staff=True, roles=[roles.FRONT_DESK]))
    assert client.get("/admin/audit/accesslog/").status_code == 403
    assert client.get("/admin/auditlog/logentry/").status_code == 403


def test_nobody_can_change_or_delete_the_trail_in_the_admin(client, trail):
    log_entry, access = trail
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in [
        f"/admin/audit/accesslog/{access.pk}/",
        f"/admin/auditlog/logentry/{log_entry.pk}/",
    ]:
        assert client.post(f"{url}change/", {"username": "someone-else"}).status_code == 403
        assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/audit/accesslog/add/").status_code == 403
    assert client.get("/admin/auditlog/logentry/add/").status_code == 403
    changelist = client.post(
        "/admin/audit/accesslog/",
        {"action": "delete_selected", "_selected_action": [access.pk], "post": "yes"},
    )
    assert changelist.status_code in (200, 302)
    access.refresh_from_db()
    assert access.username != "someone-else"
    assert AccessLog.objects.filter(pk=access.pk).exists()
    assert LogEntry.objects.filter(pk=log_entry.pk).exists()
