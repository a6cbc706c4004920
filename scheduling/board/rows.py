"""The rows the day board reads: the day's cases and their active stages, as plain values.

The board shows a few columns of each case and stage; loading them as model instances (three per
case, one per stage) and parsing ~6,000 timestamps with Django's loader cost a 300-case board
more than everything else it does (bench/board.py). So:
- cases and stages come back as tuples (`values_list`), and a case becomes a small `BoardCase`;
- on PostgreSQL the rows are fetched with psycopg's own timestamptz loader. Django registers a
  subclass of psycopg's pure-Python loader (to pin the time zone), which keeps psycopg's C loader
  from ever being used; the database session's zone is UTC either way (Django sets it), so the
  instants are the same aware UTC datetimes, parsed several times faster.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from notifications.models import case_not_reached, case_running_late_told

from ..closure_models import case_on_closed_day
from ..models import Case, CaseMedication, CaseStatus, Site, Stage
from .projection import StageFacts

STATUS_LABELS = dict(CaseStatus.choices)
CASE_COLUMNS = (
    "id", "status", "day", "levels", "arrival_at", "procedure_start", "driver_name",
    "driver_phone", "screening_override_reason", "procedure_type__code", "surgeon__code",
    "not_reached", "inr_check", "procedure_type_id", "inr", "driver_present_at",
    "told_note", "told_at", "on_closed_day",
    "patient_id", "patient__first_name", "patient__last_name", "patient__mrn", "patient__phone",
    "patient__email", "patient__allergy_contrast", "patient__allergy_latex",
)
PATIENT_AT = CASE_COLUMNS.index("patient_id")
STAGE_COLUMNS = tuple(StageFacts.__dataclass_fields__)


@dataclass(slots=True, eq=False)
class BoardPatient:
    id: int
    first_name: str
    last_name: str
    mrn: str
    phone: str
    email: str
    allergy_contrast: bool
    allergy_latex: bool

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True, eq=False)
class BoardCase:
    """What the board shows of a case. Equal to the Case it was read from (same id)."""

    id: int
    status: str
    day: date
    levels: int
    arrival_at: datetime
    procedure_start: datetime
    driver_name: str
    driver_phone: str
    screening_override_reason: str
    procedure_type_code: str
    surgeon_code: str | None
    not_reached: bool
    inr_check: bool  # a held drug asks for an INR check on the day
    procedure_type_id: int
    inr: Decimal | None
    driver_present_at: datetime | None
    # The newest running-late notice the patient was given in this plan ("delay:45") and when.
    told_note: str | None
    told_at: datetime | None
    on_closed_day: bool  # a closure covers its day, a room or bay of it, or its surgeon
    patient: BoardPatient
    site: Site

    @property
    def pk(self) -> int:
        return self.id

    def get_status_display(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __eq__(self, other) -> bool:
        if isinstance(other, BoardCase | Case):
            return other.pk == self.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)


def cases_of_day(site: Site, day: date) -> list[BoardCase]:
    """The day's cases in the order of their procedures, with their patients, flags and the
    later arrival they were told, if any."""
    inr_check = CaseMedication.objects.filter(case=OuterRef("pk"), drug__inr_check=True)
    query = (
        Case.objects.filter(site=site, day=day)
        .annotate(
            not_reached=case_not_reached(),
            inr_check=Exists(inr_check),
            told_note=case_running_late_told("note"),
            told_at=case_running_late_told("created_at"),
            on_closed_day=case_on_closed_day(),
        )
        .order_by("procedure_start", "pk")
        .values_list(*CASE_COLUMNS)
    )
    return [
        BoardCase(*row[:PATIENT_AT], BoardPatient(*row[PATIENT_AT:]), site)
        for row in values_rows(query)
    ]


def stages_of_day(site: Site, day: date) -> list[StageFacts]:
    """The active stages of the day's cases, each case's in order."""
    query = (
        Stage.objects.filter(case__site=site, case__day=day, active=True)
        .order_by("case_id", "position")
        .values_list(*STAGE_COLUMNS)
    )
    return [StageFacts(*row) for row in values_rows(query)]


def values_rows(query: QuerySet) -> list[tuple]:
    """The rows of a values_list query; on PostgreSQL timestamps are read by psycopg's C loader,
    several times faster than Django's for the thousands a busy day or a year of reports holds."""
    if connection.vendor != "postgresql":
        return list(query)
    return sql_rows(*query.query.sql_with_params())


def sql_rows(sql: str, params) -> list[tuple]:
    """The rows of a PostgreSQL statement, its timestamps read by psycopg's C loader."""
    from psycopg.types.datetime import TimestamptzLoader

    with connection.cursor() as cursor:
        # This cursor only: psycopg swaps in its C loader for its own class.
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        return cursor.fetchall()
