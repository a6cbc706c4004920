"""Each report as a table with a stable header row, for CSV export.

Times are wall-clock times in the site's zone; numbers are plain numbers (no % sign), so a
spreadsheet can sum them.
"""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import datetime

from ..models import Site
from .durations import durations_get
from .outcomes import outcomes_get
from .period import Period, week_label
from .usage import first_cases_get, turnovers_get, utilisation_get
from .volume import cancellations_get, messages_get

# A spreadsheet reads a cell starting with one of these as a formula; a resource or procedure
# type name typed by an admin must stay text (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def utilisation_table(site: Site, period: Period) -> Iterable[list]:
    report = utilisation_get(site=site, period=period)
    yield ["week", "resource", "kind", "open_minutes", "planned_minutes", "actual_minutes",
           "planned_pct", "actual_pct"]
    for line in report.resources + report.kinds:
        weeks = [(week_label(week), use) for week, use in line.weeks.items()]
        for label, use in weeks + [("all", line.total)]:
            yield [label, line.name, line.kind, round(use.open_minutes),
                   round(use.planned_minutes), round(use.actual_minutes),
                   use.planned_pct, use.actual_pct]


def first_case_table(site: Site, period: Period) -> Iterable[list]:
    report = first_cases_get(site=site, period=period)
    yield ["date", "room", "planned_start", "actual_start", "delay_minutes", "on_time"]
    for first in report.days:
        on_time = {None: "not started", True: "yes", False: "no"}[first.on_time]
        yield [first.day.isoformat(), first.room, _local(first.planned_start, period),
               _local(first.actual_start, period), first.delay_minutes, on_time]


def turnover_table(site: Site, period: Period) -> Iterable[list]:
    report = turnovers_get(site=site, period=period)
    yield ["date", "room", "room_released", "next_procedure_start", "turnover_minutes",
           "planned_minutes"]
    for gap in report.gaps:
        yield [gap.day.isoformat(), gap.room, _local(gap.released_at, period),
               _local(gap.next_start, period), gap.minutes, gap.planned_minutes]


def durations_table(site: Site, period: Period) -> Iterable[list]:
    report = durations_get(site=site, period=period)
    yield ["procedure_type", "stage", "levels", "stages_timed", "template",
           "template_minutes", "planned_median_minutes", "actual_median_minutes",
           "suggested_minutes", "change_minutes"]
    for line in report.lines:
        yield [line.procedure_type, line.stage, line.levels, line.count, line.template,
               line.template_minutes, line.planned_median, line.actual_median,
               line.suggested_minutes, line.change_minutes]


def cancellations_table(site: Site, period: Period) -> Iterable[list]:
    report = cancellations_get(site=site, period=period)
    yield ["week", "cases", "cancelled", "no_show", "cancelled_pct", "no_show_pct"]
    for week in report.weeks:
        yield [week_label(week.week), week.cases, week.cancelled, week.no_show,
               week.cancelled_pct, week.no_show_pct]


def messages_table(site: Site, period: Period) -> Iterable[list]:
    report = messages_get(site=site, period=period)
    yield ["week", "kind", "planned", "sent", "delivered", "failed", "confirmed"]
    for week in report.weeks:
        for kind, counts in sorted(week.kinds.items()):
            yield [week_label(week.week), kind, counts.planned, counts.sent, counts.delivered,
                   counts.failed, counts.confirmed]


def outcomes_table(site: Site, period: Period) -> Iterable[list]:
    report = outcomes_get(site=site, period=period)
    yield ["group", "name", "asked_when", "followup_day", "asked", "answered", "response_pct",
           "median_pain"]
    for line in report.lines:
        for moment, label, outcome in zip(
            report.moments, report.labels, line.moments, strict=True
        ):
            yield [line.group, line.name, "before" if moment is None else label.lower(), moment,
                   outcome.asked, outcome.answered, outcome.response_pct, outcome.median]


TABLES: dict[str, Callable[[Site, Period], Iterable[list]]] = {
    "utilisation": utilisation_table,
    "first-case": first_case_table,
    "turnover": turnover_table,
    "durations": durations_table,
    "cancellations": cancellations_table,
    "messages": messages_table,
    "outcomes": outcomes_table,
}


def csv_text(rows: Iterable[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(instant: datetime | None, period: Period) -> str:
    return "" if instant is None else instant.astimezone(period.zone).strftime("%Y-%m-%d %H:%M")
