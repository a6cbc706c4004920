"""Every report of one period at one site, as the reports page shows them: the four reports of
the stages share one working out of the period's stage figures."""

from dataclasses import dataclass

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
