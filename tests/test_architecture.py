"""The dependency rules of DESIGN.md, checked on the source."""

from __future__ import annotations

import re
from pathlib import Path

from apps.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[1]


def _sources(folder: str):
    return [(p, p.read_text()) for p in (ROOT / folder).rglob("*.py")]


def test_the_sandbox_never_imports_the_adapters():
    offenders = [
        str(p)
        for p, src in _sources("apps/sandbox")
        if re.search(r"^\s*(from|import)\s+apps\.providers", src, re.M) or "from ..providers" in src
    ]
    assert offenders == []


def test_providers_import_no_other_app_and_no_django():
    offenders = [
        str(p)
        for p, src in _sources("apps/providers")
        if re.search(r"^\s*(from|import)\s+(apps\.(?!providers)|django)", src, re.M)
    ]
    assert offenders == []


def test_audit_imports_no_other_app():
    # The recording core stands alone; only the review pages (views.py) use role checks.
    offenders = [
        str(p)
        for p, src in _sources("apps/audit")
        if p.name != "views.py" and re.search(r"^\s*(from|import)\s+apps\.(?!audit)", src, re.M)
    ]
    assert offenders == []


def _outside_the_adapters():
    """The product's Python and template files, bar the adapters and the emulators."""
    for folder in ("apps", "project", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.is_file()
                and path.suffix in {".py", ".html"}
                and not ("providers" in path.parts or "sandbox" in path.parts)
            ):
                yield path


def test_nothing_outside_the_adapters_branches_on_a_platform_name():
    names = "|".join(re.escape(k) for k in PROVIDERS)
    quoted = rf"""["']({names})["']"""
    pattern = re.compile(rf"(==|!=|\bin\b)\s*\(?\s*{quoted}|{quoted}\s*(==|!=)")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _outside_the_adapters()
        if pattern.search(path.read_text())
    ]
    assert offenders == []


def test_no_template_filter_argument_looks_up_a_key():
    """A filter argument that names a missing key raises (Django resolves filter arguments
    strictly), so `{{ v.subject|default:v.scope }}` is a 500 whenever a platform leaves
    `scope` out. Templates use `{% firstof %}`, which tolerates missing keys."""
    root = Path(__file__).resolve().parent.parent
    offending = [
        f"{path.relative_to(root)}: {m.group(0)}"
        for path in (root / "templates").rglob("*.html")
        for m in re.finditer(r"\|\w+:(?![\"'_\d-])[A-Za-z_][\w.]*", path.read_text())
    ]
    assert offending == []


def test_no_platform_header_or_secret_name_outside_the_adapters():
    """Each platform's auth headers, idempotency header and the names its secrets travel
    under are the adapters' knowledge (the console derives them: registry.wire_names);
    HTTP's own Authorization and generic words like "secret" are not platform names."""
    from apps.providers.registry import wire_names

    names = wire_names()
    specific = (
        (names.auth_headers - {"authorization"})
        | names.idempotency_headers
        | (names.secret_keys - {"secret", "password"})
    )
    alternatives = "|".join(map(re.escape, sorted(specific)))
    pattern = re.compile(rf"""["']({alternatives})["']""", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(ROOT)}: {m[0]}"
        for path in _outside_the_adapters()
        for m in pattern.finditer(path.read_text())
    ]
    assert offenders == []
