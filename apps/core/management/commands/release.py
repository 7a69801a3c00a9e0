"""Once per release, on one host: migrate, grant, bootstrap."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

# The audit tables: the application reads and appends, nothing more.
APPEND_ONLY = ("audit_auditevent", "audit_auditcheckpoint")


class Command(BaseCommand):
    help = (
        "Migrate as MIGRATION_DATABASE_URL's role when it is set (the owner of the tables), "
        "grant the application's role what it needs (on the audit tables only SELECT and "
        "INSERT), then bootstrap as the application."
    )

    def handle(self, *args, **options) -> None:
        alias = "migrate" if "migrate" in settings.DATABASES else "default"
        call_command("migrate", database=alias, interactive=False, verbosity=1)
        owner = connections[alias]
        app_role = settings.DATABASES["default"].get("USER")
        if alias != "default" and owner.vendor == "postgresql" and app_role:
            self._grant(owner, app_role)
            self.stdout.write(f"release: granted {app_role} the application's privileges")
        elif owner.vendor == "postgresql":
            self.stderr.write(
                "release: the application owns its tables (no "
                "MIGRATION_DATABASE_URL); it could disable the audit triggers"
            )
        call_command("bootstrap")

    @staticmethod
    def _grant(owner, role: str) -> None:
        from psycopg import sql

        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}"),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"),
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}"),
        ]
        with owner.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.format(sql.Identifier(role)))
            for table in APPEND_ONLY:
                cursor.execute(
                    sql.SQL(
                        "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}"
                    ).format(sql.Identifier(table), sql.Identifier(role))
                )
