from django.contrib import admin

from apps.accounts.models import ApiKey, Environment, Invitation, Membership, Organization, Project


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "retention_days", "created_at")
    list_select_related = ("organization",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("key_id", "kind", "project", "last_used_at", "revoked_at")
    readonly_fields = ("key_id", "secret_hash")


admin.site.register(Membership)
admin.site.register(Environment)
admin.site.register(Invitation)
