#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which check every value
    except ImproperlyConfigured as exc:
        # Django would go on and fail later with "Models aren't loaded yet": say why now.
        sys.exit(
            f"configuration error: {exc}\n(`make run` writes a .env for this machine; "
            ".env.example lists every setting)"
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
