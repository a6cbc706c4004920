"""Every report of one period at one site, as the reports page shows them: the four reports of
the stages share one working out of the period's stage figures."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from ..models import Site
from .durations import Durations, durations_get
from .outcomes import Outcomes, outcomes_get
from .period import Period
from .stages import PeriodStages
from .usage import (
    FirstCases,
    Turnovers,
    Utilisation,
    first_cases_get,
    turnovers_get,
    utilisation_get,
)
from .volume import Cancellations, Messages, cancellations_get, messages_get


@dataclass(frozen=True)
class Reports:
    utilisation: Utilisation
    first_cases: FirstCases
    turnovers: Turnovers
    durations: Durations
    cancellations: Cancellations
    messages: Messages
    outcomes: Outcomes


def reports_get(*, site: Site, period: Period) -> Reports:
    with _reads_without_parallel_workers():
        stages = PeriodStages.load(site=site, period=period)
        return Reports(
            utilisation=utilisation_get(site=site, period=period, stages=stages),
            first_cases=first_cases_get(site=site, period=period, stages=stages),
            turnovers=turnovers_get(site=site, period=period, stages=stages),
            durations=durations_get(site=site, period=period, stages=stages),
            cancellations=cancellations_get(site=site, period=period),
            messages=messages_get(site=site, period=period),
            outcomes=outcomes_get(site=site, period=period),
        )


@contextmanager
def _reads_without_parallel_workers() -> Iterator[None]:
    """PostgreSQL plans a parallel worker for most of the reports' reads (a site's year is a few
    thousand cases), and on a busy machine starting one took longer than the half of the read
    it took over: 10-15 ms before the first row, against 3-4 ms of work (EXPLAIN ANALYZE at
    200,000 cases, bench/history.py). The reports' reads run in one transaction without them."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
