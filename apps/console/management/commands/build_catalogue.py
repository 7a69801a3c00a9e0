from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.console import catalogue
from apps.console.catalogue_build import SDKS, build, sdk_version


class Command(BaseCommand):
    help = (
        "Regenerate the console's API catalogue (apps/console/catalogue/*.jsonl) from the "
        "installed official SDKs (the dev dependencies: lark-oapi, alibabacloud-dingtalk, "
        "wechatpy)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("platforms", nargs="*", default=sorted(SDKS))
        parser.add_argument("--out", default=str(catalogue.DATA))

    def handle(self, *args, platforms: list[str], out: str, **options) -> None:
        for platform in platforms:
            if platform not in SDKS:
                raise CommandError(f"{platform}: no SDK source; choose from {sorted(SDKS)}")
            entries = build(platform)
            if not entries:
                raise CommandError(
                    f"{platform}: {SDKS[platform]} is not installed "
                    "(pip install -r requirements-dev.lock)"
                )
            catalogue.write(
                platform, entries, f"{SDKS[platform]} {sdk_version(SDKS[platform])}", out
            )
            self.stdout.write(f"{platform}: {len(entries)} APIs")
