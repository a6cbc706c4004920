"""The HL7 v2 outbox and the log of ADT messages taken in, for admins. Rows are written by the
booking services, the sender and the listener; here an admin reads them, and resends or
withdraws a message that did not go (hl7v2.sending says what each may do)."""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from scheduling import roles
from scheduling.admin import ReadOnlyAdmin, SiteScopedAdmin
from scheduling.selectors import patients_visible

from .models import InboundMessage, OutboundMessage
from .sending import hl7_messages_resend, hl7_messages_withdraw


def _admins_only(request) -> bool:
    """The unit's admins (and superusers): other staff with the admin's door open see nothing
    of the hospital's messages."""
    user = request.user
    return user.is_active and user.is_staff and (
        user.is_superuser or roles.user_has_role(user, (roles.ADMIN,))
    )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    """Read only; the actions go through the sender's services, which decide what may move."""

    list_display = ["control_id", "trigger", "endpoint", "case", "sequence", "status",
                    "attempts", "due_at", "acked_at", "ack_code", "ack_text"]
    list_filter = ["status", "trigger", "endpoint", "site"]
    list_select_related = ["case", "site"]
    search_fields = ["control_id"]
    date_hierarchy = "created_at"
    fields = ["control_id", "trigger", "endpoint", "case", "site", "sequence", "status",
              "attempts", "created_at", "due_at", "claimed_at", "peer_called_at", "acked_at",
              "ack_code", "ack_text", "error", "body"]
    readonly_fields = fields
    actions = ["resend", "withdraw"]

    def has_module_permission(self, request) -> bool:
        return _admins_only(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _admins_only(request) and super().has_view_permission(request, obj)

    def has_resend_permission(self, request) -> bool:
        return _admins_only(request) and request.user.has_perm("hl7v2.change_outboundmessage")

    has_withdraw_permission = has_resend_permission

    @admin.action(description="Send again (failed or unknown)", permissions=["resend"])
    def resend(self, request, queryset):
        moved = hl7_messages_resend(messages=queryset)
        self._logged(request, moved, "Sent again by an admin.")
        self.message_user(
            request, f"{len(moved)} message(s) will be sent again, in their case's order; "
            f"{queryset.count() - len(moved)} were not failed or unknown and were left.",
            messages.SUCCESS,
        )

    @admin.action(description="Withdraw (will not be sent)", permissions=["withdraw"])
    def withdraw(self, request, queryset):
        moved = hl7_messages_withdraw(messages=queryset)
        self._logged(request, moved, "Withdrawn by an admin.")
        self.message_user(
            request, f"{len(moved)} message(s) withdrawn; the later messages of their cases no "
            f"longer wait for them. {queryset.count() - len(moved)} sent or being sent were left.",
            messages.SUCCESS,
        )

    def _logged(self, request, rows, what: str) -> None:
        """Who did it and when, on each message's history in the admin."""
        if not rows:
            return
        content_type = ContentType.objects.get_for_model(OutboundMessage)
        LogEntry.objects.bulk_create(
            LogEntry(user_id=request.user.pk, content_type_id=content_type.pk,
                     object_id=str(row.pk), object_repr=str(row)[:200], action_flag=CHANGE,
                     change_message=what)
            for row in rows
        )


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    """What the listener took in and did; the message's text is not kept."""

    list_display = ["received_at", "message_type", "control_id", "status", "patient", "reason"]
    list_filter = ["status", "message_type"]
    search_fields = ["control_id"]
    readonly_fields = ["received_at", "message_type", "control_id", "status", "patient",
                       "reason"]
    fields = readonly_fields

    def has_module_permission(self, request) -> bool:
        return _admins_only(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _admins_only(request) and super().has_view_permission(request, obj)

    def scoped(self, queryset, user):
        """A message applied to a patient of the user's sites; one that named nobody known
        here names no site, and is for a superuser."""
        return queryset.filter(patient__in=patients_visible(user))
