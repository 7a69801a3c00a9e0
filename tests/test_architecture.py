"""The dependency rules of DESIGN.md, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from apps.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[1]


# The floors, ground first. Each app may import only the apps named beside it (and itself);
# an import inside a function is an arrow too. A new app must be placed here to pass.
PROVIDERS_AND_BELOW = {"core", "accounts", "audit", "providers"}
MAY_IMPORT: dict[str, set[str]] = {
    "providers": set(),  # pure Python: each platform's protocol, no Django
    "core": set(),  # the ground: context, middleware, errors, logging, limiter, metric names
    "sandbox": {"core"},  # the emulators, written from the platforms' docs alone
    "accounts": {"core"},
    "audit": {"core", "accounts"},
    "vault": PROVIDERS_AND_BELOW,
    "tokens": PROVIDERS_AND_BELOW | {"vault"},
    # Sign-in with the platforms: the credential an admin chose, WeCom's app token.
    "signin": PROVIDERS_AND_BELOW | {"vault", "tokens"},
    "console": PROVIDERS_AND_BELOW | {"vault", "tokens"},
    "alerts": PROVIDERS_AND_BELOW | {"vault", "tokens"},
    "home": {
        "core",
        "accounts",
        "audit",
        "providers",
        "sandbox",
        "vault",
        "tokens",
        "signin",
        "console",
        "alerts",
    },
}


def _sources(folder: str):
    return [(p, p.read_text()) for p in (ROOT / folder).rglob("*.py")]


def _imported_modules(path: Path, root: Path) -> list[tuple[str, int]]:
    """Every module `path` imports, at any depth (inside functions too), relative ones resolved."""
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if node.module is None:  # `from . import views`: each name may be a module
                found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((module, node.lineno))
    return found


def _arrows(root: Path = ROOT):
    """(from app, to app, where) for every import of one app by another."""
    for path in sorted((root / "apps").rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) < 3:
            continue
        app = parts[1]
        for module, line in _imported_modules(path, root):
            names = module.split(".")
            if names[0] == "apps" and len(names) > 1 and names[1] != app:
                yield app, names[1], f"{path.relative_to(root)}:{line}"


def test_every_app_has_a_floor():
    apps = {p.name for p in (ROOT / "apps").iterdir() if (p / "__init__.py").exists()}
    assert apps == set(MAY_IMPORT)


def test_arrows_only_run_down():
    upward = [
        f"{where}: {app} imports {other}"
        for app, other, where in _arrows()
        if other not in MAY_IMPORT[app]
    ]
    assert upward == []


def test_the_floors_have_no_cycle():
    """The table itself runs one way: no app may import one that may import it back."""
    for app, allowed in MAY_IMPORT.items():
        for other in allowed:
            assert app not in MAY_IMPORT[other], f"{app} <-> {other}"


def test_no_app_imports_the_top_floor():
    assert [w for app, other, w in _arrows() if other == "home"] == []


def test_the_arrow_finder_sees_imports_inside_functions(tmp_path):
    """The rule would be empty if the finder missed the hidden arrows it exists to catch."""
    (tmp_path / "apps" / "core" / "management").mkdir(parents=True)
    (tmp_path / "apps" / "core" / "management" / "probe.py").write_text(
        "import apps.core.models\n"
        "from . import x\n"
        "def f():\n"
        "    from apps.tokens.models import AccessToken\n"
        "    from ...vault import services\n"
        "    from ... import console\n"
    )
    found = [(app, other) for app, other, _where in _arrows(tmp_path)]
    assert found == [("core", "tokens"), ("core", "vault"), ("core", "console")]


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


def test_no_function_is_longer_than_sixty_lines():
    """Past 60 lines a function is doing several things that a name could tell apart."""
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for folder in ("apps", "project", "clients")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
