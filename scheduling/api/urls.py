from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("sites/", views.SiteListView.as_view(), name="api-sites"),
    path("procedure-types/", views.ProcedureTypeListView.as_view(), name="api-procedure-types"),
    path("availability/", views.AvailabilityView.as_view(), name="api-availability"),
    path("cases/", views.CaseListView.as_view(), name="api-cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="api-case"),
    path("cases/<int:pk>/reschedule/", views.CaseRescheduleView.as_view(), name="api-case-reschedule"),
    path("cases/<int:pk>/cancel/", views.CaseCancelView.as_view(), name="api-case-cancel"),
    path("cases/<int:pk>/no-show/", views.CaseNoShowView.as_view(), name="api-case-no-show"),
]
