"""Configuration from the environment, read once.

Every knob has a default that works on a fresh clone; production sets DATABASE_URL,
OPENAI_API_KEY and friends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOME = REPO_ROOT / ".orderflow"  # git-ignored: embedded Postgres data, logs
DEFAULT_PG_PORT = 54329


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str | None  # None: use the embedded Postgres
    home: Path
    pg_port: int | None  # None: the embedded server's remembered port (or 54329, or any free one)
    supabase_dir: Path
    openai_api_key: str | None
    openai_base_url: str | None
    openai_model: str
    openai_timeout_s: float = 30.0  # per HTTP attempt; a local model or a busy proxy needs more
    openai_max_attempts: int = 4  # first call + retries
    worker_concurrency: int
    lease_seconds: int
    retry_base: float  # seconds; a failed attempt waits retry_base * 2**(attempt-1)
    allow_private_webhook_targets: bool
    simulated_ai_latency_ms: int  # benchmarks only: add this delay to every analysis
    master_key: str | None = field(default=None, repr=False)  # None: the embedded database's key file
    previous_master_key: str | None = field(default=None, repr=False)  # during a master key rotation
    whatsapp_graph_url: str = "https://graph.facebook.com"  # WHATSAPP_GRAPH_URL: Meta's Graph API (or a stand-in)
    whatsapp_api_version: str = "v23.0"  # ORDERFLOW_WHATSAPP_API_VERSION
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"  # ORDERFLOW_OPENAI_TRANSCRIBE_MODEL: voice notes

    @property
    def migrations_dir(self) -> Path:
        return self.supabase_dir / "migrations"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _positive(name: str, default: str, kind: type[float] | type[int]) -> float:
    raw = os.environ.get(name, default).strip() or default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: not a {kind.__name__}") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: must be greater than 0")
    return value


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        home=Path(env.get("ORDERFLOW_HOME", str(DEFAULT_HOME))),
        pg_port=int(env["ORDERFLOW_PG_PORT"]) if env.get("ORDERFLOW_PG_PORT") else None,
        supabase_dir=Path(env.get("ORDERFLOW_SUPABASE_DIR", str(REPO_ROOT / "supabase"))),
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        openai_model=env.get("ORDERFLOW_OPENAI_MODEL", "gpt-4o-mini"),
        openai_timeout_s=float(_positive("ORDERFLOW_OPENAI_TIMEOUT_S", "30", float)),
        openai_max_attempts=int(_positive("ORDERFLOW_OPENAI_MAX_ATTEMPTS", "4", int)),
        worker_concurrency=int(env.get("ORDERFLOW_WORKER_CONCURRENCY", "32")),
        lease_seconds=int(env.get("ORDERFLOW_LEASE_SECONDS", "60")),
        retry_base=float(env.get("ORDERFLOW_RETRY_BASE", "2.0")),
        allow_private_webhook_targets=_flag("ORDERFLOW_ALLOW_PRIVATE_WEBHOOKS"),
        simulated_ai_latency_ms=int(env.get("ORDERFLOW_SIMULATED_AI_LATENCY_MS", "0")),
        master_key=env.get("ORDERFLOW_MASTER_KEY") or None,
        previous_master_key=env.get("ORDERFLOW_PREVIOUS_MASTER_KEY") or None,
        whatsapp_graph_url=env.get("WHATSAPP_GRAPH_URL") or "https://graph.facebook.com",
        whatsapp_api_version=env.get("ORDERFLOW_WHATSAPP_API_VERSION") or "v23.0",
        openai_transcribe_model=env.get("ORDERFLOW_OPENAI_TRANSCRIBE_MODEL") or "gpt-4o-mini-transcribe",
    )


__all__ = ["DEFAULT_PG_PORT", "REPO_ROOT", "Settings", "load_settings"]
