"""The messages' operations under /api/v1/ (included by api/urls.py)."""

from django.urls import path

from . import api as messages

urlpatterns = [
    path("cases/<int:pk>/messages/", messages.CaseMessagesView.as_view(), name="api-case-messages"),
    path("messages/<int:pk>/resend/", messages.ResendView.as_view(), name="api-message-resend"),
    path("messages/not-reached/", messages.NotReachedView.as_view(), name="api-not-reached"),
    path(
        "messages/<int:pk>/handled/",
        messages.NotReachedHandledView.as_view(),
        name="api-message-handled",
    ),
    path("messages/needs-call/", messages.NeedsCallView.as_view(), name="api-needs-call"),
    path(
        "messages/unit-will-call/", messages.UnitWillCallView.as_view(), name="api-unit-will-call"
    ),
    path("cases/<int:pk>/unit-called/", messages.UnitCalledView.as_view(), name="api-unit-called"),
    path(
        "messages/needs-call/<int:pk>/handled/",
        messages.NeedsCallHandledView.as_view(),
        name="api-needs-call-handled",
    ),
]
