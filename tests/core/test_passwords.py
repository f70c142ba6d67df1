"""The password policy: one check, applied by every path that sets a password."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from greenplat.core.accounts.passwords import check_password, common_passwords
from greenplat.core.errors import InvalidInput

WEAK = [
    "password",  # the example, and the most common password there is
    "12345678",
    "qwertyui",
    "greenplat",
    "password123",  # long enough, but on the shipped list
    "Password1234",  # the list is matched without case
    "qwertyuiop",  # a keyboard row
    "1234567890",
    "aaaaaaaaaaaa",
    "abcabcabcabc",
    "correcthorsebatterystaple",  # one kind of character
    "short-1",
]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_naming_the_field(password):
    with pytest.raises(InvalidInput) as caught:
        check_password(password)
    assert caught.value.field == "password"
    assert " / " in caught.value.message  # 中文 / English


def test_a_password_equal_to_the_username_is_refused():
    with pytest.raises(InvalidInput):
        check_password("Zhang.Wei-2026", username="zhang.wei-2026")


def test_the_shipped_list_is_loaded():
    words = common_passwords()
    assert len(words) > 19_000
    assert {"password", "12345678", "qwertyui", "greenplat"} <= words


def test_the_demo_accounts_meet_the_policy():
    data = resources.files("greenplat.core.demo") / "data" / "accounts.jsonl"
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 5
    for row in rows:
        check_password(row["password"], username=row["username"])
