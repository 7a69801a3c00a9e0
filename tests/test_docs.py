"""Every command the README and docs/ tell a reader to type is run: here, page by page and in
the page's order against a live server, or by the test or CI step named below for it (a
release on two database roles, the production deploy check, a whole `make run`). A command
this file cannot place fails the test, so a new page's commands are run from the day it is
written. And every page the README links to exists."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGRAMS = {"make", "python", ".venv/bin/python", "manage.py", "curl", "celery", "granian"}
PROGRAMS |= {"npm", "pip"}
EXAMPLE_HOSTS = ("https://zhongkong.example.com", "http://127.0.0.1:8000", "127.0.0.1:8000")

# Commands run by another test (which holds the marker) or by CI, not in this process.
ELSEWHERE = {
    "manage.py release": ("tests/integration/test_release_roles.py", '"release"'),
    "manage.py check --deploy": ("tests/core/test_settings.py", '"--deploy"'),
    "manage.py build_catalogue": ("tests/console/test_catalogue.py", '"build_catalogue"'),
    "manage.py collectstatic": ("apps/home/management/commands/runall.py", '"collectstatic"'),
    "manage.py sandbox_origins": (  # a server: started and used by a test of its own
        "tests/integration/test_single_flight_sqlite.py",
        '"sandbox_origins"',
    ),
    "make run": ("tests/integration/test_embedded_run.py", '"runall"'),
    "pip install ./clients/python": ("tests/clients/test_python_client.py", '"pip",'),
    "make test": (".ci/run", "make test"),
    "make lint": ("Makefile", "test: $(VENV)/.dev lint"),
}
# Commands that are a step of a make target: found in its dry run.
IN_MAKE = {"npm pack": "catalogue", "pip download": "catalogue"}


def commands(page: Path) -> list[list[str]]:
    """The commands of a page in its order: each line of a ```sh block (continuations
    joined, comments dropped) and each inline `code` span that starts with a program."""
    found: list[tuple[int, str]] = []
    text = page.read_text()
    for block in re.finditer(r"^```(?:sh|bash|console)\n(.*?)^```", text, re.M | re.S):
        for line in block.group(1).replace("\\\n", " ").splitlines():
            found.append((block.start(), line))
    prose = re.sub(r"^```.*?^```", lambda m: " " * len(m.group()), text, flags=re.M | re.S)
    for span in re.finditer(r"`([^`]+)`", prose):
        words = span.group(1).split()
        program = next((w for w in words if "=" not in w), "")
        if program in PROGRAMS:
            found.append((span.start(), " ".join(words)))
    return [argv for _, line in sorted(found) if (argv := _argv(line))]


def _argv(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # PORT=9000 make run
        words.pop(0)
    if words[:1] in (["python"], [".venv/bin/python"]):
        words.pop(0)
    return words


def _elsewhere(argv: list[str]) -> tuple[str, str] | None:
    line = " ".join(argv)
    return next((v for k, v in ELSEWHERE.items() if line == k or line.startswith(k + " ")), None)


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {k: shlex.split(v) for k, _, v in (line.partition(":") for line in lines if line)}


def _make_dry_run(target: str) -> str:
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"make {target}: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_on_the_page_runs(page, live_server, token_credential, make_user):
    make_user("admin", "admin")
    token_credential(slug="feishu-prod")
    env = {**os.environ, "ZK_CLIENT_KEY": "", "KEY_ID": ""}
    for argv in commands(page):
        program, line = argv[0], " ".join(argv)
        if where := _elsewhere(argv):
            path, marker = where
            assert marker in (ROOT / path).read_text(), f"{line}: {path} no longer runs it"
        elif program == "make":
            assert len(argv) == 2, line
            _make_dry_run(argv[1])
        elif program == "manage.py":
            _manage(argv[1:], env)
        elif program == "curl":
            _curl(argv, env, live_server.url)
        elif program in ("celery", "granian"):
            kind = {"granian": "web", "worker": "worker", "beat": "beat"}.get(
                program if program == "granian" else argv[3], ""
            )
            procfile = _procfile()  # its lines are what tests/integration starts
            assert procfile[kind][: len(argv) - 1] == argv[:-1], line
            assert argv[-1] in procfile[kind], line
        elif " ".join(argv[:2]) in IN_MAKE:
            assert " ".join(argv[:2]) in _make_dry_run(IN_MAKE[" ".join(argv[:2])]), line
        else:
            pytest.fail(f"{page.name}: no test runs `{line}`")


def _manage(args: list[str], env: dict[str, str]) -> None:
    from apps.tokens.models import ClientKey

    args = [env[a[1:]] if a.startswith("$") else a for a in args]
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    if args[:2] == ["client_key", "create"]:
        env["ZK_CLIENT_KEY"] = out.getvalue().strip().splitlines()[-1]
        env["KEY_ID"] = str(ClientKey.objects.latest("pk").pk)
        assert env["ZK_CLIENT_KEY"].startswith("zkck_")


def _curl(argv: list[str], env: dict[str, str], url: str) -> None:
    command = []
    for word in argv:
        word = word.replace("$ZK_CLIENT_KEY", env["ZK_CLIENT_KEY"])
        for host in EXAMPLE_HOSTS:
            if word.startswith(host):
                word = url + word[len(host) :]
        command.append(word)
    command[1:1] = ["--fail", "--silent", "--show-error", "--max-time", "10"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{' '.join(argv)}: {result.stderr}"


def test_the_extraction_finds_what_a_reader_is_told_to_type():
    found = commands(ROOT / "docs" / "token-api.md")
    assert found[0][:5] == ["manage.py", "client_key", "create", "--name", "order-service"]
    assert any(argv[:3] == ["curl", "-X", "POST"] for argv in found)
    assert ["manage.py", "password_reset", "admin"] in commands(ROOT / "README.md")
    assert ["make", "run"] in commands(ROOT / "docs" / "operator.md")  # an inline one
    assert ["make", "catalogue"] in commands(ROOT / "docs" / "console.md")  # across a line


def test_every_page_the_readme_links_exists():
    links = re.findall(r"\]\((docs/[^)#]+)", (ROOT / "README.md").read_text())
    assert len(links) >= 8
    for link in links:
        assert (ROOT / link).is_file(), link
    assert {ROOT / link for link in links} == set(PAGES[1:])  # and every page is linked
