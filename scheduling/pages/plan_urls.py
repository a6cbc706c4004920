"""Plan the day (managers)."""

from django.urls import path

from . import plan

urlpatterns = [
    path("plan/", plan.plan, name="plan"),
    path("plan/apply/", plan.plan_apply_page, name="plan-apply"),
    path("plan/runs/<int:pk>/", plan.plan_run_part, name="plan-run"),
]
