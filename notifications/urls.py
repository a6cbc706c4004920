from django.urls import include, path

from . import pain_views, views

urlpatterns = [
    path("p/<str:token>/", views.patient_page, name="patient-page"),
    path("p/<str:token>/appointment.ics", views.patient_ics, name="patient-ics"),
    path("p/<str:token>/confirm/", views.patient_confirm, name="patient-confirm"),
    path("p/<str:token>/pain/", pain_views.patient_pain, name="patient-pain"),
    path("webhooks/twilio/", include("notifications.webhook_urls")),
]
