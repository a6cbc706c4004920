from django.urls import include, path

from . import offer_views, views

urlpatterns = [
    path("p/<str:token>/", views.patient_page, name="patient-page"),
    path("p/<str:token>/appointment.ics", views.patient_ics, name="patient-ics"),
    path("p/<str:token>/confirm/", views.patient_confirm, name="patient-confirm"),
    path("o/<str:token>/", offer_views.offer_page, name="offer-page"),
    path("webhooks/twilio/", include("notifications.webhook_urls")),
]
