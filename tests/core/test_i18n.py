from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "apps/core/locale/zh_Hans/LC_MESSAGES"


def test_every_message_is_translated_and_the_catalogue_is_compiled(tmp_path):
    po = (LOCALE / "django.po").read_text()
    assert "#, fuzzy" not in po
    assert not re.search(r'^msgstr ""\n\n', po[po.index("\n\n") :], re.M), "untranslated entries"
    if shutil.which("msgfmt") is None:
        pytest.skip("gettext's msgfmt is not installed")
    subprocess.run(
        ["msgfmt", "--check", "-o", tmp_path / "fresh.mo", LOCALE / "django.po"], check=True
    )
    with open(tmp_path / "fresh.mo", "rb") as fresh, open(LOCALE / "django.mo", "rb") as kept:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(kept)._catalog, (
            "django.mo is stale: run `make messages`"
        )


@pytest.mark.django_db
def test_chinese_by_default_and_english_on_request(client_as):
    client = client_as("developer")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "<h1>概览</h1>" in page and 'lang="zh-hans"' in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "<h1>Overview</h1>" in page and 'lang="en"' in page
