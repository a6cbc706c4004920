"""The audit trail in the Django admin: read by superusers and the admin role, changed by nobody."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin

from scheduling import roles

from .models import AccessLog


def _may_read_audit(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (
        user.is_superuser or roles.user_has_role(user, (roles.ADMIN,))
    )


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return _may_read_audit(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_read_audit(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAuditAdmin):
    date_hierarchy = "at"
    list_display = ["at", "username", "url_name", "case_id", "patient_id", "remote_addr", "method"]
    list_filter = ["url_name"]
    search_fields = ["username", "=case_id", "=patient_id", "remote_addr"]
    list_select_related = []
    readonly_fields = [
        "at", "user", "username", "remote_addr", "method", "url_name", "path", "case_id",
        "patient_id",
    ]


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeLogAdmin(ReadOnlyAuditAdmin, LogEntryAdmin):
    """auditlog's own admin (already no add or change), with no delete either and the same
    readers as the access log."""

    list_display = [*LogEntryAdmin.list_display, "remote_addr"]
