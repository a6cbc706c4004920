"""The API's addresses under /api/: version 1's operations, each app's from its own URLconf,
the token login, and the schema with its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .tokens import TokenView

v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("scheduling.api.urls")),
    path("", include("notifications.api_urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from /api/docs/?script= rather than
    # inline, so the docs run under the Content-Security-Policy (script-src 'self').
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
