"""Twilio's webhooks, mounted under /webhooks/twilio/."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("status/", webhooks.twilio_status, name="twilio-status"),
    path("inbound/", webhooks.twilio_inbound, name="twilio-inbound"),
]
