"""The appointment as an iCalendar file: arrival time, place and what to bring, in the patient's
language (templates/notifications/ics/<language>.txt and the catalogue for its title)."""

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from icalendar import Calendar, Event

from scheduling.models import RELEASED_STATUSES

from .languages import language_code


def appointment_ics(case) -> bytes:
    site = case.site
    language = language_code(case.patient.language)
    calendar = Calendar()
    calendar.add("prodid", "-//Vertebro//Appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"case-{case.pk}@vertebro")
    event.add("dtstamp", timezone.now())
    event.add("status", "CANCELLED" if case.status in RELEASED_STATUSES else "CONFIRMED")
    with translation.override(language):
        # Translators: the title of the appointment in the patient's calendar.
        event.add("summary", gettext("%(clinic)s: appointment") % {"clinic": site.name})
    event.add("dtstart", case.arrival_at)
    end = max((stage.planned_end for stage in case.stages.all()), default=case.arrival_at)
    event.add("dtend", end)
    event.add("location", site.address or site.name)
    event.add("sequence", case.plan_version)
    description = render_to_string(f"notifications/ics/{language}.txt", {"case": case})
    event.add("description", description.strip())
    calendar.add_component(event)
    return calendar.to_ical()
