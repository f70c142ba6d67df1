"""Match, feedback and assignment schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Direction = Literal[
    "problem_experts", "problem_achievements", "expert_problems", "achievement_problems", "search"
]
Target = Literal["problems", "achievements", "experts"]
FeedbackAction = Literal["viewed", "interested", "declined", "contacted", "deal", "invited"]
FEEDBACK_ACTIONS: tuple[str, ...] = FeedbackAction.__args__  # type: ignore[attr-defined]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class MatchRead(BaseModel):
    """One recommended record, best first, with its score and the reasons for it."""

    library: Target
    id: int
    external_id: str
    title: str
    score: float
    # How well it fits, in words a person understands: high / good / possible (the relevance
    # bar's calibrated probability, see docs/matching.md); None when the bar was lifted and
    # the match is below it.
    level: Literal["high", "good", "possible"] | None = None
    # Reasons in the source's language; `reasons` holds them in every reader language.
    why: list[str]
    reasons: dict[str, list[str]] = {}
    components: dict[str, Any] = {}
    record: dict[str, Any] = {}
    redacted: bool = False


class MatchPage(BaseModel):
    """A page of matches for one source."""

    direction: Direction
    source: dict[str, Any]
    items: list[MatchRead]
    page: int
    page_size: int
    has_more: bool


class FeedbackCreate(BaseModel):
    """An action on a match: the problem and exactly one of expert_id or achievement_id.

    feedback.check() names the field when that, or a decline's reason, is missing.
    """

    model_config = ConfigDict(extra="forbid")

    problem_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    expert_id: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    achievement_id: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    action: FeedbackAction
    reason: Reason | None = None


class FeedbackRead(BaseModel):
    id: int
    problem_id: int
    expert_id: int | None
    achievement_id: int | None
    action: FeedbackAction
    reason: str | None
    actor_id: int | None
    actor_role: str
    created_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackRead]
    total: int
    page: int
    page_size: int


class AssignRequest(BaseModel):
    """An event (对接会): which problems and experts meet, k experts per problem."""

    model_config = ConfigDict(extra="forbid")

    problem_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=500)]
    expert_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=5000)]
    k: Annotated[int, Field(ge=1, le=50)] = 3
    record: bool = Field(False, description="Store each pairing as an 'invited' feedback action.")


class AssignedExpert(BaseModel):
    expert_id: int
    external_id: str
    name: str
    score: float


class AssignedProblem(BaseModel):
    problem_id: int
    external_id: str
    title: str
    experts: list[AssignedExpert]
    unfilled: int


class AssignResult(BaseModel):
    problems: list[AssignedProblem]
    total_score: float
    recorded: bool
