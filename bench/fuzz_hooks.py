"""Schemathesis hooks for bench/fuzz.py: the accounts being fuzzed with stay usable."""

from __future__ import annotations

import os

import schemathesis

_KEEP = {i for i in os.environ.get("GREENPLAT_FUZZ_KEEP_USERS", "").split(",") if i}


@schemathesis.hook
def filter_path_parameters(context, path_parameters) -> bool:
    # A platform admin fuzzing /v1/users/{user_id} must not switch off the fuzzing accounts.
    return str((path_parameters or {}).get("user_id")) not in _KEEP
