"""A patient link outlives a rotation of the secret key (the old key kept as a fallback), and an
admin can revoke the links of one case: those already sent stop opening, a new one opens."""

from urllib.parse import urlsplit

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.urls import reverse

from notifications.links import SALT, patient_link, patient_token
from notifications.services import patient_links_revoke
from scheduling.models import Case
from tests.factories import case_made

pytestmark = pytest.mark.django_db
OLD_KEY = "old-key-" + "o" * 50
NEW_KEY = "new-key-" + "n" * 50


@pytest.fixture
def case(unit):
    return case_made(site=unit)


def page_of(case) -> str:
    return urlsplit(patient_link(case)).path


def opens(client, path) -> bool:
    response = client.get(path)
    assert response.status_code in (200, 404), response.status_code
    return response.status_code == 200


def test_a_link_signed_with_the_old_key_opens_after_the_key_is_rotated(client, case, settings):
    settings.SECRET_KEY = OLD_KEY
    sent = page_of(case)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert opens(client, sent)
    assert page_of(case) != sent  # new messages are signed with the new key
    assert opens(client, page_of(case))


def test_once_the_old_key_is_dropped_its_links_stop_opening(client, case, settings):
    settings.SECRET_KEY = OLD_KEY
    sent = page_of(case)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    response = client.get(sent)
    assert response.status_code == 404
    assert "This link is not valid." in response.content.decode()


def test_a_never_revoked_link_is_as_short_as_before(case):
    value = signing.Signer(salt=SALT).unsign(patient_token(case))
    assert value.count(".") == 1  # case id and expiry only


def test_revoking_stops_the_links_already_sent_and_a_new_link_opens(client, case):
    sent_page = page_of(case)
    sent_ics = reverse("patient-ics", args=[patient_token(case)])
    sent_confirm = reverse("patient-confirm", args=[patient_token(case)])
    assert opens(client, sent_page)

    patient_links_revoke(case=case)

    for path in (sent_page, sent_ics):
        response = client.get(path)
        assert response.status_code == 404
        assert "This link is no longer valid." in response.content.decode()
        assert "Whitfield" not in response.content.decode()
    assert client.post(sent_confirm).status_code == 404
    case.refresh_from_db()
    assert case.status == "booked"
    fresh = Case.objects.get(pk=case.pk)
    assert page_of(fresh) != sent_page
    assert opens(client, page_of(fresh))
    assert opens(client, reverse("patient-ics", args=[patient_token(fresh)]))


def test_revoking_again_retires_the_second_link_too(client, case):
    patient_links_revoke(case=case)
    second = page_of(case)
    patient_links_revoke(case=case)
    assert not opens(client, second)
    assert opens(client, page_of(Case.objects.get(pk=case.pk)))


def test_the_admin_action_revokes_and_the_audit_trail_records_who(client, case, admin_user):
    sent = page_of(case)
    client.force_login(admin_user)
    response = client.post(
        "/admin/scheduling/case/",
        {"action": "patient_links_revoke", "_selected_action": [case.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Patient links revoked for 1 case(s)" in response.content.decode()
    client.logout()
    assert not opens(client, sent)
    assert opens(client, page_of(Case.objects.get(pk=case.pk)))
    [entry] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_id=case.pk,
        action=LogEntry.Action.UPDATE,
    )
    assert entry.changes_dict == {"link_nonce": ["0", "1"]}
    assert entry.actor == admin_user
