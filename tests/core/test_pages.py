"""Every page is served with a strict CSP and carries no inline script or style."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    ("admin", "/"),
    ("admin", "/accounts/users/"),
    ("admin", "/accounts/password/"),
    (None, "/accounts/login/"),
    ("developer", "/no-such-page/"),
    ("developer", "/accounts/users/"),
]


@pytest.mark.parametrize("role,path", PAGES)
def test_pages_have_a_strict_csp_and_no_inline_code(client_as, role, path):
    response = client_as(role).get(path)
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src.strip() == "'self'"
    assert "unsafe" not in csp
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert 'hx-headers=\'{"x-csrftoken": "' in html


def test_htmx_is_configured_without_eval_and_served_locally(client_as):
    html = client_as("admin").get("/").content.decode()
    assert '"allowEval":false' in html and '"includeIndicatorStyles":false' in html
    assert '"historyCacheSize":0' in html
    assert re.search(r'<script src="/static/vendor/htmx/htmx.min.js"', html)
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
