from django.urls import path

from . import bedside, closures, offers, planning, tracking, views, waiting_list
from .board import BoardView

urlpatterns = [
    path("sites/", views.SiteListView.as_view(), name="api-sites"),
    path("procedure-types/", views.ProcedureTypeListView.as_view(), name="api-procedure-types"),
    path("availability/", views.AvailabilityView.as_view(), name="api-availability"),
    path("cases/", views.CaseListView.as_view(), name="api-cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="api-case"),
    path(
        "cases/<int:pk>/reschedule/", views.CaseRescheduleView.as_view(), name="api-case-reschedule"
    ),
    path("cases/<int:pk>/cancel/", views.CaseCancelView.as_view(), name="api-case-cancel"),
    path(
        "cases/<int:pk>/review/approve/",
        views.CaseReviewView.as_view(decision="approve"),
        name="api-case-review-approve",
    ),
    path(
        "cases/<int:pk>/review/decline/",
        views.CaseReviewView.as_view(decision="decline"),
        name="api-case-review-decline",
    ),
    path("cases/<int:pk>/no-show/", views.CaseNoShowView.as_view(), name="api-case-no-show"),
    path(
        "cases/<int:pk>/check-in/", tracking.CaseCheckInView.as_view(), name="api-case-check-in"
    ),
    path(
        "cases/<int:pk>/stages/<str:kind>/start/",
        tracking.StageStartView.as_view(),
        name="api-stage-start",
    ),
    path(
        "cases/<int:pk>/stages/<str:kind>/finish/",
        tracking.StageFinishView.as_view(),
        name="api-stage-finish",
    ),
    path(
        "cases/<int:pk>/discharge/",
        tracking.CaseDischargeView.as_view(),
        name="api-case-discharge",
    ),
    path(
        "cases/<int:pk>/checklist/", bedside.CaseChecklistView.as_view(), name="api-case-checklist"
    ),
    path("cases/<int:pk>/vitals/", bedside.CaseVitalsView.as_view(), name="api-case-vitals"),
    path(
        "cases/<int:pk>/discharge-assessment/",
        bedside.CaseAssessmentView.as_view(),
        name="api-case-assessment",
    ),
    path("cases/<int:pk>/undo/", tracking.CaseUndoView.as_view(), name="api-case-undo"),
    path("board/", BoardView.as_view(), name="api-board"),
    path("waiting-list/", waiting_list.WaitingListView.as_view(), name="api-waiting-list"),
    path(
        "waiting-list/<int:pk>/",
        waiting_list.WaitingEntryView.as_view(),
        name="api-waiting-entry",
    ),
    path("offers/", offers.OfferListView.as_view(), name="api-offers"),
    path(
        "sites/<slug:code>/days/<str:day>/plan/",
        planning.PlanProposeView.as_view(),
        name="api-plan-propose",
    ),
    path(
        "sites/<slug:code>/days/<str:day>/plan/<int:pk>/",
        planning.PlanRunView.as_view(),
        name="api-plan-run",
    ),
    path(
        "sites/<slug:code>/days/<str:day>/plan/apply/",
        planning.PlanApplyView.as_view(),
        name="api-plan-apply",
    ),
    path("sites/<slug:code>/closures/", closures.ClosureListView.as_view(), name="api-closures"),
    path(
        "sites/<slug:code>/closures/<int:pk>/",
        closures.ClosureDetailView.as_view(),
        name="api-closure",
    ),
    path("cases/<int:pk>/backfill/", planning.CaseBackfillView.as_view(), name="api-case-backfill"),
]
