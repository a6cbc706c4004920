"""Message text from templates, per language: templates/notifications/<channel>/<lang>/<kind>.*

SMS say the minimum (decision 3): first name, clinic, date and time, the patient link and the
clinic's phone; never the procedure or a diagnosis. They end with the opt-out line.

An SMS goes in GSM-7 when every character is in its basic set (English, and any text whose only
accents are é, ñ, ü), at most two segments of 153 characters. A text that needs any other
character (Spanish á í ó ú, a name such as Zoë) goes as UCS-2 (Unicode), where a segment holds 67
characters, so that the patient reads "según" and "sólido", not "segun" and "solido"; at most
five segments. Fewer would not do: the link (about 80 characters with a test address, some 20
more in production), the clinic's phone and the opt-out line take about 170 of the 201 characters
of three segments, leaving too few to give a date and a time; the Spanish texts take four
segments, five with a production address or a long clinic name. A text longer than its limit is
refused rather than cut (the dispatcher records the failure and the front desk is told).
"""

import math
import unicodedata
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.template import Context, Template, TemplateDoesNotExist, TemplateSyntaxError, Variable
from django.template.base import VariableNode
from django.template.loader import get_template, render_to_string
from django.utils import formats, translation
from django.utils.translation import pgettext

from . import planning
from .backends import OutgoingMessage
from .ics import appointment_ics
from .languages import LANGUAGES, language_code
from .links import patient_link

SMS_MAX_CHARS = 306  # two concatenated GSM-7 segments of 153 characters
SMS_MAX_UCS2 = 335  # five concatenated UCS-2 segments of 67 UTF-16 units

# Every character of the GSM 03.38 basic set (the extension table is left out on purpose:
# its characters count double).
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Typographic punctuation says nothing plain punctuation does not: it never makes a text UCS-2.
PLAIN_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def to_gsm7(text: str) -> str:
    """The text in GSM-7: accents outside the set dropped (María -> Maria), others replaced."""
    out = []
    for char in text.translate(PLAIN_PUNCTUATION):
        if char in GSM7:
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        out.append(base if base in GSM7 else "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7 for char in text)


def ucs2_units(text: str) -> int:
    """The length a UCS-2 (UTF-16) SMS counts: a character beyond the basic plane takes two."""
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many segments a phone receives (and the provider bills) for this text."""
    if is_gsm7(text):
        return 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    units = ucs2_units(text)
    return 1 if units <= 70 else math.ceil(units / 67)


def sms_fitted(text: str) -> str:
    """The text as it is sent, on one line: GSM-7 within two segments, else UCS-2 within five."""
    text = " ".join(text.translate(PLAIN_PUNCTUATION).split())
    fits = (len(text) <= SMS_MAX_CHARS) if is_gsm7(text) else (ucs2_units(text) <= SMS_MAX_UCS2)
    if fits:
        return text
    raise ValueError(f"SMS of {len(text)} characters is over the length an SMS may have")


def language_of(reminder) -> str:
    return language_code(reminder.case.patient.language)


def sms_text(name: str, language: str, context: dict) -> str:
    """A reply text from templates/notifications/sms/<language>/<name>.txt."""
    with translation.override(language):
        return sms_fitted(_render(f"notifications/sms/{language}/{name}.txt", context))


DAY_FORMAT = "l j F"  # "Tuesday 3 March"; each language gives its own in its catalogue
HELD_DRUG_KINDS = ("medication_hold", "reschedule_notice")  # emails that list the held drugs
CONTEXT_KEYS = (
    "first_name", "clinic", "clinic_phone", "address", "directions", "date", "arrival_time",
    "procedure_date", "solids_until", "solids_until_day", "clear_liquids_until", "pickup_time",
    "driver_name", "link", "hold_starts_on", "hold_count", "new_arrival_time",
)


def context_for(reminder) -> dict:
    case = reminder.case
    site = case.site
    zone = site.zone
    language = language_of(reminder)

    def when(instant: datetime, fmt: str) -> str:
        with translation.override(language):
            if fmt == DAY_FORMAT:
                fmt = day_format()
            return formats.date_format(instant.astimezone(zone), fmt)

    hold_on = _hold_day(reminder)
    pickup = None
    if reminder.audience == "driver" or reminder.channel == "email":  # patient SMS never need it
        pickup = pickup_time(case)
    context = {
        "first_name": case.patient.first_name,
        "clinic": site.name,
        "clinic_phone": site.phone,
        "address": site.address,
        "directions": site.directions,
        "date": when(case.procedure_start, DAY_FORMAT),
        "arrival_time": when(case.arrival_at, "H:i"),
        # A running-late notice: the planned arrival moved by the delay it was sent for.
        "new_arrival_time": when(
            case.arrival_at + timedelta(minutes=reminder.running_late_delay), "H:i"
        ),
        "procedure_date": when(case.procedure_start, "Y-m-d"),
        "solids_until": when(case.fasting_solids_until, "H:i"),
        "solids_until_day": when(case.fasting_solids_until, DAY_FORMAT),
        "clear_liquids_until": when(case.fasting_clear_liquids_until, "H:i"),
        "pickup_time": when(pickup, "H:i") if pickup else "",
        "driver_name": case.driver_name,
        "link": patient_link(case),
        "hold_starts_on": when(_midday(hold_on, zone), DAY_FORMAT) if hold_on else "",
        # How many medicines pause that day: a number, so an SMS can say "some" without names.
        "hold_count": _hold_count(reminder, hold_on),
        # What a reschedule notice says besides the new time: "fasting", "bring" or a hold day.
        "carries": reminder.note if reminder.kind == "reschedule_notice" else "",
    }
    if reminder.channel == "email" and reminder.kind in HELD_DRUG_KINDS:
        # Only an email names a held drug, never an SMS.
        held = sorted(case.held_medications.select_related("drug"),
                      key=lambda h: (h.hold_starts_on, h.drug.name))
        if reminder.drug_id:  # a row planned per drug, before they were grouped by day
            context["drug_names"] = [reminder.drug.name]
        else:
            context["drug_names"] = [h.drug.name for h in held if h.hold_starts_on == hold_on]
        context["held_medicines"] = [
            {"name": h.drug.name, "first_day": when(_midday(h.hold_starts_on, zone), DAY_FORMAT)}
            for h in held
        ]
    return context


def day_format() -> str:
    """The active language's way of writing a day with its weekday (Spanish: "martes 3 de
    marzo")."""
    # Translators: a date format, as Django's date filter reads it: l weekday, j day, F month;
    # a letter to show as it is takes a backslash (\d\e).
    return pgettext("date format: weekday, day and month", "l j F")


def pickup_time(case) -> datetime:
    """When the patient should be ready to go home: the end of recovery, projected from its
    actual start once it has begun (a recovery lasts as long as planned)."""
    stages = list(case.stages.all())
    if not stages:
        return case.arrival_at
    last = stages[-1]
    if last.actual_start is not None:
        return last.actual_start + (last.planned_end - last.planned_start)
    return max(stage.planned_end for stage in stages)


def _hold_day(reminder):
    """The first day without the drugs a message is about: named in its note (a hold message,
    or a notice carrying one), or, for a row planned per drug, that drug's."""
    day = planning.hold_day(reminder.note)
    if day is None and reminder.drug_code:
        held = [h for h in reminder.case.held_medications.all()
                if h.drug.code == reminder.drug_code]
        day = held[0].hold_starts_on if held else None
    return day


def _hold_count(reminder, hold_on) -> int:
    if reminder.drug_id:  # a row planned per drug
        return 1
    if hold_on is None:
        return 0
    return sum(1 for h in reminder.case.held_medications.all() if h.hold_starts_on == hold_on)


def _midday(day, zone) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=zone)


