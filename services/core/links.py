"""Paths of the portal's pages of a record. Users see a record's external id, never its internal
number, so every path and fragment that names a problem, achievement or expert is built here."""

from __future__ import annotations

from urllib.parse import quote


def segment(external_id: str) -> str:
    """An external id as one path segment or fragment: every reserved character quoted."""
    return quote(str(external_id), safe="")


def problem(external_id: str) -> str:
    """The problem's page."""
    return f"/problems/{segment(external_id)}"


def thread(problem_external_id: str, expert_external_id: str) -> str:
    """The message thread of a (problem, expert) pair."""
    return f"/messages/{segment(problem_external_id)}/{segment(expert_external_id)}"


def anchor(page: str, prefix: str, external_id: str) -> str:
    """A page scrolled to the element of a record (element id prefix + external id)."""
    return f"{page}#{prefix}{segment(external_id)}"
