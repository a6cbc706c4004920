"""Patient data stays inside its sites: two sites, Riverside (A) and North (B), each with its own
staff; B's staff find nothing of A's patient by id, MRN, name or a text they sent, unless a clerk
proves the patient is in front of them (MRN, date of birth and last name), which links the
patient to B and is recorded."""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission

from audit.models import AccessLog
from notifications.models import InboundKind, InboundMessage
from scheduling import roles
from scheduling.models import Case, CaseStatus, Patient, PatientSite, WaitingListEntry
from tests.conftest import TUESDAY, build_unit, case_booked, case_payload, client_for
from tests.factories import UserFactory
from tests.notifications.twilio_fake import signed_post, twilio_settings

pytestmark = pytest.mark.django_db

FIRST_NAME, LAST_NAME, MRN, BORN = "Zebulon", "Quixtanova", "MRN-A-7731", "1944-03-17"
A_PHONE = "+12125550177"
PATIENT_FIELDS = [FIRST_NAME, LAST_NAME, MRN, BORN, "5550177"]
RIVERSIDE_SMS, NORTH_SMS, SHARED_SMS = "+12125550900", "+12125550901", "+15005550006"


@pytest.fixture
def riverside(db):
    return build_unit(sms_number=RIVERSIDE_SMS)


@pytest.fixture
def north(riverside):
    return build_unit(code="north", name="North Spine Center", sms_number=NORTH_SMS)


@pytest.fixture
def case_a(riverside, north):
    """A's patient, booked at A by A's front desk."""
    patient = {
        "first_name": FIRST_NAME, "last_name": LAST_NAME, "date_of_birth": BORN, "mrn": MRN,
        "phone": A_PHONE, "email": "zq@example.org", "preferred_channel": "sms",
        "language": "en",
    }
    # On the Wednesday: B books the same patient on the Tuesday once proven.
    case_booked(client_for(roles.FRONT_DESK, sites=[riverside]), patient=patient,
                date="2026-03-04")
    return Case.objects.get(patient__mrn=MRN)


@pytest.fixture
def desk_b(north):
    return client_for(roles.FRONT_DESK, sites=[north])


def leaks(body: str) -> list[str]:
    return [field for field in PATIENT_FIELDS if field in body]


def proof(**overrides) -> dict:
    return {"first_name": "Z.", "last_name": LAST_NAME, "date_of_birth": BORN, "mrn": MRN,
            "phone": "+1 212 555 0123", "preferred_channel": "sms", "language": "en",
            **overrides}


# The API: patient_id and MRN


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.CLINICIAN])
def test_another_sites_patient_id_is_unknown_when_booking(case_a, north, role):
    payload = case_payload(site="north", patient_id=case_a.patient_id)
    del payload["patient"]
    response = client_for(role, sites=[north]).post("/api/v1/cases/", payload, format="json")
    assert response.status_code in (400, 404), response.json()
    assert leaks(response.content.decode()) == []
    assert Case.objects.filter(site=north).count() == 0


