"""What preprocessing did to the customers, in sentences and in fields a program can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.segmentation.transform import Scaling


@dataclass(frozen=True)
class PreprocessingReport:
    """What preprocessing did, for people (`steps`) and for programs (the other fields)."""

    steps: tuple[str, ...]
    rows_read: int
    customers: int
    rows_without_id: int
    excluded: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    skewness: dict[str, float | None] = field(default_factory=dict)
    suggested_log: tuple[str, ...] = ()
    log_applied: tuple[str, ...] = ()
    scaling: Scaling = "standard"
    encoded: dict[str, tuple[str, ...]] = field(default_factory=dict)
    columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": list(self.steps),
            "rows_read": self.rows_read,
            "customers": self.customers,
            "rows_without_id": self.rows_without_id,
            "excluded": dict(self.excluded),
            "dropped": dict(self.dropped),
            "imputed": dict(self.imputed),
            "skewness": dict(self.skewness),
            "suggested_log": list(self.suggested_log),
            "log_applied": list(self.log_applied),
            "scaling": self.scaling,
            "encoded": {k: list(v) for k, v in self.encoded.items()},
            "columns": list(self.columns),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessingReport:
        return cls(
            steps=tuple(data["steps"]),
            rows_read=int(data["rows_read"]),
            customers=int(data["customers"]),
            rows_without_id=int(data["rows_without_id"]),
            excluded=dict(data["excluded"]),
            dropped=dict(data["dropped"]),
            imputed={k: int(v) for k, v in data["imputed"].items()},
            skewness={k: None if v is None else float(v) for k, v in data["skewness"].items()},
            suggested_log=tuple(data["suggested_log"]),
            log_applied=tuple(data["log_applied"]),
            scaling=data["scaling"],
            encoded={k: tuple(v) for k, v in data["encoded"].items()},
            columns=tuple(data["columns"]),
        )
