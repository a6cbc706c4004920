from django.urls import include, path

from . import offer_views, pain_views, patient_actions, views

urlpatterns = [
    path("p/<str:token>/", views.patient_page, name="patient-page"),
    path("p/<str:token>/appointment.ics", views.patient_ics, name="patient-ics"),
    path("p/<str:token>/confirm/", views.patient_confirm, name="patient-confirm"),
    path("p/<str:token>/cancel/", patient_actions.patient_cancel, name="patient-cancel"),
    path("p/<str:token>/move/", patient_actions.patient_move, name="patient-move"),
    path("p/<str:token>/pain/", pain_views.patient_pain, name="patient-pain"),
    path("o/<str:token>/", offer_views.offer_page, name="offer-page"),
    path("webhooks/twilio/", include("notifications.webhook_urls")),
    path("", include("notifications.staff_urls")),
]
