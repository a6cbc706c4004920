from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from vertebro_site.health import healthz

admin.site.site_header = "Vertebro administration"
admin.site.site_title = "Vertebro"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("scheduling.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from /api/docs/?script= rather than
    # inline, so the docs run under the Content-Security-Policy (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("notifications.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("scheduling.pages.urls")),
]

# Under /api/ an address that names no operation, or a request that cannot be read, answers in
# the API's error format.
handler404 = "scheduling.api.errors.not_found"
handler400 = "scheduling.api.errors.bad_request"
