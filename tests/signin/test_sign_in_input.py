"""Every input the platform sign-in takes from a browser (the callback's query, the admins'
settings form) answers a page or a clear 4xx, never a 500: property tests, any text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.signin.models import PlatformSignIn
from tests.conftest import CsrfClient

pytestmark = pytest.mark.django_db(transaction=True)
TEXT = st.text(max_size=80) | st.sampled_from(["", "\x00", "a" * 5000, "%", "../", "<script>"])


@pytest.fixture
def feishu(token_credential):
    credential, _ = token_credential("feishu", slug="feishu-input")
    PlatformSignIn.objects.create(provider="feishu", credential=credential)
    return credential


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=TEXT, state=TEXT, error=TEXT | st.none())
def test_any_callback_query_is_a_page_not_a_failure(feishu, code, state, error):
    query = {"code": code, "state": state} | ({"error": error} if error is not None else {})
    answer = CsrfClient().get("/accounts/platforms/feishu/login/callback/", query)
    assert answer.status_code in (200, 302, 400, 401, 404), answer.status_code  # 401: refused


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(credential=TEXT, role=TEXT)
def test_any_settings_form_is_saved_or_refused_clearly(feishu, client_as, credential, role):
    answer = client_as("admin").post(
        "/accounts/platform-sign-in/",
        {"feishu-credential": credential, "feishu-default_role": role},
    )
    assert answer.status_code in (302, 422), answer.status_code
