"""The front desk's call lists as pages (the messages API has the same under /api/v1/)."""

from django.urls import path

from . import staff_pages

urlpatterns = [
    path("messages/needs-call/", staff_pages.needs_call, name="needs-call"),
    path("messages/not-reached/", staff_pages.not_reached, name="not-reached"),
    path("messages/texts/<int:pk>/handled/", staff_pages.text_handled, name="text-handled"),
    path("messages/calls/<int:pk>/called/", staff_pages.case_called, name="case-called"),
    path("messages/<int:pk>/resend/", staff_pages.reminder_resend, name="message-resend"),
    path("messages/<int:pk>/handled/", staff_pages.reminder_handled, name="message-handled"),
]
