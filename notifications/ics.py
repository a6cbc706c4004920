"""The appointment as an iCalendar file: arrival time, place and what to bring."""

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone
from icalendar import Calendar, Event

from scheduling.models import RELEASED_STATUSES


def appointment_ics(case) -> bytes:
    site = case.site
    language = (case.patient.language or "en")[:2].lower()
    calendar = Calendar()
    calendar.add("prodid", "-//Vertebro//Appointment//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"case-{case.pk}@vertebro")
    event.add("dtstamp", timezone.now())
    event.add("status", "CANCELLED" if case.status in RELEASED_STATUSES else "CONFIRMED")
    event.add("summary", f"{site.name}: appointment")
    event.add("dtstart", case.arrival_at)
    end = max((stage.planned_end for stage in case.stages.all()), default=case.arrival_at)
    event.add("dtend", end)
    event.add("location", site.address or site.name)
    event.add("sequence", case.plan_version)
    try:
        description = render_to_string(f"notifications/ics/{language}.txt", {"case": case})
    except TemplateDoesNotExist:  # a language without a translation falls back to English
        description = render_to_string("notifications/ics/en.txt", {"case": case})
    event.add("description", description.strip())
    calendar.add_component(event)
    return calendar.to_ical()
