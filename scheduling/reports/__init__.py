"""Reports for the unit's managers: how full the rooms and bays were, first-case starts,
turnovers, stage durations against their templates, cancellations and no-shows, messages, and
the patients' pain before and after (outcomes).

Every selector takes a site and a Period (days in the site's zone) and costs a fixed number of
queries, whatever the number of cases. A caller that shows several of them asks `reports_get`,
which works out the period's stage figures once (one statement on PostgreSQL) for the four
reports that use them.
"""

from .durations import durations_get
from .outcomes import outcomes_get
from .period import Period, period_default, week_label
from .stages import PeriodStages
from .summary import Reports, reports_get
from .usage import ON_TIME_MINUTES, first_cases_get, turnovers_get, utilisation_get
from .volume import cancellations_get, messages_get

__all__ = [
    "ON_TIME_MINUTES",
    "Period",
    "PeriodStages",
    "Reports",
    "cancellations_get",
    "durations_get",
    "first_cases_get",
    "messages_get",
    "outcomes_get",
    "period_default",
    "reports_get",
    "turnovers_get",
    "utilisation_get",
    "week_label",
]
