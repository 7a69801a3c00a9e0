from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.console import catalogue
from apps.console.catalogue_build import (
    DINGTALK_TOP,
    LARK_NODE,
    SDKS,
    build,
    sdk_version,
)


class Command(BaseCommand):
    help = (
        "Regenerate the console's API catalogue (apps/console/catalogue/*.jsonl) from the "
        "installed official SDKs (the dev dependencies: lark-oapi, alibabacloud-dingtalk, "
        "wechatpy) and, when given, the Feishu Node.js SDK's tarball and DingTalk's TOP SDK "
        "wheel (`make catalogue` fetches both)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("platforms", nargs="*", default=sorted(SDKS))
        parser.add_argument("--out", default=str(catalogue.DATA))
        parser.add_argument(
            "--lark-node-sdk",
            type=Path,
            default=None,
            help=f"the npm tarball of {LARK_NODE} (`npm pack {LARK_NODE}`): Feishu's Chinese "
            "titles, docs links and the APIs lark-oapi lacks",
        )
        parser.add_argument(
            "--dingtalk-top-sdk",
            type=Path,
            default=None,
            help=f"the wheel of {DINGTALK_TOP} (`pip download`): DingTalk's classic API "
            "(oapi.dingtalk.com)",
        )

    def handle(
        self,
        *args,
        platforms: list[str],
        out: str,
        lark_node_sdk: Path | None,
        dingtalk_top_sdk: Path | None,
        **options,
    ) -> None:
        if lark_node_sdk is not None and not lark_node_sdk.is_file():
            raise CommandError(f"{lark_node_sdk}: no such file (npm pack {LARK_NODE})")
        if dingtalk_top_sdk is not None and not dingtalk_top_sdk.is_file():
            raise CommandError(f"{dingtalk_top_sdk}: no such file (pip download {DINGTALK_TOP})")
        for platform in platforms:
            if platform not in SDKS:
                raise CommandError(f"{platform}: no SDK source; choose from {sorted(SDKS)}")
            try:
                entries = build(
                    platform, lark_node_sdk=lark_node_sdk, dingtalk_top_sdk=dingtalk_top_sdk
                )
            except ValueError as exc:  # not the pinned tarball or wheel
                raise CommandError(str(exc)) from None
            if not entries:
                raise CommandError(
                    f"{platform}: {SDKS[platform]} is not installed "
                    "(pip install -r requirements-dev.lock)"
                )
            source = f"{SDKS[platform]} {sdk_version(SDKS[platform])}"
            if lark_node_sdk is not None and SDKS[platform] == "lark_oapi":
                source += f" + {LARK_NODE}"
            catalogue.write(platform, entries, source, out)
            self.stdout.write(f"{platform}: {len(entries)} APIs")
