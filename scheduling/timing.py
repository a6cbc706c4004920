"""Stage times, arrival time and fasting cut-offs of a case.

Pure functions: no ORM, no settings. Two rules keep them right across daylight-saving changes:

- Durations are added in UTC. Python adds a timedelta to a datetime in a ZoneInfo zone as wall-clock
  time, so a one-hour cement set started at 01:30 on the night clocks go forward would "end" at
  02:30, an instant that does not exist. Converting to UTC first makes every hour 3,600 s.
- Wall-clock rules (opening at 07:00, nothing after midnight) are placed in the site's zone, then
  converted to UTC.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRID_MINUTES = 5


@dataclass(frozen=True)
class StageRule:
    kind: str
    resource_kind: str
    base_minutes: int
    minutes_per_extra_level: int = 0
    needs_surgeon: bool = False
    turnover_minutes: int = 0
    minimum_minutes: int | None = None


# A vertebroplasty as DESIGN.md draws it ("The day of a case"): pre-op in a bay, the procedure
# (30 minutes more per extra level, the surgeon's, 15 minutes to turn the room over), the cement
# setting in the same room, two hours of recovery. The demo unit and the tests set a procedure
# type up from it; the planner's made-up days use it as it is.
VERTEBROPLASTY_RULES = (
    StageRule("pre_op", "pre_op_bay", 60),
    StageRule("procedure", "procedure_room", 60, 30, True, 15),
    StageRule("cement_set", "procedure_room", 60, minimum_minutes=60),
    StageRule("recovery", "recovery_bay", 120),
)


@dataclass(frozen=True)
class SiteRules:
    zone: ZoneInfo
    check_in_minutes: int = 30
    fasting_solids_hours: int = 8
    fasting_clear_liquids_hours: int = 2
    fasting_solids_from_midnight: bool = False


@dataclass(frozen=True)
class StageTime:
    kind: str
    resource_kind: str
    needs_surgeon: bool
    start: datetime
    end: datetime
    # When the room or bay is free again: the end, plus turnover when the patient leaves it.
    held_until: datetime
    # Consecutive stages on the same kind of resource share one room or bay (the patient stays in
    # the procedure room while the cement sets); stages of one hold share this number.
    hold: int


@dataclass(frozen=True)
class CaseTimes:
    procedure_start: datetime
    arrival_at: datetime
    stages: tuple[StageTime, ...]
    fasting_solids_until: datetime
    fasting_clear_liquids_until: datetime

    @property
    def ends_at(self) -> datetime:
        return self.stages[-1].end


def stage_minutes(rule: StageRule, levels: int) -> int:
    return rule.base_minutes + rule.minutes_per_extra_level * (levels - 1)


def anchor_index(rules: Sequence[StageRule]) -> int:
    """The stage the booked start refers to: the procedure (the first stage needing the surgeon)."""
    for index, rule in enumerate(rules):
        if rule.kind == "procedure":
            return index
    for index, rule in enumerate(rules):
        if rule.needs_surgeon:
            return index
    return 0


def case_times(
    rules: Sequence[StageRule], levels: int, procedure_start: datetime, site: SiteRules
) -> CaseTimes:
    if not rules:
        raise ValueError("A procedure type needs at least one stage.")
    if procedure_start.tzinfo is None:
        raise ValueError("procedure_start must be an aware datetime.")
    start_utc = procedure_start.astimezone(UTC)
    anchor = anchor_index(rules)

    starts: list[datetime] = [start_utc] * len(rules)
    cursor = start_utc
    for index in range(anchor - 1, -1, -1):
        cursor -= timedelta(minutes=stage_minutes(rules[index], levels))
        starts[index] = cursor
    cursor = start_utc
    for index in range(anchor, len(rules)):
        starts[index] = cursor
        cursor += timedelta(minutes=stage_minutes(rules[index], levels))

    stages = _with_holds(rules, levels, starts)
    arrival_at = stages[0].start - timedelta(minutes=site.check_in_minutes)
    solids_until, clear_until = fasting_cutoffs(start_utc, site)
    return CaseTimes(
        procedure_start=start_utc,
        arrival_at=arrival_at,
        stages=stages,
        fasting_solids_until=solids_until,
        fasting_clear_liquids_until=clear_until,
    )


def _with_holds(
    rules: Sequence[StageRule], levels: int, starts: Sequence[datetime]
) -> tuple[StageTime, ...]:
    holds: list[int] = []
    hold = 0
    for index, rule in enumerate(rules):
        if index and rules[index - 1].resource_kind != rule.resource_kind:
            hold += 1
        holds.append(hold)
    stages = []
    for index, rule in enumerate(rules):
        end = starts[index] + timedelta(minutes=stage_minutes(rule, levels))
        last_of_hold = index == len(rules) - 1 or holds[index + 1] != holds[index]
        turnover = max(
            r.turnover_minutes for r, h in zip(rules, holds, strict=True) if h == holds[index]
        )
        held_until = end + timedelta(minutes=turnover) if last_of_hold else end
        stages.append(
            StageTime(
                kind=rule.kind,
                resource_kind=rule.resource_kind,
                needs_surgeon=rule.needs_surgeon,
                start=starts[index],
                end=end,
                held_until=held_until,
                hold=holds[index],
            )
        )
    return tuple(stages)


def fasting_cutoffs(procedure_start: datetime, site: SiteRules) -> tuple[datetime, datetime]:
    """(no solids from, clear liquids until), following ASA fasting guidance as the site sets it."""
    start_utc = procedure_start.astimezone(UTC)
    solids = start_utc - timedelta(hours=site.fasting_solids_hours)
    if site.fasting_solids_from_midnight:
        local_day = start_utc.astimezone(site.zone).date()
        solids = min(solids, local_instant(local_day, time(0, 0), site.zone))
    clear = start_utc - timedelta(hours=site.fasting_clear_liquids_hours)
    return solids, clear


def local_instant(day: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day in a zone.

    A wall time skipped by a spring-forward change (02:30 in New York) is read with the offset
    in force before the change, so it lands just after it (03:30); a wall time that occurs twice
    when clocks go back is its first occurrence.
    """
    return datetime.combine(day, wall_time, tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def local_hm(instant: datetime, zone: ZoneInfo, *, locale: str | None = None) -> str:
    """The wall-clock time of an instant at a site: "07:30", or as the site's locale writes it
    ("7:30 AM" in en-US) when the locale is given."""
    local = instant.astimezone(zone)
    return clock_text(local.time(), locale=locale) if locale else f"{local:%H:%M}"


@dataclass(frozen=True)
class LocaleFormats:
    """How a site's staff write dates and times. Month and day names stay English: staff pages
    are in English; Spanish-speaking units read day-first dates and a 24-hour clock."""

    twelve_hour: bool
    short_date: str  # strftime, as a date of birth is typed
    long_date: str
    day_month: str
    day_month_year: str
    dates_typed: tuple[str, ...]  # strptime formats a typed date is read with, in order
    spellings: tuple[tuple[str, str], ...] = ()


LOCALES = {
    "en-US": LocaleFormats(
        twelve_hour=True, short_date="%m/%d/%Y", long_date="%A, %B %-d, %Y",
        day_month="%a %b %-d", day_month_year="%a %b %-d, %Y",
        dates_typed=("%m/%d/%Y", "%m-%d-%Y", "%Y-%m-%d"),
        spellings=(("tumour", "tumor"), ("Tumour", "Tumor"), ("jewellery", "jewelry"),
                   ("colour", "color"), ("haemoglobin", "hemoglobin")),
    ),
    "en-GB": LocaleFormats(
        twelve_hour=False, short_date="%d/%m/%Y", long_date="%A %-d %B %Y",
        day_month="%a %-d %b", day_month_year="%a %-d %b %Y",
        dates_typed=("%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"),
    ),
    "es": LocaleFormats(
        twelve_hour=False, short_date="%d/%m/%Y", long_date="%A %-d %B %Y",
        day_month="%a %-d %b", day_month_year="%a %-d %b %Y",
        dates_typed=("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"),
    ),
}
DEFAULT_LOCALE = "en-US"


def locale_formats(locale: str | None) -> LocaleFormats:
    return LOCALES.get(locale or DEFAULT_LOCALE, LOCALES[DEFAULT_LOCALE])


def clock_text(wall_time: time, *, locale: str | None) -> str:
    """"7:30 AM" on a 12-hour clock, "07:30" on a 24-hour one."""
    if locale_formats(locale).twelve_hour:
        return f"{wall_time:%I:%M %p}".lstrip("0")
    return f"{wall_time:%H:%M}"


def date_text(day: date, *, locale: str | None, style: str = "long") -> str:
    """A day as the site writes it: style "long" (Tuesday, March 3, 2026), "short" (03/03/2026),
    "day_month_year" (Tue Mar 3, 2026) or "day_month" (Tue Mar 3)."""
    formats = locale_formats(locale)
    pattern = {
        "long": formats.long_date, "short": formats.short_date,
        "day_month_year": formats.day_month_year,
    }.get(style, formats.day_month)
    return day.strftime(pattern)


def when_text(instant: datetime, zone: ZoneInfo, *, locale: str | None,
              style: str = "day_month") -> str:
    """The day and time of an instant at a site: "Tue Mar 3, 7:30 AM" in en-US, "Tue 3 Mar,
    07:30" in en-GB and es."""
    day = date_text(local_day(instant, zone), locale=locale, style=style)
    return f"{day}, {local_hm(instant, zone, locale=locale or DEFAULT_LOCALE)}"


def date_typed(text: str, *, locale: str | None) -> date | None:
    """A date as a clerk types it on this site (03/17/1944 in en-US, 17/03/1944 in en-GB and
    es, or ISO anywhere), or None. Four-digit years only: 03/17/44 could be 1944 or 2044."""
    text = text.strip()
    for pattern in locale_formats(locale).dates_typed:
        try:
            typed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return typed
    return None


def spelled(text: str, *, locale: str | None) -> str:
    """Staff wording in the site's spelling ("tumour" is "tumor" in en-US)."""
    for british, local in locale_formats(locale).spellings:
        text = text.replace(british, local)
    return text


def is_on_grid(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.second == 0 and local.microsecond == 0 and local.minute % GRID_MINUTES == 0


def next_on_grid(instant: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at or after `instant` that falls on the site's 5-minute wall-clock grid."""
    local = instant.astimezone(zone)
    minute = local.minute - local.minute % GRID_MINUTES
    floor = local.replace(minute=minute, second=0, microsecond=0)
    result = floor.astimezone(UTC)
    if result < instant.astimezone(UTC):
        result += timedelta(minutes=GRID_MINUTES)
    return result


def medication_hold_starts_on(procedure_day: date, hold_days: int) -> date:
    """The first day without the drug: held `hold_days` whole days before the procedure day."""
    return procedure_day - timedelta(days=hold_days)
