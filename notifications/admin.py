from django.contrib import admin

from .models import InboundMessage, Reminder, ReminderRule, SmsOptOut


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "audience", "anchor", "day_offset", "at_time", "offset_minutes",
                    "channel", "condition", "urgent", "active"]
    list_filter = ["kind", "audience", "anchor", "active"]
    fieldsets = [
        (None, {"fields": ["kind", "audience", "channel", "condition", "active"]}),
        ("When", {"fields": ["anchor", "day_offset", "at_time", "offset_minutes", "urgent",
                             "skip_in_quiet_hours", "send_within_minutes"]}),
        ("Wording", {"fields": ["sms_text"]}),
    ]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The outbox and its log: read here, changed only by the dispatcher and the services."""

    list_display = ["id", "case", "kind", "audience", "channel", "due_at", "status", "attempts",
                    "late"]
    list_filter = ["status", "kind", "channel", "late"]
    date_hierarchy = "due_at"
    list_select_related = ["case"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "case", "handled_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ["phone", "opted_out_at"]
    search_fields = ["phone"]
