"""A run of the day planner: asked for on the plan page or the API, solved by a Celery worker
(scheduling.tasks.plan_run), read back by polling. The row is what the manager waits on: its
status, a line of progress, and when done the proposal as the API gives it. Imported by
scheduling.models, so Django registers it with the app."""

from django.conf import settings
from django.db import models


class PlanRunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the planner"
    RUNNING = "running", "Planning"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PlanRun(models.Model):
    site = models.ForeignKey("scheduling.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    options = models.JSONField(
        default=dict, help_text="waiting_list, allow_move_told, time_limit and what_if."
    )
    status = models.CharField(
        max_length=8, choices=PlanRunStatus.choices, default=PlanRunStatus.QUEUED
    )
    progress = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "day"], name="plan_run_site_day")]

    def __str__(self) -> str:
        return f"Plan run {self.pk} ({self.status})"
