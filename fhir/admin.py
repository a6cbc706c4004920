"""Registering and managing FHIR clients in the admin: name, sites, allowed scopes, the public
keys pasted as a JWKS, and whether it is active. The client id is made when it is saved."""

from django import forms
from django.contrib import admin

from scheduling.models import Site

from .clients import (
    fhir_client_add,
    fhir_client_sites,
    fhir_client_update,
    jwks_clean,
    scopes_clean,
)
from .models import FhirClient


class FhirClientForm(forms.ModelForm):
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.order_by("code"),
        help_text="It reads only these sites' patients and cases.",
    )

    class Meta:
        model = FhirClient
        fields = ["name", "sites", "scopes", "jwks", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["sites"].initial = fhir_client_sites(client=self.instance)

    def clean_scopes(self):
        return scopes_clean(self.cleaned_data["scopes"])

    def clean_jwks(self):
        return jwks_clean(self.cleaned_data["jwks"])


@admin.register(FhirClient)
class FhirClientAdmin(admin.ModelAdmin):
    form = FhirClientForm
    list_display = ["name", "client_id", "scopes", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "created_at", "last_used_at"]

    def save_model(self, request, obj, form, change):
        sites = form.cleaned_data["sites"]
        if change:
            fields = [name for name in form.changed_data if name != "sites"]
            fhir_client_update(client=obj, sites=sites, fields=fields)
            return
        saved = fhir_client_add(
            name=obj.name, sites=sites, scopes=obj.scopes, jwks=obj.jwks, active=obj.active
        )
        obj.__dict__.update(saved.__dict__)  # the admin goes on with the saved client

    def save_related(self, request, form, formsets, change):
        pass  # the sites are the client's account's, saved with it
