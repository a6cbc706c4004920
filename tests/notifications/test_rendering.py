"""Message text from the templates: SMS say the minimum, in GSM-7 within two segments or, when the
language needs letters GSM-7 lacks (Spanish á í ó ú), in Unicode within five; emails carry the
detail; each patient reads their own language, accents included."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from icalendar import Calendar

from notifications.links import patient_link
from notifications.models import Audience, MessageKind, Reminder, ReminderRule
from notifications.rendering import (
    GSM7,
    LANGUAGES,
    SMS_MAX_CHARS,
    SMS_MAX_UCS2,
    render,
    sms_fitted,
    sms_segments,
)
from scheduling.models import Site
from tests.factories import case_made

pytestmark = pytest.mark.django_db

STOP_LINE = {"en": "Reply STOP to opt out.", "es": "Responda STOP para no recibir más mensajes."}
# Words that would tell a reader of the patient's phone what the visit is for.
NEVER_IN_SMS = (
    "vertebroplasty", "kyphoplasty", "fracture", "cement", "vertebra", "osteoporosis", "warfarin",
    "vertebroplastia", "cifoplastia", "fractura",
)
# Email may name a held drug (the medication-hold and reschedule emails), never a diagnosis or
# the procedure.
NEVER_IN_EMAIL = tuple(word for word in NEVER_IN_SMS if word != "warfarin")
DRIVER_KINDS = (
    MessageKind.DRIVER_PICKUP, MessageKind.DRIVER_READY, MessageKind.DRIVER_CANCELLATION,
    MessageKind.DRIVER_RESCHEDULE,
)
PATIENT_KINDS = [kind for kind in MessageKind.values if kind not in DRIVER_KINDS]
ICS_KINDS = {"confirmation", "arrival", "reschedule_notice", "what_to_bring"}
FIRST_NAME = {"en": "Margaret", "es": "María"}


@pytest.fixture
def site(unit):
    Site.objects.filter(pk=unit.pk).update(
        address="St Luke's Plaza, 120 River Road, New York, NY 10001",
        directions="Use entrance B & take the lift to floor 2.",
    )
    unit.refresh_from_db()
    return unit


def book(site, *, language="en", channel="sms", medications=("warfarin",)):
    patient = {"language": language, "first_name": FIRST_NAME[language],
               "preferred_channel": channel}
    return case_made(site=site, patient=patient, medications=medications)


def reminder_for(case, kind, channel):
    """The row booking planned for this kind, or one made as planning would have made it (many
    kinds are not planned for a case booked the day before)."""
    rule = ReminderRule.objects.filter(kind=kind).order_by("pk").first()
    planned = Reminder.objects.filter(case=case, rule=rule, channel=channel).first()
    if planned:
        return planned
    held = None
    if kind == "medication_hold":
        held = case.held_medications.select_related("drug").first()
    if rule.audience == Audience.DRIVER:
        recipient = case.driver_phone
    else:
        recipient = case.patient.phone if channel == "sms" else case.patient.email
    return Reminder.objects.create(
        case=case,
        rule=rule,
        kind=kind,
        audience=rule.audience,
        channel=channel,
        recipient=recipient,
        drug=held.drug if held else None,
        drug_code=held.drug.code if held else "",
        plan_version=case.plan_version,
        due_at=timezone.now(),
        send_by=timezone.now() + timedelta(hours=1),
    )


def words_in(text, words):
    return [word for word in words if re.search(word, text, flags=re.IGNORECASE)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", MessageKind.values)
def test_every_sms_is_short_keeps_its_accents_and_says_nothing_clinical(site, kind, language):
    case = book(site, language=language)

    message = render(reminder_for(case, kind, "sms"))

    text = message.text
    if language == "en":
        assert [char for char in text if char not in GSM7] == []
        assert len(text) <= SMS_MAX_CHARS, f"{len(text)} characters: {text}"
    else:
        assert len(text) <= SMS_MAX_UCS2, f"{len(text)} characters: {text}"
    assert sms_segments(text) <= 5
    assert text.endswith(STOP_LINE[language])
    assert site.phone in text or patient_link(case) in text
    assert words_in(text, NEVER_IN_SMS) == []
    assert "{" not in text
    assert "&#" not in text
    assert "&amp;" not in text
    assert FIRST_NAME[language] in text  # María keeps her accent


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("medication_hold", ["según", "médico", "cuál", "más"]),
        ("fasting", ["sólido", "después", "Líquidos"]),
        ("arrival", ["llevará"]),
        ("driver_ready", ["estará"]),
    ],
)
def test_a_spanish_sms_reads_with_its_accents(site, kind, words):
    case = book(site, language="es")

    text = render(reminder_for(case, kind, "sms")).text

    assert [word for word in words if word not in text] == []


def test_an_sms_goes_in_gsm7_unless_it_needs_a_letter_gsm7_lacks():
    english = "Margaret, see you on Tuesday. Reply STOP to opt out."
    spanish = "María, le esperamos el martes. Responda STOP para no recibir más mensajes."

    assert sms_fitted(english) == english
    assert sms_segments(english) == 1
    assert sms_fitted(spanish) == spanish
    assert sms_segments(spanish) == 2  # 75 characters: over UCS-2's 70 for one segment
    assert sms_segments("é ñ ü ¿ ¡ " * 9) == 1  # 90 characters that GSM-7 has
    assert sms_segments("a" * 161) == 2
    assert sms_segments("á" * 201) == 3


def test_typographic_punctuation_never_makes_an_sms_unicode():
    assert sms_fitted("It’s “today” – at 07:00") == 'It\'s "today" - at 07:00'


def test_an_sms_over_its_segments_is_refused_rather_than_cut():
    sms_fitted("a" * SMS_MAX_CHARS)
    sms_fitted("á" * SMS_MAX_UCS2)
    with pytest.raises(ValueError, match="over the length"):
        sms_fitted("a" * (SMS_MAX_CHARS + 1))
    with pytest.raises(ValueError, match="over the length"):
        sms_fitted("á" * (SMS_MAX_UCS2 + 1))


def test_an_english_patient_with_a_name_outside_gsm7_reads_it_as_written(site):
    case = case_made(site=site, patient={"first_name": "Zoë", "language": "en"})

    text = render(reminder_for(case, "confirmation", "sms")).text

    assert text.startswith("Zoë, you are booked at Riverside Spine Center")
    assert sms_segments(text) <= 5


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", PATIENT_KINDS)
def test_every_patient_email_has_a_subject_text_and_html(site, kind, language):
    case = book(site, language=language, channel="email")

    message = render(reminder_for(case, kind, "email"))

    assert message.channel == "email"
    assert message.subject.strip()
    assert "\n" not in message.subject
    assert FIRST_NAME[language] in message.text
    assert site.phone in message.text
    assert "{" not in message.text + message.subject
    # Plain text is not HTML: the clinic's apostrophe and ampersand arrive as typed.
    assert "&#" not in message.text
    assert "&amp;" not in message.text
    assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'lang="{language}"' in message.html
    assert f'href="{patient_link(case)}"' in message.html
    assert site.name in message.html
    assert site.phone in message.html
    assert "St Luke&#x27;s" in message.html  # escaped once, not twice
    forbidden = NEVER_IN_EMAIL if kind in ("medication_hold", "reschedule_notice") else NEVER_IN_SMS
    assert words_in(message.text + message.subject + message.html, forbidden) == []
    attached = [name for name, _content, _mime in message.attachments]
    assert attached == (["appointment.ics"] if kind in ICS_KINDS else [])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_confirmation_email_carries_the_appointment_as_a_calendar_file(
    site, language
):
    case = book(site, language=language, channel="email")

    message = render(reminder_for(case, "confirmation", "email"))

    (name, content, mime), = message.attachments
    assert (name, mime) == ("appointment.ics", "text/calendar")
    event, = Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("dtstart") == case.arrival_at
    description = str(event["description"])
    assert "07:00" in description  # arrival in New York, not 12:00 UTC
    assert site.name in description
    assert "120 River Road" in description
    assert "&#" not in description
    expected = {"en": ("Please arrive at 07:00", "photo ID"),
                "es": ("Llegue a las 07:00 del martes 3 de marzo", "identidad con foto")}
    for phrase in expected[language]:
        assert phrase in description
    title = {"en": "Riverside Spine Center: appointment", "es": "Riverside Spine Center: cita"}
    assert str(event["summary"]) == title[language]


def test_the_confirmation_email_gives_fasting_cut_offs_as_clock_times(site):
    case = book(site, channel="email")  # procedure Tuesday 08:30 New York

    text = render(reminder_for(case, "confirmation", "email")).text

    assert "Please arrive at 07:00" in text
    assert "after 00:30 on Tuesday 3 March" in text
    assert "Until 06:30 on Tuesday 3 March" in text
    assert "An adult must take you home" in text or "an adult must take you home" in text
    assert "Photo ID" in text
    assert "Slip-on shoes" in text
    assert "Use entrance B & take the lift" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_medication_hold_email_names_the_drug_and_defers_to_the_care_team(
    site, language
):
    case = book(site, language=language, channel="email")

    message = render(reminder_for(case, "medication_hold", "email"))

    assert "Warfarin" in message.text
    assert "Warfarin" not in message.subject
    care_team = {"en": "follow the instructions your care team gave you",
                 "es": "Siga las instrucciones que le dio su equipo médico"}[language]
    assert care_team in message.text
    first_day = {"en": "Thursday 26 February", "es": "jueves 26 de febrero"}[language]
    assert first_day in message.text


def test_a_spanish_speaking_patient_reads_spanish(site):
    case = book(site, language="es", channel="email")
    case.patient.preferred_channel = "sms"

    sms = render(reminder_for(case, "confirmation", "sms")).text
    email = render(reminder_for(case, "confirmation", "email"))

    assert sms.startswith("María, tiene cita en Riverside Spine Center el martes 3 de marzo")
    assert "llegue a las 07:00" in sms
    assert "confírmela" in sms
    assert sms.endswith("Responda STOP para no recibir más mensajes.")
    assert email.subject == "Su cita en Riverside Spine Center el martes 3 de marzo"
    assert "Estimado/a María:" in email.text
    assert "Qué traer" in email.text
    # The wrapper comes from the catalogue (locale/es), the body from the Spanish templates.
    assert "Ver mi cita" in email.html
    assert "Teléfono:" in email.html
    assert 'aria-roledescription="correo electrónico"' in email.html
    assert "Please" not in email.text + email.html
    assert "Phone" not in email.html


def test_an_english_speaking_patient_reads_english(site):
    case = book(site, language="en")

    sms = render(reminder_for(case, "confirmation", "sms")).text

    assert sms.startswith("Margaret, you are booked at Riverside Spine Center on Tuesday 3 March")
    assert sms.endswith("Reply STOP to opt out.")
    email = render(reminder_for(case, "confirmation", "email"))
    assert "See my appointment" in email.html
    assert "Phone:" in email.html


def test_a_rule_with_its_own_sms_text_is_sent_in_that_text(site):
    case = book(site)
    reminder = reminder_for(case, "confirmation", "sms")
    reminder.rule.sms_text = "Hi {{ first_name }}, {{ clinic }} expects you at {{ arrival_time }}."
    reminder.rule.save(update_fields=["sms_text"])

    text = render(reminder).text

    assert text == (
        "Hi Margaret, Riverside Spine Center expects you at 07:00. Reply STOP to opt out."
    )


def rule_with_text(sms_text):
    return ReminderRule(kind="confirmation", audience="patient", anchor="booking",
                        sms_text=sms_text)


def test_a_rule_naming_an_unknown_variable_is_refused_with_its_name():
    rule = rule_with_text("Hi {{ frist_name }}, see you at {{ clinic }}.")

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    messages = refused.value.message_dict["sms_text"]
    assert any("{{ frist_name }}" in message for message in messages), messages
    assert not any("{{ clinic }}," in message.split("You can use")[0] for message in messages)


def test_a_rule_using_known_variables_is_accepted():
    rule_with_text("Hi {{ first_name }}, {{ clinic }} on {{ date }}: {{ link }}").full_clean()


@pytest.mark.parametrize("kind", PATIENT_KINDS)
def test_every_patient_kind_has_its_templates_in_every_language(kind):
    ReminderRule(kind=kind, audience="patient", anchor="booking").full_clean()
