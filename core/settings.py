"""Settings read from environment variables (and `.streamlit/secrets.toml`), when asked for.

Every variable is optional: unset means the embedded default (SQLite file, embedded document
store, embedded durable queue, all under the data folder). See the README's configuration table.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError

PREFIX = "PIPEWORKS_"
DEFAULT_DATA_DIR = "data"
DEFAULT_MONGO_DB = "pipeworks"
DEFAULT_TOPIC_PREFIX = "pipeworks."
DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_MAX_ROWS = 1_048_576
DEFAULT_PARSE_MEMORY_MB = 3_072
DEFAULT_PARSE_TIMEOUT_S = 300
DEFAULT_POLL_INTERVAL_S = 1.0
SECRETS_FILE = Path(".streamlit/secrets.toml")

# Every variable the settings read; docker-compose.yml may set only these.
VARIABLES = (
    "PIPEWORKS_DATA_DIR",
    "PIPEWORKS_DATABASE_URL",
    "PIPEWORKS_MONGO_URL",
    "PIPEWORKS_MONGO_DB",
    "PIPEWORKS_KAFKA_BOOTSTRAP",
    "PIPEWORKS_TOPIC_PREFIX",
    "PIPEWORKS_MAX_UPLOAD_MB",
    "PIPEWORKS_MAX_ROWS",
    "PIPEWORKS_PARSE_MEMORY_MB",
    "PIPEWORKS_PARSE_TIMEOUT_S",
    "PIPEWORKS_POLL_INTERVAL_S",
    "PIPEWORKS_EMBEDDED_WORKER",
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The resolved configuration. `None` for a server URL means the embedded adapter."""

    data_dir: Path
    database_url: str | None = None
    mongo_url: str | None = None
    mongo_db: str = DEFAULT_MONGO_DB
    kafka_bootstrap: str | None = None
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    max_rows: int = DEFAULT_MAX_ROWS
    parse_memory_mb: int = DEFAULT_PARSE_MEMORY_MB
    parse_timeout_s: int = DEFAULT_PARSE_TIMEOUT_S
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    embedded_worker: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def relational_url(self) -> str:
        """SQLAlchemy URL of the relational store (a SQLite file when none is configured)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'pipeworks.db'}"

    @property
    def documents_path(self) -> Path:
        return self.data_dir / "documents.db"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def is_embedded(self) -> bool:
        """True when the message bus is the embedded queue (the app then runs the worker)."""
        return self.kafka_bootstrap is None

    def topic(self, dataset: str) -> str:
        return f"{self.topic_prefix}{dataset}"

    @property
    def consumer_group(self) -> str:
        """The worker's consumer group, named after the topic prefix (`pipeworks.` gives
        `pipeworks-worker`), so installs sharing one Kafka with their own prefixes never share
        a group."""
        return f"{self.topic_prefix.rstrip('.-_') or DEFAULT_TOPIC_PREFIX.rstrip('.')}-worker"


def load_settings(
    environ: Mapping[str, str] | None = None, *, secrets_file: Path | None = SECRETS_FILE
) -> Settings:
    """Read settings now: environment first, then `secrets.toml` keys of the same names."""
    env = dict(_secrets(secrets_file))
    env.update({k: v for k, v in (os.environ if environ is None else environ).items() if v != ""})

    def get(name: str) -> str | None:
        return env.get(PREFIX + name)

    data_dir = Path(get("DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    return Settings(
        data_dir=data_dir,
        database_url=get("DATABASE_URL"),
        mongo_url=get("MONGO_URL"),
        mongo_db=get("MONGO_DB") or DEFAULT_MONGO_DB,
        kafka_bootstrap=get("KAFKA_BOOTSTRAP"),
        topic_prefix=get("TOPIC_PREFIX") or DEFAULT_TOPIC_PREFIX,
        max_upload_mb=_number(get, "MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB),
        max_rows=_number(get, "MAX_ROWS", DEFAULT_MAX_ROWS),
        parse_memory_mb=_number(get, "PARSE_MEMORY_MB", DEFAULT_PARSE_MEMORY_MB),
        parse_timeout_s=_number(get, "PARSE_TIMEOUT_S", DEFAULT_PARSE_TIMEOUT_S),
        poll_interval_s=float(_number(get, "POLL_INTERVAL_S", DEFAULT_POLL_INTERVAL_S)),
        embedded_worker=(get("EMBEDDED_WORKER") or "true").lower() not in {"0", "false", "no"},
    )


def _number(get, name: str, default: float) -> int:  # type: ignore[no-untyped-def]
    raw = get(name)
    if raw is None:
        return default  # type: ignore[return-value]
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{PREFIX}{name} must be positive, got {raw!r}")
    return int(value) if value.is_integer() else value  # type: ignore[return-value]


def _secrets(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return {k: str(v) for k, v in data.items() if k.startswith(PREFIX)}