def test_another_sites_patient_id_is_unknown_on_the_waiting_list(case_a, desk_b):
    response = desk_b.post("/api/v1/waiting-list/", {
        "site": "north", "patient_id": case_a.patient_id, "procedure_type": "vertebroplasty",
        "levels": 1, "earliest_date": "2026-03-03", "latest_date": "2026-03-20",
    }, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_patient"
    assert leaks(response.content.decode()) == []
    assert WaitingListEntry.objects.count() == 0


@pytest.mark.parametrize(
    "partial",
    [{"date_of_birth": "1944-03-18"}, {"last_name": "Quixtanov"}],
    ids=["other date of birth", "other last name"],
)
def test_a_partial_match_on_another_sites_mrn_reveals_nothing(case_a, desk_b, partial):
    response = desk_b.post(
        "/api/v1/cases/", case_payload(site="north", patient=proof(**partial)), format="json"
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert response.json()["code"] == "patient_exists"
    assert str(case_a.patient_id) not in re.sub(MRN, "", body)
    assert leaks(re.sub(MRN, "", body)) == []
    assert PatientSite.objects.count() == 0
    assert Patient.objects.count() == 1


def test_a_patient_proven_by_mrn_birth_date_and_last_name_is_linked_and_booked(case_a, desk_b):
    response = desk_b.post(
        "/api/v1/cases/",
        case_payload(site="north", patient=proof(last_name=LAST_NAME.upper(), mrn=MRN.lower())),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Patient.objects.count() == 1
    booked = Case.objects.get(site__code="north")
    assert booked.patient_id == case_a.patient_id
    link = PatientSite.objects.get()
    assert (link.patient_id, link.site.code, link.linked_by) == (
        case_a.patient_id, "north", desk_b.user)
    access = AccessLog.objects.get(url_name="patient-site-link")
    assert (access.user, access.patient_id, access.site_id) == (
        desk_b.user, case_a.patient_id, booked.site_id)
    # The record keeps what A registered: B's typing does not overwrite it.
    assert Patient.objects.get().first_name == FIRST_NAME


def test_a_known_mrn_of_ones_own_site_still_names_the_patient_id(case_a, riverside):
    desk_a = client_for(roles.FRONT_DESK, sites=[riverside])
    response = desk_a.post("/api/v1/cases/", case_payload(patient=proof(
        date_of_birth="1950-01-01")), format="json")
    assert response.status_code == 409
    assert f"patient_id {case_a.patient_id}" in response.json()["detail"]


# The booking page


@pytest.fixture
def clerk_b(client, north):
    client.force_login(UserFactory(roles=[roles.FRONT_DESK], sites=[north]))
    return client


def page_post(client, **fields):
    from tests.scheduling.test_pages_booking import booking, shown_token

    return client.post("/book/", booking(shown_token(client), site="north", **fields))


def test_the_booking_page_does_not_find_another_sites_patient_by_mrn(case_a, clerk_b):
    response = page_post(clerk_b, find_mrn=MRN, action="show")
    assert response.status_code == 200
    assert "No patient of your sites has the MRN" in response.content.decode()
    assert leaks(response.content.decode().replace(MRN, "")) == []


def test_the_booking_page_does_not_reuse_another_sites_patient_by_id(case_a, clerk_b):
    response = page_post(clerk_b, use_patient=str(case_a.patient_id), action="show")
    assert leaks(response.content.decode()) == []
    assert Case.objects.filter(site__code="north").count() == 0


def test_the_booking_page_offers_no_duplicate_from_another_site(case_a, clerk_b):
    response = page_post(clerk_b, first_name=FIRST_NAME, last_name=LAST_NAME,
                         date_of_birth=BORN, mrn="MRN-B-1", action="show")
    assert f'value="{case_a.patient_id}"' not in response.content.decode()
    assert leaks(response.content.decode().replace(FIRST_NAME, "").replace(LAST_NAME, "")
                 .replace(BORN, "")) == []


def test_the_booking_page_refuses_another_sites_mrn_on_a_partial_match(case_a, clerk_b):
    response = page_post(clerk_b, mrn=MRN, last_name="Quixtanov", date_of_birth=BORN)
    page = response.content.decode()
    assert "cannot be registered again" in page
    assert leaks(page.replace(MRN, "").replace(BORN, "")) == []
    assert Case.objects.filter(site__code="north").count() == 0
    assert PatientSite.objects.count() == 0


def test_the_booking_page_links_and_books_a_proven_patient(case_a, clerk_b):
    response = page_post(clerk_b, first_name="Zeb", mrn=MRN, last_name=LAST_NAME,
                         date_of_birth=BORN, action="show")
    page = response.content.decode()
    assert f"Booking for <strong>{LAST_NAME}, {FIRST_NAME}</strong>" in page
    assert PatientSite.objects.filter(site__code="north").count() == 1

    from tests.scheduling.test_pages_booking import FIRST_START, booking

    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    booked = clerk_b.post("/book/", booking(token, site="north", find_mrn=MRN,
                                            start=FIRST_START))
    assert booked.status_code == 302
    assert Case.objects.get(site__code="north").patient_id == case_a.patient_id
    assert Patient.objects.count() == 1


def test_showing_a_registered_patient_on_the_booking_page_is_a_record_access(case_a, riverside,
                                                                             client):
    clerk_a = UserFactory(roles=[roles.FRONT_DESK], sites=[riverside])
    client.force_login(clerk_a)
    from tests.scheduling.test_pages_booking import booking, shown_token

    client.post("/book/", booking(shown_token(client), find_mrn=MRN, action="show",
                                  date=TUESDAY.isoformat()))
    access = AccessLog.objects.get(url_name="book")
    assert (access.user, access.patient_id, access.site_id) == (
        clerk_a, case_a.patient_id, riverside.pk)


# Patient search


def test_patient_search_finds_only_ones_own_patients(case_a, clerk_b):
    for query in [LAST_NAME, MRN, BORN, "5550177"]:
        response = clerk_b.get("/patients/", {"q": query})
        assert response.status_code == 200
        assert leaks(response.content.decode().replace(query, "")) == [], query


def test_patient_search_finds_a_linked_patient_and_a_waiting_one(case_a, clerk_b, north):
    PatientSite.objects.create(patient=case_a.patient, site=north)
    response = clerk_b.get("/patients/", {"q": LAST_NAME})
    assert MRN in response.content.decode()


# Texts that belong to no case


def inbound(client, *, sid, phone, to):
    return signed_post(client, "/webhooks/twilio/inbound/",
                       {"MessageSid": sid, "From": phone, "Body": "Can I eat?", "To": to})


def needs_call(client) -> list[int]:
    response = client.get("/api/v1/messages/needs-call/")
    assert response.status_code == 200
    return [row["id"] for row in response.json()]


@pytest.fixture
def texts(case_a, riverside, north, client, settings):
    """A's patient texts after their case is cancelled; strangers text A's, B's and the shared
    number."""
    twilio_settings(settings)
    case_a.status = CaseStatus.CANCELLED
    case_a.save(update_fields=["status"])
    for sid, phone, to in [
        ("SM" + "1" * 32, A_PHONE, SHARED_SMS),
        ("SM" + "2" * 32, "+12125550555", RIVERSIDE_SMS),
        ("SM" + "3" * 32, "+12125550556", NORTH_SMS),
        ("SM" + "4" * 32, "+12125550557", SHARED_SMS),
    ]:
        assert inbound(client, sid=sid, phone=phone, to=to).status_code == 200
    return {m.provider_message_id[2]: m for m in InboundMessage.objects.all()}


def test_a_text_outside_any_case_reaches_only_the_staff_it_belongs_to(texts, riverside, north):
    assert all(m.kind == InboundKind.OTHER and m.case is None for m in texts.values())
    both = client_for(roles.FRONT_DESK, sites=[riverside, north])
    superuser = client_for(roles.FRONT_DESK, sites=[])
    superuser.user.is_superuser = True
    superuser.user.save()

    ids = {key: m.pk for key, m in texts.items()}
    assert sorted(needs_call(client_for(roles.FRONT_DESK, sites=[riverside]))) == sorted(
        [ids["1"], ids["2"]])
    b_rows = client_for(roles.NURSE, sites=[north]).get("/api/v1/messages/needs-call/")
    assert [row["id"] for row in b_rows.json()] == [ids["3"]]
    assert A_PHONE not in b_rows.content.decode()
    assert sorted(needs_call(both)) == sorted(ids.values())
    assert sorted(needs_call(superuser)) == sorted(ids.values())


def test_marking_a_text_handled_has_the_same_scope(texts, north):
    desk = client_for(roles.FRONT_DESK, sites=[north])
    for key in ["1", "2", "4"]:
        response = desk.post(f"/api/v1/messages/needs-call/{texts[key].pk}/handled/")
        assert response.status_code == 404
        assert leaks(response.content.decode()) == []
    assert desk.post(f"/api/v1/messages/needs-call/{texts['3'].pk}/handled/").status_code == 200
    assert InboundMessage.objects.filter(handled_at__isnull=False).count() == 1


# The admin


def admin_of(site, *models):
    user = UserFactory(is_staff=True, roles=[roles.ADMIN], sites=[site])
    for model in models:
        user.user_permissions.add(Permission.objects.get(codename=f"view_{model}"))
    return user


def test_the_admin_lists_only_the_patients_and_cases_of_ones_sites(case_a, north, riverside,
                                                                   client):
    client.force_login(admin_of(north, "patient", "case", "reminder", "waitinglistentry"))
    for url in ["/admin/scheduling/patient/", "/admin/scheduling/case/",
                "/admin/notifications/reminder/", f"/admin/scheduling/patient/?q={LAST_NAME}"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaks(response.content.decode().replace(f"{LAST_NAME}", "")) == [], url
        assert "0 patients" in response.content.decode() or "patient" not in url, url
    for url in [f"/admin/scheduling/patient/{case_a.patient_id}/change/",
                f"/admin/scheduling/case/{case_a.pk}/change/"]:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert leaks(response.content.decode()) == [], url

    client.force_login(admin_of(riverside, "patient"))
    assert LAST_NAME in client.get("/admin/scheduling/patient/").content.decode()


def test_an_admin_cannot_put_another_sites_patient_on_their_waiting_list(case_a, north, client):
    user = admin_of(north)
    user.user_permissions.add(Permission.objects.get(codename="add_waitinglistentry"))
    client.force_login(user)
    entry = {
        "patient": case_a.patient_id, "site": north.pk, "procedure_type": case_a.procedure_type_id,
        "levels": 1, "priority": "routine", "earliest_date": "2026-03-03",
        "latest_date": "2026-03-20", "status": "waiting", "screening": "{}",
    }
    response = client.post("/admin/scheduling/waitinglistentry/add/", entry)
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice" in response.content.decode()
    assert WaitingListEntry.objects.count() == 0

    PatientSite.objects.create(patient=case_a.patient, site=north)
    assert client.post("/admin/scheduling/waitinglistentry/add/", entry).status_code == 302
    assert WaitingListEntry.objects.get().site == north


def test_the_audit_trail_shows_an_admin_only_their_sites(case_a, riverside, north, client):
    client_for(roles.FRONT_DESK, sites=[riverside]).get(f"/api/v1/cases/{case_a.pk}/")
    assert AccessLog.objects.filter(case_id=case_a.pk).exists()

    client.force_login(admin_of(north))
    accesses = client.get("/admin/audit/accesslog/").content.decode()
    changes = client.get("/admin/auditlog/logentry/").content.decode()
    assert f"/admin/audit/accesslog/{AccessLog.objects.get(case_id=case_a.pk).pk}/" not in accesses
    entry = LogEntry.objects.filter(object_pk=str(case_a.patient_id)).first()
    assert f"/admin/auditlog/logentry/{entry.pk}/" not in changes
    assert LAST_NAME not in changes

    client.force_login(admin_of(riverside))
    accesses = client.get("/admin/audit/accesslog/").content.decode()
    assert f"/admin/audit/accesslog/{AccessLog.objects.get(case_id=case_a.pk).pk}/" in accesses
    assert f"/admin/auditlog/logentry/{entry.pk}/" in client.get(
        "/admin/auditlog/logentry/").content.decode()


def test_a_sites_sms_number_is_kept_in_the_form_texts_arrive_with(riverside):
    from django.core.exceptions import ValidationError

    riverside.sms_number = "(212) 555-0900"
    with pytest.raises(ValidationError):
        riverside.full_clean()
    riverside.sms_number = RIVERSIDE_SMS
    riverside.full_clean()
