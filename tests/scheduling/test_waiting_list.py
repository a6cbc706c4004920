"""The waiting list through the API: add, read, change and remove patients to be scheduled."""

import pytest

from scheduling import roles
from scheduling.models import WaitingListEntry, WaitingStatus
from tests.conftest import CLEAR_SCREENING, build_unit, client_for
from tests.factories import PatientFactory

URL = "/api/v1/waiting-list/"


def entry_payload(patient, **overrides):
    payload = {
        "site": "main",
        "patient_id": patient.pk,
        "procedure_type": "vertebroplasty",
        "levels": 2,
        "earliest_date": "2026-03-03",
        "latest_date": "2026-03-20",
        "priority": "urgent",
        "screening": dict(CLEAR_SCREENING),
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def patient(unit):
    return PatientFactory(known_at=[unit])


@pytest.fixture
def desk(unit):
    return client_for(roles.FRONT_DESK)


def test_the_front_desk_adds_a_patient_and_reads_the_list(desk, patient):
    response = desk.post(URL, entry_payload(patient), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == "urgent"
    assert body["screening_done"] is True
    assert body["status"] == "waiting"
    entry = WaitingListEntry.objects.get(pk=body["id"])
    assert entry.created_by == desk.user
    assert entry.levels == 2

    listed = desk.get(URL, {"site": "main"}).json()
    assert [item["id"] for item in listed] == [entry.pk]
    assert desk.get(f"{URL}{entry.pk}/").json()["patient"]["mrn"] == patient.mrn


def test_a_new_patient_can_be_registered_with_the_entry(desk):
    payload = entry_payload(PatientFactory.build(), screening=None)
    del payload["patient_id"]
    payload["patient"] = {"first_name": "Ada", "last_name": "Byrne",
                          "date_of_birth": "1950-01-02", "mrn": "WL-1"}
    body = desk.post(URL, payload, format="json").json()
    assert body["patient"]["mrn"] == "WL-1"
    assert body["screening_done"] is False


def test_an_unknown_procedure_type_is_refused_with_its_code(desk, patient):
    response = desk.post(URL, entry_payload(patient, procedure_type="laminectomy"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_procedure_type"
    assert not WaitingListEntry.objects.exists()


def test_a_window_that_ends_before_it_starts_is_refused(desk, patient):
    response = desk.post(
        URL, entry_payload(patient, earliest_date="2026-03-10", latest_date="2026-03-05"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "waiting_window_invalid"


def test_levels_beyond_the_procedure_types_maximum_are_refused(desk, patient):
    response = desk.post(URL, entry_payload(patient, levels=5), format="json")
    assert response.json()["code"] == "levels_out_of_range"


def test_patch_changes_the_entry_and_delete_takes_it_off_the_list(desk, patient):
    entry_id = desk.post(URL, entry_payload(patient), format="json").json()["id"]
    response = desk.patch(f"{URL}{entry_id}/", {"priority": "routine", "levels": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["priority"] == "routine"
    assert response.json()["levels"] == 1

    bad = desk.patch(f"{URL}{entry_id}/", {"procedure_type": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "unknown_procedure_type"

    assert desk.delete(f"{URL}{entry_id}/").status_code == 204
    assert WaitingListEntry.objects.get(pk=entry_id).status == WaitingStatus.REMOVED
    assert desk.get(URL).json() == []
    again = desk.patch(f"{URL}{entry_id}/", {"levels": 2}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "entry_not_waiting"


def test_nurses_and_clinicians_may_not_use_the_waiting_list(unit, patient):
    for role in (roles.NURSE, roles.CLINICIAN):
        client = client_for(role)
        assert client.get(URL).status_code == 403
        assert client.post(URL, entry_payload(patient), format="json").status_code == 403
    assert client_for(roles.ADMIN).get(URL).status_code == 200


def test_another_sites_entry_is_not_found(unit, patient):
    other = build_unit(code="north", name="North Clinic")
    other_desk = client_for(roles.FRONT_DESK, sites=[other])
    main_desk = client_for(roles.FRONT_DESK, sites=[unit])
    entry_id = main_desk.post(URL, entry_payload(patient), format="json").json()["id"]
    assert other_desk.get(f"{URL}{entry_id}/").status_code == 404
    assert other_desk.delete(f"{URL}{entry_id}/").status_code == 404
    assert other_desk.get(URL).json() == []
    refused = other_desk.post(URL, entry_payload(patient), format="json")
    assert refused.json()["code"] == "unknown_site"


def test_the_admin_lists_entries_to_be_scheduled(unit, patient, client):
    from django.contrib.auth.models import User

    from scheduling.models import ProcedureType

    WaitingListEntry.objects.create(
        site=unit, patient=patient, procedure_type=ProcedureType.objects.get(), levels=1,
        earliest_date="2026-03-03", latest_date="2026-03-10",
    )
    client.force_login(User.objects.create_superuser("boss", "b@example.org", "pw"))
    removed = WaitingListEntry.objects.create(
        site=unit,
        patient=PatientFactory(last_name="Gone"),
        procedure_type=ProcedureType.objects.get(),
        levels=1, earliest_date="2026-03-03", latest_date="2026-03-10", status="removed",
    )
    page = client.get("/admin/scheduling/waitinglistentry/").content.decode()
    assert str(patient) in page
    assert str(removed.patient) not in page
    everything = client.get("/admin/scheduling/waitinglistentry/?status=all").content.decode()
    assert str(patient) in everything
    assert str(removed.patient) in everything


def test_the_demo_has_a_waiting_list_once(db, capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    entries = WaitingListEntry.objects.filter(patient__mrn__startswith="DEMO-W-")
    assert entries.count() == 12
    assert entries.filter(screening_done=False).count() == 1
    assert set(entries.values_list("priority", flat=True)) == {"urgent", "soon", "routine"}
    assert "12 new waiting-list patients" in capsys.readouterr().out
