"""The stamp of the unit's configuration: one row whose value changes with every write to the
tables the slot search and the message planner read as configuration (procedure types and their
stages, opening hours, rooms and bays, surgeons, their sites and hours, closures and leave,
reminder rules).

Database triggers (migration 0019) give it a new value in the same transaction as the write, so
every web and worker process sees the change when, and only when, the write commits; see
scheduling/configuration.py, which keys its cache on it. Imported by scheduling.models, so
Django registers it with the app.
"""

from django.db import models


class ConfigStamp(models.Model):
    """One row (id 1). The value is never reused, not even after a rolled-back write: on
    PostgreSQL it is drawn from a sequence, on SQLite at random."""

    value = models.BigIntegerField()

    class Meta:
        verbose_name = "configuration stamp"

    def __str__(self) -> str:
        return f"configuration {self.value}"