def render(reminder) -> OutgoingMessage:
    with translation.override(language_of(reminder)):
        return _render_message(reminder)


def _render_message(reminder) -> OutgoingMessage:
    language = language_of(reminder)
    context = context_for(reminder)
    kind = reminder.kind
    if reminder.channel == "sms":
        text = _render_sms(reminder.rule, kind, language, context)
        return OutgoingMessage(channel="sms", to=reminder.recipient, text=text,
                               reminder_id=reminder.pk)
    subject = _render(f"notifications/email/{language}/{kind}_subject.txt", context).strip()
    text = _render(f"notifications/email/{language}/{kind}.txt", context).strip() + "\n"
    html = render_to_string(
        "notifications/email/base.html",
        {**context, "subject": subject, "body": text, "language": language},
    )
    attachments = ()
    if kind in ("confirmation", "arrival", "reschedule_notice", "what_to_bring"):
        attachments = (("appointment.ics", appointment_ics(reminder.case), "text/calendar"),)
    return OutgoingMessage(channel="email", to=reminder.recipient, subject=subject, text=text,
                           html=html, attachments=attachments, reminder_id=reminder.pk)


def _render_sms(rule, kind: str, language: str, context: dict) -> str:
    if rule.sms_text:
        body = Template(rule.sms_text).render(Context(context, autoescape=False))
    else:
        body = _render(f"notifications/sms/{language}/{kind}.txt", context).strip()
    stop = _render(f"notifications/sms/{language}/_stop.txt", context).strip()
    return sms_fitted(body + " " + stop)


def _render(name: str, context: dict) -> str:
    # Plain text: no HTML escaping (a clinic called "St Luke's & Co" stays as it is).
    return get_template(name).template.render(Context(context, autoescape=False))


def template_names(*, kind: str, audience: str, language: str) -> list[str]:
    """The templates a message of this kind needs in a language: a driver is only texted; a
    patient is texted or emailed (their preferred channel, else the other)."""
    sms = f"notifications/sms/{language}/{kind}.txt"
    if audience == "driver":
        return [sms]
    return [
        sms,
        f"notifications/email/{language}/{kind}.txt",
        f"notifications/email/{language}/{kind}_subject.txt",
    ]


def check_rule_templates(rule) -> None:
    """Refuse a rule whose message templates are missing or do not compile, with a message for
    the admin who saved it."""
    problems = []
    for language in LANGUAGES:
        for name in template_names(kind=rule.kind, audience=rule.audience, language=language):
            try:
                get_template(name)
            except TemplateDoesNotExist:
                problems.append(f"there is no template {name}")
            except TemplateSyntaxError as exc:
                problems.append(f"{name} does not compile: {exc}")
    if problems:
        raise ValidationError(
            {"kind": "This kind of message cannot be sent: " + "; ".join(problems) + "."}
        )
    if rule.sms_text:
        unknown = sorted(set(_variables(rule.sms_text)) - set(CONTEXT_KEYS))
        if unknown:
            raise ValidationError(
                {
                    "sms_text": "Unknown variable(s): "
                    + ", ".join(f"{{{{ {name} }}}}" for name in unknown)
                    + ". You can use: "
                    + ", ".join(CONTEXT_KEYS)
                    + "."
                }
            )


def _variables(source: str) -> list[str]:
    try:
        template = Template(source)
    except TemplateSyntaxError as exc:
        raise ValidationError({"sms_text": f"The text does not compile: {exc}"}) from None
    names = []
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        var = node.filter_expression.var
        if isinstance(var, Variable) and var.lookups:
            names.append(var.lookups[0])
    return names
