from django.contrib import admin
from django.db.models import Q

from scheduling.admin import ReadOnlyAdmin, SiteScopedAdmin
from scheduling.models import Case
from scheduling.selectors import patients_visible, visible_sites

from .models import InboundMessage, Reminder, ReminderRule, SmsOptOut
from .selectors import inbound_visible


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
class ReminderAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    """The outbox and its log: read here, changed only by the dispatcher and the services."""

    site_lookup = "case__site"

    list_display = ["id", "case", "kind", "audience", "channel", "due_at", "status", "attempts",
                    "late"]
    list_filter = ["status", "kind", "channel", "late"]
    date_hierarchy = "due_at"
    list_select_related = ["case"]


@admin.register(InboundMessage)
class InboundMessageAdmin(SiteScopedAdmin):
    list_display = ["received_at", "kind", "case", "site", "handled_at"]
    list_filter = ["kind"]
    raw_id_fields = ["case", "patient"]

    def scoped(self, queryset, user):
        return queryset.filter(pk__in=inbound_visible(user).values("pk"))

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(SiteScopedAdmin):
    list_display = ["phone", "opted_out_at"]
    search_fields = ["phone"]

    def scoped(self, queryset, user):
        """A number is a patient's or a driver's: the opt-outs of the user's patients and of
        the drivers of their sites' cases."""
        drivers = Case.objects.filter(site__in=visible_sites(user)).values("driver_phone")
        patients = patients_visible(user).values("phone")
        return queryset.filter(Q(phone__in=patients) | Q(phone__in=drivers))
