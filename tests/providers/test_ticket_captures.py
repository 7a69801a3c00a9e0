"""The platforms' real replies to a ticket call made with a token they do not honour
(tests/captures/tickets.json, each with its public source): the adapters read them as a
rejected token (so the token is compare-and-refreshed and the ticket asked once more), and
the emulators' ticket endpoints answer the same situation with the same reply: status, the
same fields, code and wording (ids and hints aside)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from apps.providers.base import Classification, ProviderError
from apps.providers.client import fetch_token
from apps.providers.registry import get_provider
from apps.sandbox.models import SandboxToken

CAPTURES = json.loads(
    (Path(__file__).resolve().parent.parent / "captures" / "tickets.json").read_text()
)
IDS = [f"{c['provider']}-{c['expect']['code']}-{i}" for i, c in enumerate(CAPTURES)]


def _words(message: str) -> str:
    """A message without the per-call hint, request id or help link the platform appends."""
    return re.split(r",?\s*(?:hint|rid|more details|could get)\b", message)[0]


def _shape(obj: dict) -> tuple:
    code = obj.get("errcode", obj.get("code"))
    message = obj.get("errmsg", obj.get("msg", obj.get("message")))
    return (sorted(obj), str(code), _words(str(message)))


@pytest.mark.parametrize("case", CAPTURES, ids=IDS)
def test_a_ticket_refused_for_its_token_reads_as_a_rejected_token(case):
    platform = get_provider(case["provider"])
    with pytest.raises(ProviderError) as refused:
        platform.parse_ticket(case["status"], case["headers"], case["body"].encode())
    decoded = refused.value.decoded
    assert decoded.classification is Classification.TOKEN_REJECTED
    assert decoded.token_rejected and decoded.code == case["expect"]["code"]
    assert case["source"].startswith("https://")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", CAPTURES, ids=IDS)
def test_the_emulator_refuses_a_ticket_call_as_the_platform_does(case, token_credential):
    credential, app = token_credential(case["provider"], slug=f"{case['provider']}-fidelity")
    platform = credential.platform
    token = "t-" + "0" * 40  # a token the platform never issued
    if case["situation"] == "token_expired":
        token = fetch_token(
            platform,
            base_url=credential.effective_base_url,
            creds=credential.adapter_values(),
            internal=settings.CONSOLE_INTERNAL_TARGETS,
        ).access_token
        SandboxToken.objects.filter(app=app).update(valid_until=timezone.now() - timedelta(1))
    request = platform.ticket_request(
        credential.effective_base_url, credential.adapter_values(), token, case["ticket"]
    )
    answer = requests.request(
        request.method,
        request.url,
        params=request.params,
        headers=request.headers,
        json=request.json,
        timeout=10,
    )
    captured = json.loads(case["body"])
    assert answer.status_code == case["status"]
    assert _shape(answer.json()) == _shape(captured), (answer.text, case["body"])
    if isinstance(captured.get("error"), dict):  # Feishu's error object
        assert sorted(answer.json()["error"]) == sorted(captured["error"])
