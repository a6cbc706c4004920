"""Unit set-up for managers. Cases are read here; they change only through the booking services
(API and front-desk pages), so that rooms, bays and messages stay consistent."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from notifications.services import patient_links_revoke

from . import selectors
from .bedside_models import ChecklistItem, DischargeAssessment, VitalSigns
from .models import (
    Case,
    CaseMedication,
    Closure,
    Drug,
    OpeningHours,
    Patient,
    ProcedureType,
    Resource,
    Site,
    Stage,
    StageTemplate,
    Surgeon,
    SurgeonHours,
    WaitingListEntry,
    WaitingStatus,
    Weekday,
)
from .screening import screening_answers
from .services.closures import closure_create


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows to read only: the services (booking, the dispatcher, the access log) write them;
    nobody adds, changes or deletes them here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SiteScopedAdmin(admin.ModelAdmin):
    """A list and its pages hold only the rows of the user's sites (every site for a
    superuser); `site_lookup` is the path from the row to its site. Choices of a patient or a
    site are limited the same way, so a row cannot be pointed at another site's patient."""

    site_lookup = "site"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scoped(queryset, request.user)

    def scoped(self, queryset, user):
        sites = selectors.visible_sites(user)
        return queryset.filter(**{f"{self.site_lookup}__in": sites}).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Patient:
            kwargs["queryset"] = selectors.patients_visible(request.user)
        elif db_field.related_model is Site:
            kwargs["queryset"] = selectors.visible_sites(request.user)
        elif db_field.related_model is Case:
            kwargs["queryset"] = Case.objects.filter(site__in=selectors.visible_sites(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Site:
            kwargs["queryset"] = selectors.visible_sites(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ResourceInline(admin.TabularInline):
    model = Resource
    extra = 0


@admin.register(Site)
class SiteAdmin(SiteScopedAdmin):
    site_lookup = "pk"
    list_display = ["name", "code", "time_zone", "phone", "sms_number"]
    search_fields = ["name", "code"]
    inlines = [OpeningHoursInline, ResourceInline]
    fieldsets = [
        (
            None,
            {"fields": ["name", "code", "time_zone", "locale", "phone", "sms_number", "address",
                        "directions"]},
        ),
        (
            "Day-of rules",
            {
                "fields": [
                    "check_in_minutes",
                    "fasting_solids_hours",
                    "fasting_clear_liquids_hours",
                    "fasting_solids_from_midnight",
                    "conservative_treatment_min_weeks",
                    "review_hold_hours",
                ]
            },
        ),
        (
            "Nursing rules",
            {
                "fields": ["inr_limit", "recovery_minimum_minutes", "discharge_score_minimum"],
                "description": "The procedure waits for the pre-op checklist (its items are "
                "under Checklist items) and discharge for these criteria, unless a clinician "
                "gives a reason.",
            },
        ),
        (
            "Vitals alert limits",
            {
                "fields": [
                    ("systolic_alert_low", "systolic_alert_high"),
                    "diastolic_alert_high",
                    ("heart_rate_alert_low", "heart_rate_alert_high"),
                    "spo2_alert_low",
                    ("resp_rate_alert_low", "resp_rate_alert_high"),
                ],
                "description": "Readings beyond these are accepted but flagged for a nurse.",
            },
        ),
        (
            "Freed times offered by text",
            {
                "fields": ["offers_enabled", "offer_min_lead_hours", "offer_wave_size",
                           "offer_valid_minutes"],
                "description": "A cancelled, no-show or moved case's time is texted to the "
                "best-matching waiting patients, a wave at a time; the first to accept gets it.",
            },
        ),
        (
            "Family board",
            {
                "fields": ["family_board_link"],
                "description": "The waiting room's screen, opened without a login. Issue or "
                "revoke the link with the actions on the list of sites.",
            },
        ),
    ]
    readonly_fields = ["family_board_link"]
    actions = ["family_board_issue_links", "family_board_revoke_links"]

    @admin.display(description="Family board link")
    def family_board_link(self, site: Site) -> str:
        if not site.family_board_token:
            return "None: this site has no family board."
        url = reverse("family-board", args=[site.family_board_token])
        return format_html('<a href="{}" rel="noreferrer">{}</a>', url, url)

    @admin.action(description="Issue a new family-board link (the old link stops working)")
    def family_board_issue_links(self, request, queryset) -> None:
        for site in queryset:
            site.family_board_issue()
        self.message_user(
            request,
            f"New family-board links issued for {len(queryset)} site(s); "
            "open a site to see its link.",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke the family-board link")
    def family_board_revoke_links(self, request, queryset) -> None:
        for site in queryset:
            site.family_board_revoke()
        self.message_user(
            request, f"Family-board links revoked for {len(queryset)} site(s).", messages.SUCCESS
        )


@admin.register(Resource)
class ResourceAdmin(SiteScopedAdmin):
    list_display = ["name", "kind", "site", "active"]
    list_filter = ["site", "kind", "active"]
    search_fields = ["name"]


class SurgeonPeriodsFormSet(BaseInlineFormSet):
    """A surgeon may work several periods a weekday (a morning and an afternoon list), but
    not two that overlap: a case's surgeon stages must fit inside one period."""

    def clean(self) -> None:
        super().clean()
        periods = sorted(
            (form.cleaned_data["weekday"], form.cleaned_data["opens"], form.cleaned_data["closes"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
            and all(form.cleaned_data.get(name) is not None
                    for name in ("weekday", "opens", "closes"))
        )
        for (day, _, closes), (next_day, next_opens, _) in zip(
            periods, periods[1:], strict=False
        ):
            if day == next_day and next_opens < closes:
                raise ValidationError(
                    f"Two working periods on {Weekday(day).label} overlap; make them one, or "
                    "end the first before the second begins."
                )


class SurgeonHoursInline(admin.TabularInline):
    model = SurgeonHours
    formset = SurgeonPeriodsFormSet
    extra = 0


@admin.register(Surgeon)
class SurgeonAdmin(SiteScopedAdmin):
    site_lookup = "sites"
    list_display = ["name", "code", "active"]
    list_filter = ["sites", "active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["sites"]
    inlines = [SurgeonHoursInline]


@admin.register(Closure)
class ClosureAdmin(SiteScopedAdmin):
    """Public holidays, a room's maintenance, a surgeon's leave. Added through the closure
    service, as the API adds them; the manager is told which booked cases to move."""

    list_display = ["start_date", "end_date", "site", "what", "reason", "created_by"]
    list_filter = ["site"]
    search_fields = ["reason"]
    fields = ["site", "start_date", "end_date", "reason", "resource", "surgeon"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        sites = selectors.visible_sites(request.user)
        if db_field.related_model is Resource:
            kwargs["queryset"] = Resource.objects.filter(site__in=sites)
        elif db_field.related_model is Surgeon:
            kwargs["queryset"] = Surgeon.objects.filter(sites__in=sites).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        # Model.clean has refused days out of order and a room with a surgeon already.
        closure, affected = closure_create(
            site=obj.site, start_date=obj.start_date, end_date=obj.end_date, reason=obj.reason,
            resource=obj.resource, surgeon=obj.surgeon, created_by=request.user,
        )
        obj.pk = closure.pk
        if affected:
            ids = ", ".join(str(case.pk) for case in affected)
            messages.warning(
                request, f"Already booked on these days, flagged for the front desk to move: "
                f"case {ids}.",
            )


class StageTemplateInline(admin.TabularInline):
    model = StageTemplate
    extra = 0
    ordering = ["position"]
    fields = ["position", "kind", "resource_kind", "base_minutes", "minutes_per_extra_level",
              "needs_surgeon", "turnover_minutes", "minimum_minutes"]


@admin.register(ProcedureType)
class ProcedureTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "max_levels", "usual", "active"]
    list_filter = ["active"]
    inlines = [StageTemplateInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(SiteScopedAdmin):
    """A site's pre-op checklist. An item for one procedure type replaces the site-wide item of
    the same code (or, switched off, leaves it out for that type)."""

    list_display = ["label", "code", "site", "procedure_type", "position", "active"]
    list_filter = ["site", "procedure_type", "active"]
    list_editable = ["position", "active"]
    list_select_related = ["site", "procedure_type"]
    ordering = ["site", "procedure_type", "position", "id"]
    search_fields = ["label", "code"]


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "hold_days", "hold_doses", "inr_check", "active"]
    list_filter = ["inr_check", "active"]
    search_fields = ["name", "code"]


@admin.register(Patient)
class PatientAdmin(SiteScopedAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "mrn"]
    search_fields = ["last_name", "first_name", "mrn"]

    def scoped(self, queryset, user):
        return queryset.filter(pk__in=selectors.patients_visible(user).values("pk"))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StageInline(ReadOnlyInline):
    model = Stage
    fields = ["kind", "resource", "surgeon", "planned_start", "planned_end", "held_until",
              "actual_start", "actual_end", "active"]


class CaseMedicationInline(ReadOnlyInline):
    model = CaseMedication
    fields = ["drug", "hold_starts_on"]


class VitalSignsInline(ReadOnlyInline):
    model = VitalSigns
    fields = ["phase", "taken_at", "systolic", "diastolic", "heart_rate", "spo2", "resp_rate",
              "by"]


class DischargeAssessmentInline(ReadOnlyInline):
    model = DischargeAssessment
    fields = ["at", "activity", "respiration", "circulation", "consciousness",
              "oxygen_saturation", "total", "by"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    list_display = ["id", "day", "site", "patient", "procedure_type", "levels", "status"]
    list_filter = ["site", "status", "procedure_type", "day"]
    search_fields = ["patient__last_name", "patient__mrn"]
    date_hierarchy = "day"
    list_select_related = ["site", "patient", "procedure_type"]
    inlines = [StageInline, CaseMedicationInline, VitalSignsInline, DischargeAssessmentInline]
    actions = ["patient_links_revoke"]

    @admin.action(description="Revoke patient links (links already sent stop opening)")
    def patient_links_revoke(self, request, queryset) -> None:
        for case in queryset:
            patient_links_revoke(case=case)
        self.message_user(
            request,
            f"Patient links revoked for {len(queryset)} case(s); messages sent from now on "
            "carry a new link.",
            messages.SUCCESS,
        )


@admin.register(VitalSigns)
class VitalSignsAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    site_lookup = "case__site"
    list_display = ["case", "phase", "taken_at", "systolic", "diastolic", "heart_rate", "spo2",
                    "resp_rate", "by"]
    list_filter = ["case__site", "phase"]
    list_select_related = ["case", "by"]
    date_hierarchy = "taken_at"


@admin.register(DischargeAssessment)
class DischargeAssessmentAdmin(ReadOnlyAdmin, SiteScopedAdmin):
    site_lookup = "case__site"
    list_display = ["case", "at", "total", "activity", "respiration", "circulation",
                    "consciousness", "oxygen_saturation", "by"]
    list_filter = ["case__site"]
    list_select_related = ["case", "by"]
    date_hierarchy = "at"


class ToBeScheduledFilter(admin.SimpleListFilter):
    """The list opens on the patients still to be scheduled; the other statuses are a click away."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(WaitingStatus.WAITING, "To be scheduled"), (WaitingStatus.SCHEDULED, "Scheduled"),
                (WaitingStatus.REMOVED, "Removed"), ("all", "All")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or WaitingStatus.WAITING) == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or WaitingStatus.WAITING
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(SiteScopedAdmin):
    """The patients to be scheduled; "Plan the day" books them, or the front desk does."""

    list_display = ["patient", "site", "procedure_type", "levels", "priority", "earliest_date",
                    "latest_date", "surgeon", "screening_done", "status", "case"]
    list_filter = [ToBeScheduledFilter, "site", "priority", "procedure_type", "screening_done"]
    search_fields = ["patient__last_name", "patient__mrn"]
    date_hierarchy = "earliest_date"
    list_select_related = ["patient", "site", "procedure_type", "surgeon", "case"]
    raw_id_fields = ["patient", "case"]
    readonly_fields = ["created_at", "created_by", "case", "screening_done"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        # Done means every answer the booking flow asks is there, as the API decides it.
        obj.screening_done = screening_answers(obj.screening) is not None
        super().save_model(request, obj, form, change)
