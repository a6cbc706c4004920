"""Every bad booking gets a clear 4xx with its own code, and nothing is saved."""

import pytest

from scheduling.models import Case, Drug, Patient, Stage
from tests.conftest import CLEAR_SCREENING, case_payload
from tests.factories import PatientFactory

URL = "/api/v1/cases/"
pytestmark = pytest.mark.django_db


def patient_with(**fields):
    return case_payload()["patient"] | fields


BAD = [
    ("date in the past", {"date": "2026-03-01"}, 400, "date_in_past", "date"),
    ("site closed", {"date": "2026-03-07"}, 409, "site_closed", "date"),
    ("start before opening", {"start": "2026-03-03T07:30:00-05:00"}, 400,
     "outside_opening_hours", "start"),
    ("case ends after closing", {"start": "2026-03-03T14:30:00-05:00"}, 400,
     "outside_opening_hours", "start"),
    ("start off the grid", {"start": "2026-03-03T10:02:00-05:00"}, 400, "off_grid", "start"),
    ("start without offset", {"start": "2026-03-03T10:00:00"}, 400, "start_needs_offset", "start"),
    ("start on another date", {"start": "2026-03-04T10:00:00-05:00"}, 400,
     "start_not_on_date", "start"),
    ("start already passed", {"date": "2026-03-02", "start": "2026-03-02T06:00:00-05:00"}, 400,
     "start_in_past", "start"),
    ("zero levels", {"levels": 0}, 400, "levels_out_of_range", "levels"),
    ("too many levels", {"levels": 4}, 400, "levels_out_of_range", "levels"),
    ("unknown site", {"site": "nowhere"}, 400, "unknown_site", "site"),
    ("unknown procedure type", {"procedure_type": "laminectomy"}, 400,
     "unknown_procedure_type", "procedure_type"),
    ("unknown surgeon", {"surgeon": "dr-nobody"}, 400, "unknown_surgeon", "surgeon"),
    ("unknown drug", {"medications": ["warfarin", "snake-oil"]}, 400, "unknown_drug",
     "medications"),
    ("bad phone", {"patient": patient_with(phone="12345")}, 400, "invalid_phone", "patient.phone"),
    ("letters for a phone", {"patient": patient_with(phone="call me")}, 400, "invalid_phone",
     "patient.phone"),
    ("bad driver phone", {"driver": {"name": "Tom", "phone": "+1 555"}}, 400, "invalid_phone",
     "driver.phone"),
    ("bad email", {"patient": patient_with(email="not-an-email")}, 400, "invalid_email",
     "patient.email"),
    ("born in the future", {"patient": patient_with(date_of_birth="2027-01-01")}, 400,
     "date_of_birth_in_future", "patient.date_of_birth"),
    ("override without reason", {"screening": CLEAR_SCREENING | {"active_infection": True},
                                 "override_reason": "   "}, 403, "override_not_allowed",
     "override_reason"),
    ("contraindicated", {"screening": CLEAR_SCREENING | {"cement_allergy": True}}, 400,
     "contraindicated", "screening.cement_allergy"),
    ("too little conservative treatment",
     {"screening": CLEAR_SCREENING | {"conservative_treatment_weeks": 2}}, 400,
     "contraindicated", "screening.conservative_treatment_weeks"),
    ("no imaging", {"screening": CLEAR_SCREENING | {"imaging_on_file": False}}, 400,
     "contraindicated", "screening.imaging_on_file"),
    ("wrong type for levels", {"levels": "two"}, 400, "invalid", "levels"),
    ("wrong type for a screening answer", {"screening": CLEAR_SCREENING | {"traumatic": "maybe"}},
     400, "invalid", "screening.traumatic"),
    ("missing screening", {"screening": None}, 400, "invalid", "screening"),
    ("no patient", {"patient": None}, 400, "invalid", "patient"),
    ("unknown patient id", {"patient": None, "patient_id": 999999}, 400, "unknown_patient",
     "patient_id"),
    ("huge patient id", {"patient": None, "patient_id": 10**30}, 400, "invalid", "patient_id"),
    ("NUL byte in a name", {"patient": patient_with(last_name="Whit\x00field")}, 400, "invalid",
     "patient.last_name"),
    ("huge string", {"patient": patient_with(first_name="x" * 100_000)}, 400, "invalid",
     "patient.first_name"),
]


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_it_refuses_bad_input_and_saves_nothing(unit, front_desk, overrides, status, code, field):
    payload = {k: v for k, v in case_payload(**overrides).items() if v is not None}
    response = front_desk.post(URL, payload, format="json")

    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert field in body["errors"], body["errors"]
    assert Case.objects.count() == 0
    assert Stage.objects.count() == 0
    assert Patient.objects.count() == 0


def test_malformed_json_gets_its_own_code(unit, front_desk):
    response = front_desk.post(URL, '{"site": "main",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_a_blank_override_reason_from_a_clinician_is_refused(unit, clinician):
    payload = case_payload(
        screening=CLEAR_SCREENING | {"active_infection": True}, override_reason="  "
    )
    response = clinician.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "override_reason_required"
    assert Case.objects.count() == 0


def test_a_patient_already_booked_that_day_is_refused(unit, front_desk):
    patient = PatientFactory(known_at=[unit])
    payload = {k: v for k, v in case_payload(patient_id=patient.pk).items() if k != "patient"}
    first = front_desk.post(URL, payload, format="json")
    assert first.status_code == 201, first.json()
    second = front_desk.post(URL, payload | {"start": "2026-03-03T13:00:00-05:00"}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "patient_already_booked"
    assert Case.objects.count() == 1


def test_a_known_mrn_is_refused_with_the_existing_patient_id(unit, front_desk):
    existing = PatientFactory(mrn="MRN-1001", known_at=[unit])
    response = front_desk.post(URL, case_payload(), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "patient_exists"
    assert str(existing.pk) in response.json()["detail"]
    assert Patient.objects.count() == 1


def test_a_full_day_answers_no_free_slot(tiny_unit, front_desk):
    codes = []
    for number in range(8):
        patient = case_payload()["patient"] | {"mrn": f"MRN-{number}"}
        codes.append(front_desk.post(URL, case_payload(patient=patient), format="json").status_code)
    assert 201 in codes
    assert codes[-1] == 409
    last = front_desk.post(
        URL, case_payload(patient=case_payload()["patient"] | {"mrn": "MRN-last"}), format="json"
    )
    assert last.json()["code"] == "no_free_slot"


def test_an_inactive_drug_is_unknown(unit, front_desk):
    Drug.objects.filter(code="aspirin").update(active=False)
    response = front_desk.post(URL, case_payload(medications=["aspirin"]), format="json")
    assert response.json()["code"] == "unknown_drug"


def test_a_procedure_type_without_stages_is_unknown(unit, front_desk):
    from tests.factories import ProcedureTypeFactory

    ProcedureTypeFactory(code="empty", name="Not set up yet", stages=[])
    from scheduling.models import StageTemplate

    StageTemplate.objects.filter(procedure_type__code="empty").delete()
    response = front_desk.post(URL, case_payload(procedure_type="empty"), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_procedure_type"
