"""Typed settings for every greenplat process, read once from GREENPLAT_* variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "greenplat-development-secret-change-me"


def available_cpus() -> int:
    """Cores this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def embed_threads_share(processes: int = 1) -> int:
    """Torch threads each of `processes` processes embeds queries with, unless set: the cores
    this process may run on less one (left to PostgreSQL and the rest), shared among them."""
    return max(1, (available_cpus() - 1) // processes)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "greenplat"


def _default_models_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "greenplat" / "models"


class Settings(BaseSettings):
    """Every setting of the platform; docs/configuration.md describes each one."""

    model_config = SettingsConfigDict(env_prefix="GREENPLAT_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment kind; production refuses insecure defaults."
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder of the embedded PostgreSQL and other local state.",
    )
    database_url: str | None = Field(
        None, description="PostgreSQL URL; unset starts the embedded PostgreSQL in data_dir."
    )
    db_pool_min: int = Field(1, ge=0, description="Smallest size of the connection pool.")
    db_pool_max: int = Field(10, ge=1, description="Largest size of the connection pool.")
    search_backend: Literal["auto", "postgres", "elasticsearch"] = Field(
        "auto", description="Where search runs; auto picks elasticsearch when es_url is set."
    )
    es_url: str | None = Field(None, description="Elasticsearch URL, e.g. http://es:9200.")
    es_index_prefix: str = Field("greenplat", description="Prefix of Elasticsearch index names.")
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis://... or amqp://...); unset runs tasks in-process.",
    )
    result_backend: str | None = Field(None, description="Celery result backend (optional).")
    queue_prefix: str = Field(
        "",
        description="Prefix of broker queue names and keys, isolating platforms sharing a broker.",
    )
    models_dir: Path = Field(
        default_factory=_default_models_dir,
        description="Folder holding prepared sentence-transformers models.",
    )
    models: str = Field(
        "zh:e5-small,en:minilm",
        description=(
            "Embedding models by language, 'lang:model' separated by commas. A model is a "
            "built-in name (e5-small, minilm, mpnet), a folder, or any sentence-transformers name."
        ),
    )
    embed_threads: int | None = Field(
        None,
        ge=1,
        description=(
            "Torch threads of a process that embeds queries; unset: the cores it may run on "
            "less one, shared among `greenplat serve`'s workers."
        ),
    )
    model_runtime: Literal["onnx-int8", "onnx", "torch"] = Field(
        "onnx-int8",
        description=(
            "What embeds queries: onnx-int8 (ONNX Runtime on the graph with int8 weights that "
            "`greenplat models prepare` makes: 2.5x faster, cosine 0.997 to the float vector), "
            "onnx (the exported float graph: torch's vectors) or torch. A model without an "
            "export runs on torch. Passages (indexing) always run on torch."
        ),
    )
    query_batch_ms: float = Field(
        0.0,
        ge=0,
        le=100,
        description=(
            "How long the query embedder waits for more queries to batch with one (0: it takes"
            " the queries waiting when it is free; those that arrive while it embeds go together)."
        ),
    )
    query_cache_size: int = Field(1024, ge=0, description="Query vectors kept in memory.")
    evidence_cache_vectors: int = Field(
        400_000,
        ge=0,
        description=(
            "Vectors of works and profiles a process keeps in memory for matching, with the"
            " works by author (e5-small: about 1.6 KB each; forgotten record by record as they"
            " change; 0: none, every match reads them from the database)."
        ),
    )
    warm_search: bool = Field(
        True,
        description=(
            "Before a served process answers: load what a first search needs (the query models,"
            " the word segmenter; 5-10 s) and leave it out of garbage collection. Off: the"
            " first search waits for the loading."
        ),
    )
    secret_key: str = Field(DEV_SECRET, description="Secret for signing tokens.")
    token_ttl_hours: int = Field(24 * 7, ge=1, description="Lifetime of API tokens.")
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted request body."
    )
    signin_window_seconds: int = Field(
        900, ge=1, description="Window in which failed sign-ins count; a lockout lasts as long."
    )
    signin_account_failures: int = Field(
        5, ge=1, description="Failed sign-ins of one account within the window that lock it."
    )
    signin_address_failures: int = Field(
        30, ge=1, description="Failed sign-ins from one address within the window that lock it."
    )
    signup_window_seconds: int = Field(3600, ge=1, description="Window in which sign-ups count.")
    signup_address_attempts: int = Field(
        10, ge=1, description="Sign-up attempts from one address within the sign-up window."
    )
    reset_link_minutes: int = Field(
        60, ge=5, le=24 * 60, description="How long a password reset link works."
    )
    reset_email_attempts: int = Field(
        3, ge=1, description="Reset e-mails asked for one address within the sign-up window."
    )
    reset_address_attempts: int = Field(
        10, ge=1, description="Reset requests from one client address within the sign-up window."
    )
    trusted_proxies: str = Field(
        "",
        description=(
            "Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed"
            " (comma-separated, '*' for any); empty believes none."
        ),
    )
    metrics_token: str | None = Field(
        None,
        description="Bearer token that /metrics requires; unset serves /metrics to loopback only.",
    )
    import_max_rows: int = Field(
        1_000_000,
        ge=1,
        description=(
            "Most data rows one import reads; an XLSX declaring more is refused before it is "
            "expanded, and rows past the cap in CSV or JSON Lines are reported as not read."
        ),
    )
    import_max_cell_chars: int = Field(
        131_072,
        ge=1024,
        le=131_072,
        description=(
            "Longest cell (characters) an import accepts; a row with a longer cell is rejected "
            "alone. At most 131072, the CSV reader's own limit."
        ),
    )
    import_max_row_chars: int = Field(
        1_048_576,
        ge=1024,
        description=(
            "Longest row (characters) of a CSV or JSON Lines import; a longer row is read "
            "through without being kept and rejected alone."
        ),
    )
    import_max_unzipped_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        description=(
            "Largest total uncompressed size an XLSX may declare; a larger one (a zip bomb) is "
            "refused before anything is expanded."
        ),
    )
    host: str = Field("127.0.0.1", description="Address `greenplat serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `greenplat serve` binds.")
    web_workers: int = Field(
        default_factory=lambda: min(4, available_cpus()),
        ge=1,
        le=32,
        description=(
            "Processes `greenplat serve` answers with (one interpreter runs Python on one core "
            "at a time); default: the cores available, at most 4."
        ),
    )
    log_json: bool = Field(False, description="Write structured JSON logs.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Address of the portal that links in e-mails use."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for notification e-mails; unset sends no e-mail."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        "starttls", description="How the SMTP connection is encrypted."
    )
    smtp_user: str | None = Field(None, description="SMTP user name (unset: no login).")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_from: str = Field(
        "greenplat <noreply@greenplat.local>", description="Sender address of e-mails."
    )
    mail_max_attempts: int = Field(
        8, ge=1, description="Attempts at one e-mail before it is marked failed for admins."
    )
    notify_top_experts: int = Field(
        3, ge=0, le=50, description="How many top experts hear of a newly approved problem."
    )
    followup_days: int = Field(
        7, ge=1, description="Days an approved problem may wait unanswered before follow-up."
    )

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("GREENPLAT_SECRET_KEY must be set in production")
        return self

    @property
    def effective_embed_threads(self) -> int:
        """Torch threads for query embedding: as set, else embed_threads_share()."""
        return self.embed_threads or embed_threads_share()

    @property
    def effective_search_backend(self) -> str:
        if self.search_backend == "auto":
            return "elasticsearch" if self.es_url else "postgres"
        return self.search_backend


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
