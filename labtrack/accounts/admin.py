from django.contrib import admin

from labtrack.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: a manager sees who has which tokens; users create and revoke their own."""

    list_display = ("name", "user", "key_prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "key_sha256"]
    exclude = ("key_sha256",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
