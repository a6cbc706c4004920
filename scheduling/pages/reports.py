"""The reports page for the unit's managers (admin role) and its CSV exports, for one of the
sites they work at and a range of days (by default the last four complete weeks)."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from .. import horizon, reports, roles, selectors
from ..errors import SchedulingError
from ..models import ResourceKind
from ..reports.charts import bar_chart
from ..reports.export import TABLES, csv_text
from ..reports.period import MAX_DAYS, week_label
from .access import role_required


class PeriodForm(forms.Form):
    start = forms.DateField(
        label="From", required=False,
        error_messages={"invalid": "Give the first day as a date (YYYY-MM-DD)."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label="To (inclusive)", required=False,
        error_messages={"invalid": "Give the last day as a date (YYYY-MM-DD)."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, data, *, default: reports.Period):
        super().__init__(data)
        self.default = default
        self.period = default

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        today = timezone.now().astimezone(self.default.zone).date()
        for name, day in (("start", start), ("end", end)):
            try:
                if day is not None:
                    horizon.day_shown_check(day=day, today=today, field=name)
            except SchedulingError as error:
                self.add_error(name, error.detail)
        if self.errors:
            return cleaned
        # One date alone: four weeks from (or up to) it, like the default.
        span = self.default.end - self.default.start
        if start is None:
            start = end - span if end else self.default.start
        if end is None:
            end = start + span
        if end < start:
            raise forms.ValidationError(
                f"The last day ({end:%-d %b %Y}) is before the first day ({start:%-d %b %Y}): "
                "choose a last day on or after the first."
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                f"A report covers at most one year ({MAX_DAYS} days); from {start:%-d %b %Y} to "
                f"{end:%-d %b %Y} is {(end - start).days + 1} days. Choose a shorter range."
            )
        self.period = reports.Period(start, end, self.default.zone)
        return cleaned


def _site_and_form(request):
    """(sites, site, form); unknown or another site's code answers 404."""
    sites = list(selectors.visible_sites(request.user))
    code = request.GET.get("site", "")
    site = next((s for s in sites if s.code == code), None) if code else (sites or [None])[0]
    if code and site is None:
        raise Http404("No such site.")
    form = None
    if site is not None:
        form = PeriodForm(request.GET, default=reports.period_default(site.zone, timezone.now()))
    return sites, site, form


@role_required(roles.ADMIN)
def reports_page(request):
    sites, site, form = _site_and_form(request)
    if site is None:
        messages.info(request, "You do not work at any site yet: ask an administrator.")
        return render(request, "pages/reports.html", {"site": None})
    context = {"sites": sites, "site": site, "form": form}
    valid = form.is_valid()
    context["start_value"] = request.GET.get("start") or form.period.start.isoformat()
    context["end_value"] = request.GET.get("end") or form.period.end.isoformat()
    if valid:
        period = form.period
        context |= _report_context(site, period)
        context["csv_query"] = urlencode(
            {"site": site.code, "start": period.start.isoformat(), "end": period.end.isoformat()}
        )
    with timezone.override(site.zone):
        return render(request, "pages/reports.html", context)


@role_required(roles.ADMIN)
def reports_csv(request, report: str):
    table = TABLES.get(report)
    if table is None:
        raise Http404("No such report.")
    _, site, form = _site_and_form(request)
    if site is None:
        raise Http404("No site.")
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return HttpResponse(
            " ".join(problems), status=400, content_type="text/plain; charset=utf-8"
        )
    period = form.period
    response = HttpResponse(csv_text(table(site, period)), content_type="text/csv; charset=utf-8")
    name = f"vertebro-{report}-{site.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _report_context(site, period) -> dict:
    found = reports.reports_get(site=site, period=period)  # the stages read once for all
    use, firsts, turnovers = found.utilisation, found.first_cases, found.turnovers
    durations, cancellations = found.durations, found.cancellations
    sent, outcomes = found.messages, found.outcomes
    weeks = [week_label(week) for week in period.weeks]
    rooms = next(
        (line for line in use.kinds if line.kind_code == ResourceKind.PROCEDURE_ROOM), None
    )
    return {
        "period": period,
        "weeks": weeks,
        "on_time_minutes": reports.ON_TIME_MINUTES,
        "utilisation": use,
        "first_cases": firsts,
        "turnovers": turnovers,
        "durations": durations,
        "cancellations": cancellations,
        "cancellation_weeks": list(zip(weeks, cancellations.weeks, strict=False)),
        "messages_report": sent,
        "message_weeks": list(zip(weeks, sent.weeks, strict=False)),
        "outcomes": outcomes,
        "charts": {
            "utilisation": bar_chart(
                title="Share of open time used, per room and bay", series=["Planned", "Actual"],
                rows=[(line.name, [line.total.planned_pct, line.total.actual_pct])
                      for line in use.resources],
                unit="%", scale_max=100,
            ),
            "utilisation_weeks": rooms and bar_chart(
                title="Procedure rooms: share of open time used, per week",
                series=["Planned", "Actual"],
                rows=[(label, [u.planned_pct, u.actual_pct])
                      for label, u in zip(weeks, rooms.by_week, strict=False)],
                unit="%", scale_max=100,
            ),
            "first_cases": bar_chart(
                title=f"First cases started within {reports.ON_TIME_MINUTES} minutes, per week",
                series=["On time"], rows=[(label, [rate.pct]) for label, rate in
                                          zip(weeks, firsts.weeks, strict=False)],
                unit="%", scale_max=100,
            ),
            "turnovers": bar_chart(
                title="Room turnover (median minutes)", series=["Actual", "Planned"],
                rows=[(room.room, [room.median, room.planned_median])
                      for room in turnovers.rooms],
                unit=" min",
            ),
            "durations": bar_chart(
                title="Stages furthest from their template: template and median actual (minutes)",
                series=["Template", "Median actual"],
                rows=[(f"{line.procedure_type} · {line.stage}, {line.levels} "
                       f"level{'s' if line.levels > 1 else ''}",
                       [line.template_minutes, line.actual_median])
                      for line in _furthest(durations.lines)],
                unit=" min", label_width=270,
            ),
            "cancellations": bar_chart(
                title="Cancelled and no-show cases, share of the week's cases",
                series=["Cancelled", "No-show"],
                rows=[(label, [week.cancelled_pct, week.no_show_pct])
                      for label, week in zip(weeks, cancellations.weeks, strict=False)],
                unit="%",
            ),
            "messages": bar_chart(
                title="Messages per week", series=["Sent", "Delivered", "Failed", "Confirmed"],
                rows=[(label, [week.total.sent, week.total.delivered, week.total.failed,
                               week.total.confirmed])
                      for label, week in zip(weeks, sent.weeks, strict=False)],
            ),
            "outcomes": bar_chart(
                title="Median pain (0-10) before the procedure and after it",
                series=outcomes.labels,
                rows=[(line.name, [moment.median for moment in line.moments])
                      for line in outcomes.lines],
                scale_max=10, label_width=190,
            ),
        },
    }


def _furthest(lines, count: int = 6):
    """The stage lines whose suggestion moves furthest from the template, in table order: the
    full list is in the table below the chart."""
    moved = [line for line in lines if line.change_minutes]
    chosen = sorted(moved, key=lambda line: -abs(line.change_minutes))[:count]
    return [line for line in lines if line in chosen]
