"""The audit trail in the Django admin: read by superusers and the admin role, changed by nobody."""

from auditlog.admin import LogEntryAdmin
from auditlog.filters import CIDFilter
from auditlog.filters import ResourceTypeFilter as AuditlogResourceTypeFilter
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from scheduling import roles, selectors
from scheduling.admin import ReadOnlyAdmin
from scheduling.models import Case, CaseMedication, Patient, Stage

from .models import AccessLog


def _may_read_audit(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (
        user.is_superuser or roles.user_has_role(user, (roles.ADMIN,))
    )


class ReadOnlyAuditAdmin(ReadOnlyAdmin):
    def has_module_permission(self, request) -> bool:
        return _may_read_audit(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _may_read_audit(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(self.about_sites_of(request.user))


def _cases_of(user):
    return Case.objects.filter(site__in=selectors.visible_sites(user))


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAuditAdmin):
    date_hierarchy = "at"
    list_display = ["at", "username", "url_name", "case_id", "patient_id", "remote_addr", "method"]
    list_filter = ["url_name"]
    search_fields = ["username", "=case_id", "=patient_id", "remote_addr"]
    list_select_related = []
    readonly_fields = [
        "at", "user", "username", "remote_addr", "method", "url_name", "path", "case_id",
        "patient_id", "site_id",
    ]

    @staticmethod
    def about_sites_of(user) -> Q:
        """Accesses to a case or patient of the user's sites, or made for one of those sites;
        an access naming none of them (a list of patients) only superusers read."""
        return (
            Q(case_id__in=_cases_of(user).values("pk"))
            | Q(patient_id__in=selectors.patients_visible(user).values("pk"))
            | Q(site_id__in=selectors.visible_sites(user).values("pk"))
        )


class ResourceTypeFilter(AuditlogResourceTypeFilter):
    """auditlog's filter by kind of record, whose value goes to the query as it is: one that is
    not an id (`?resource_type=x`) was a 500, and is now the admin's "wrong filter" page."""

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and not (value.isascii() and value.isdigit() and len(value) < 19):
            raise IncorrectLookupParameters(f"Not a record kind: {value[:20]!r}")
        return super().queryset(request, queryset)


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeLogAdmin(ReadOnlyAuditAdmin, LogEntryAdmin):
    """auditlog's own admin (already no add or change), with no delete either and the same
    readers as the access log."""

    list_display = [*LogEntryAdmin.list_display, "remote_addr"]
    list_filter = ["action", ResourceTypeFilter, CIDFilter]

    @staticmethod
    def about_sites_of(user) -> Q:
        """Changes to the patients, cases, stages and held medicines of the user's sites. A row
        since deleted (a stage replaced by a reschedule) has no site left to show it by: only
        superusers read its change."""
        cases = _cases_of(user)
        rows = {
            Patient: selectors.patients_visible(user).values("pk"),
            Case: cases.values("pk"),
            Stage: Stage.objects.filter(case__in=cases).values("pk"),
            CaseMedication: CaseMedication.objects.filter(case__in=cases).values("pk"),
        }
        types = ContentType.objects.get_for_models(*rows)
        condition = Q(pk__in=[])
        for model, ids in rows.items():
            condition |= Q(content_type=types[model], object_id__in=ids)
        return condition
