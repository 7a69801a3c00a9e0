"""Property-based: no decoder raises, whatever bytes, headers and status arrive."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.providers.base import Classification, Decoded
from apps.providers.registry import PROVIDERS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "code",
                    "msg",
                    "data",
                    "error",
                    "err",
                    "err_code",
                    "errcode",
                    "errmsg",
                    "ret",
                    "errCode",
                    "request_id",
                    "log_id",
                    "logid",
                    "pagination",
                    "has_more",
                    "page_token",
                    "field_violations",
                    "accessToken",
                    "expire",
                    "message",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)
bodies = (
    st.binary(max_size=2048)
    | json_values.map(lambda v: json.dumps(v, allow_nan=True).encode())
    | st.integers(1, 100_000).map(lambda n: b'{"code": 0, "data": ' + b"[" * n + b"]" * n + b"}")
)
headers = st.dictionaries(
    st.sampled_from(
        [
            "x-tt-logid",
            "X-Tt-Logid",
            "Flashcat-Request-Id",
            "x-ogw-ratelimit-reset",
            "Authorization",
            "Content-Type",
        ]
    )
    | st.text(max_size=10),
    st.text(max_size=40),
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(sorted(PROVIDERS)), status=st.integers(0, 999), headers=headers, body=bodies
)
def test_decode_never_raises(key, status, headers, body):
    decoded = PROVIDERS[key].decode(status, headers, body)
    assert isinstance(decoded, Decoded)
    # decode() turns a decoder's own exception into MALFORMED; none may get that far.
    assert not decoded.problem.startswith("decoder_error"), decoded.problem
    assert isinstance(decoded.classification, Classification)
    assert decoded.ok == (decoded.classification is Classification.OK)
    if decoded.ok:
        assert 200 <= decoded.http_status < 300
