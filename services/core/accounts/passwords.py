"""The password policy: one check for every path that sets a password.

common-passwords.txt.gz is Django's list (django/contrib/auth/common-passwords.txt.gz, BSD
licence): 19,646 passwords from Royce Williams' list of the 20,000 most common ones in breaches.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import lru_cache
from importlib import resources

from greenplat.core.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256
# Words of this platform that the breach list cannot know.
_PLATFORM_WORDS = frozenset({"greenplat", "greenplat1", "lvpingtai", "绿平台"})
_SEQUENCES = "abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    data = (resources.files("greenplat.core.accounts") / "common-passwords.txt.gz").read_bytes()
    words = gzip.decompress(data).decode("utf-8").split()
    return frozenset(w.strip().lower() for w in words) | _PLATFORM_WORDS


def _classes(password: str) -> int:
    """How many kinds of character: lower, upper, digit, other letter (e.g. 汉字), symbol."""

    def kind(ch: str) -> str:
        if ch.isdigit():
            return "digit"
        if ch.islower() or ch.isupper():
            return "lower" if ch.islower() else "upper"
        return "letter" if unicodedata.category(ch).startswith("L") else "symbol"

    return len({kind(ch) for ch in password})


def _trivial(password: str) -> bool:
    """One character repeated, a short unit repeated, or a run of a keyboard or alphabet."""
    lowered = password.lower()
    for size in range(1, len(lowered) // 2 + 1):
        unit = lowered[:size]
        if len(lowered) % size == 0 and unit * (len(lowered) // size) == lowered:
            return True
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)


def _problem(password: str, username: str | None) -> str | None:
    if password.lower() in common_passwords() or _trivial(password):
        return "密码过于常见或有规律，请换一个 / password is too common or too predictable"
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位 / password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 位 / password must have at most {MAX_LENGTH} characters"
    if _classes(password) < 2:
        return (
            "密码须包含至少两类字符（字母、数字、符号）"
            " / password needs at least two kinds of character (letters, digits, symbols)"
        )
    if username and password.lower() == username.lower():
        return "密码不能与用户名相同 / password must differ from the username"
    return None


def check_password(password: str, *, username: str | None = None) -> None:
    """Raise InvalidInput (field password) unless the password meets the policy."""
    problem = _problem(password, username)
    if problem is not None:
        raise InvalidInput(problem, field="password")
