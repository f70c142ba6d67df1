"""Match, feedback and assignment schemas."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from greenplat.core.contacts.models import ContactRead

Direction = Literal[
    "problem_experts", "problem_achievements", "expert_problems", "achievement_problems", "search"
]
Target = Literal["problems", "achievements", "experts"]
FeedbackAction = Literal[
    "viewed", "invited", "interested", "declined", "contacted", "negotiating", "deal"
]
FEEDBACK_ACTIONS: tuple[str, ...] = FeedbackAction.__args__  # type: ignore[attr-defined]
ContractKind = Literal["development", "transfer", "consulting", "service"]
CONTRACT_KINDS: tuple[str, ...] = ContractKind.__args__  # type: ignore[attr-defined]
# Length limits live in feedback.check, once for the API and the portal; blank means absent.
Text = Annotated[
    str | None, BeforeValidator(lambda v: (v.strip() or None) if isinstance(v, str) else v)
]


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

    feedback.check() names the field when that, a decline's reason or a deal's kind is missing,
    or a text is too long. An invitation may carry a note, interest a proposal (方案), a deal
    its contract kind, amount in 万元 and date.
    """

    model_config = ConfigDict(extra="forbid")

    problem_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    expert_id: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    achievement_id: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    action: FeedbackAction
    reason: Text = None
    note: Text = None
    proposal_approach: Text = None
    proposal_timeframe: Text = None
    proposal_cost: Text = None
    contract_kind: ContractKind | None = None
    amount_wan: Annotated[Decimal | None, Field(ge=0, le=10**10, decimal_places=2)] = None
    deal_date: date | None = None


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
    note: str | None = None
    proposal_approach: str | None = None
    proposal_timeframe: str | None = None
    proposal_cost: str | None = None
    contract_kind: ContractKind | None = None
    amount_wan: Decimal | None = None
    deal_date: date | None = None


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


class PipelineRow(BaseModel):
    """One expert of a problem's pipeline: its stage, history, the actions the reader may take
    next, the other side's contact details once the expert consented, and the expert's fit
    for the problem (its level as in the problem's recommendations; None: below the bar)."""

    expert_id: int
    expert_external_id: str
    expert_name: str
    level: Literal["high", "good", "possible"] | None
    stage: str
    history: list[FeedbackRead]
    proposal: FeedbackRead | None
    offered: list[str]
    contacts: list[ContactRead]


class FollowupItem(BaseModel):
    """An approved problem no expert has answered yet."""

    id: int
    external_id: str
    title: str
    region: str | None
    industry: str | None
    approved_at: datetime | None
    days_waiting: float
    invited: int


class NudgeResult(BaseModel):
    notified: int
