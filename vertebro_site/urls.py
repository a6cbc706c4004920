from django.contrib import admin
from django.urls import include, path

from vertebro_site.health import healthz

admin.site.site_header = "Vertebro administration"
admin.site.site_title = "Vertebro"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("api-auth/", include("rest_framework.urls")),
    path("fhir/R4/", include("fhir.urls")),
    path("", include("notifications.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("scheduling.pages.urls")),
]

# Under /api/ an address that names no operation, or a request that cannot be read, answers in
# the API's error format.
handler404 = "api.handlers.not_found"
handler400 = "api.handlers.bad_request"
