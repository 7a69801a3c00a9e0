"""Each platform's reissue rule, as its docs state it, lives in its adapter."""

from __future__ import annotations

import pytest

from apps.providers.registry import get_provider


@pytest.mark.parametrize(
    ("provider", "values", "remaining", "reissues"),
    [
        ("feishu", {}, 1801, True),  # the same token while more than 30 minutes remain
        ("feishu", {}, 1799, False),
        ("wecom", {}, 5, True),  # 有效期内重复获取返回相同结果
        ("dingtalk", {}, 5, True),  # 自动续期: the same token, extended
        ("wechat", {"token_endpoint": "stable"}, 301, True),  # renewed 5 minutes early
        ("wechat", {"token_endpoint": "stable"}, 299, False),
        ("wechat", {"token_endpoint": "classic"}, 7000, False),  # every fetch rotates
    ],
)
def test_reissue_rule(provider, values, remaining, reissues):
    policy = get_provider(provider).policy_for(values)
    assert policy.reissues(remaining) is reissues
    if reissues:
        assert policy.reissue_source.startswith("https://")


def test_a_reissued_token_is_kept_until_the_platform_would_issue_a_new_one():
    feishu = get_provider("feishu").policy_for({})
    assert feishu.reissued_until(10_000.0) == 10_000.0 - 1800
    assert (
        get_provider("wechat").policy_for({"token_endpoint": "classic"}).reissued_until(1) is None
    )
