"""Django's admin reads; it never writes. Users, roles, keys and credentials change only
through the services, which write the audit log (the admin would bypass both)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserReadOnlyAdmin(ReadOnlyAdmin, UserAdmin):
    pass


admin.site.unregister(Group)  # roles are groups: changed on the users page, audited
# Second factors are set up and removed on their own pages, audited; the admin would show
# their keys and edit them unaudited.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
