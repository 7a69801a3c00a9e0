from __future__ import annotations

from django.contrib import admin

from .models import AuditEvent

# (accounts.admin.ReadOnlyAdmin is the same; the audit app imports no other app.)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "seq",
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "outcome",
        "request_id",
    ]
    list_filter = ["outcome", "actor_type", "action"]
    date_hierarchy = "created_at"
    search_fields = ["action", "actor_label", "request_id", "target_id"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
