from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The three human roles. Each is a Django group of the same name (data migration)."""

    ADMIN = "admin", _("Admin")
    DEVELOPER = "developer", _("Developer")
    AUDITOR = "auditor", _("Auditor")


class User(AbstractUser):
    must_change_password = models.BooleanField(
        default=False,
        help_text=_("Set for one-time passwords: the user must choose a new one at next login."),
    )

    @property
    def role(self) -> str | None:
        """The user's role (cached per instance); None for a user without one."""
        if not hasattr(self, "_role_cache"):
            names = {g.name for g in self.groups.all()} if self.pk else set()
            self._role_cache = next((r.value for r in Role if r.value in names), None)
        return self._role_cache

    def role_label(self) -> str:
        return Role(self.role).label if self.role else "—"
