"""Staff pages. Each part of the front desk has its own module and URL list."""

from django.urls import include, path

from . import closures, home, reports

urlpatterns = [
    path("", home.home, name="home"),
    path("", include("scheduling.pages.booking_urls")),
    path("", include("scheduling.pages.case_urls")),
    path("", include("scheduling.pages.board_urls")),
    path("", include("scheduling.pages.family_urls")),
    path("", include("scheduling.pages.plan_urls")),
    path("", include("scheduling.pages.review_urls")),
    path("closures/", closures.closures_page, name="closures"),
    path("closures/<int:pk>/lift/", closures.closure_lift, name="closure-lift"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/<slug:report>.csv", reports.reports_csv, name="reports-csv"),
]
