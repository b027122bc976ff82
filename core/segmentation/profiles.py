"""Who is in each segment: sizes, feature averages against everyone, category shares, a name.

A feature's effect is the standardised difference (segment mean - overall mean) / overall
standard deviation, in the feature's own units (before log and scaling). A category level's
effect is (segment share - overall share) / sqrt(overall share × (1 - overall share)).
Names come from the one or two strongest effects of at least `NAME_MIN_EFFECT` ("high annual
income, low spending score"; "mostly Germany" for a level held by most of the segment); when
two segments would share a name, more features are added, then a number.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.segmentation.algorithms import NOISE
from core.segmentation.transform import LEVEL_SEPARATOR

NAME_MIN_EFFECT = 0.3
NAME_FEATURES = 2
MOSTLY_SHARE = 0.5
TOP_DISTINGUISHING = 5
NOISE_NAME = "unassigned (noise)"
AVERAGE_NAME = "average customers"


@dataclass(frozen=True)
class FeatureProfile:
    """One numeric feature in one segment against all customers."""

    feature: str
    mean: float
    median: float
    overall_mean: float
    overall_median: float
    effect: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "mean": self.mean,
            "median": self.median,
            "overall_mean": self.overall_mean,
            "overall_median": self.overall_median,
            "effect": self.effect,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureProfile:
        return cls(
            feature=str(data["feature"]),
            **{k: float(data[k]) for k in ("mean", "median", "overall_mean", "overall_median")},
            effect=float(data["effect"]),
        )


@dataclass(frozen=True)
class SegmentProfile:
    """One segment (-1 is noise): size, share, features, what sets it apart, category shares.

    `distinguishing` lists up to `TOP_DISTINGUISHING` (feature or "column = level", effect)
    pairs, strongest first. `categories` maps each category column to its levels' shares in
    the segment, largest first.
    """

    segment: int
    name: str
    size: int
    share: float
    features: tuple[FeatureProfile, ...]
    distinguishing: tuple[tuple[str, float], ...]
    categories: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "name": self.name,
            "size": self.size,
            "share": self.share,
            "features": [f.to_dict() for f in self.features],
            "distinguishing": [[name, effect] for name, effect in self.distinguishing],
            "categories": {c: dict(levels) for c, levels in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProfile:
        return cls(
            segment=int(data["segment"]),
            name=str(data["name"]),
            size=int(data["size"]),
            share=float(data["share"]),
            features=tuple(FeatureProfile.from_dict(f) for f in data["features"]),
            distinguishing=tuple((str(n), float(e)) for n, e in data["distinguishing"]),
            categories={
                c: {str(k): float(v) for k, v in levels.items()}
                for c, levels in data["categories"].items()
            },
        )


def build_profiles(
    values: pd.DataFrame, described: pd.DataFrame, labels: np.ndarray
) -> tuple[SegmentProfile, ...]:
    """Profiles of every segment, noise last, from feature values and descriptive columns.

    `values` and `described` are indexed by customer, rows aligned with `labels`.
    """
    numeric = [c for c in values.columns if pd.api.types.is_numeric_dtype(values[c])]
    category_features = [c for c in values.columns if c not in numeric]
    text_described = [
        c for c in described.columns if not pd.api.types.is_numeric_dtype(described[c])
    ]
    n = len(labels)
    segments = sorted(int(s) for s in np.unique(labels) if s != NOISE)
    if NOISE in labels:
        segments.append(NOISE)

    phrases: dict[int, list[str]] = {}
    drafts: list[dict[str, Any]] = []
    for segment in segments:
        mask = labels == segment
        features = tuple(_feature_profile(values[c], mask) for c in numeric)
        effects: list[tuple[str, float, str]] = []
        for f in features:
            effects.append(
                (f.feature, f.effect, f"{'high' if f.effect > 0 else 'low'} {_words(f.feature)}")
            )
        for column in category_features:
            effects.extend(_level_effects(values[column], mask, column))
        effects.sort(key=lambda e: (-abs(e[1]), e[0]))
        phrases[segment] = [
            phrase for _, effect, phrase in effects if phrase and abs(effect) >= NAME_MIN_EFFECT
        ]
        categories = {
            column: _shares(frame[column][mask])
            for frame, columns in ((values, category_features), (described, text_described))
            for column in columns
        }
        drafts.append(
            {
                "segment": segment,
                "size": int(mask.sum()),
                "share": float(mask.sum() / n) if n else 0.0,
                "features": features,
                "distinguishing": tuple((name, e) for name, e, _ in effects[:TOP_DISTINGUISHING]),
                "categories": categories,
            }
        )
    names = unique_names({s: p for s, p in phrases.items() if s != NOISE})
    names[NOISE] = NOISE_NAME
    return tuple(SegmentProfile(name=names[d["segment"]], **d) for d in drafts)


def unique_names(phrases: dict[int, list[str]]) -> dict[int, str]:
    """A distinct name per segment from its phrases (strongest first), adding detail on clashes."""
    detail = dict.fromkeys(phrases, NAME_FEATURES)

    def name(segment: int) -> str:
        chosen = phrases[segment][: detail[segment]]
        return ", ".join(chosen) if chosen else AVERAGE_NAME

    while True:
        groups: dict[str, list[int]] = defaultdict(list)
        for segment in phrases:
            groups[name(segment)].append(segment)
        clashes = [g for g in groups.values() if len(g) > 1]
        growable = [s for g in clashes for s in g if detail[s] < len(phrases[s])]
        if not growable:
            break
        for segment in growable:
            detail[segment] += 1

    names = {s: name(s) for s in phrases}
    taken = set(names.values())
    seen: dict[str, int] = defaultdict(int)
    for segment in sorted(phrases):
        base = names[segment]
        seen[base] += 1
        if seen[base] == 1:
            continue
        number = seen[base]
        while f"{base} ({number})" in taken:
            number += 1
        names[segment] = f"{base} ({number})"
        taken.add(names[segment])
    return names


def _feature_profile(column: pd.Series, mask: np.ndarray) -> FeatureProfile:
    values = column.to_numpy(float)
    inside = values[mask]
    overall_mean = float(values.mean())
    sd = float(values.std())
    mean = float(inside.mean()) if inside.size else float("nan")
    return FeatureProfile(
        feature=str(column.name),
        mean=mean,
        median=float(np.median(inside)) if inside.size else float("nan"),
        overall_mean=overall_mean,
        overall_median=float(np.median(values)),
        effect=(mean - overall_mean) / sd if sd > 0 and inside.size else 0.0,
    )


def _level_effects(column: pd.Series, mask: np.ndarray, name: str) -> list[tuple[str, float, str]]:
    text = column.to_numpy(object)
    found: list[tuple[str, float, str]] = []
    for level in sorted({str(v) for v in text}):
        hits = text == level
        overall = float(hits.mean())
        inside = float(hits[mask].mean()) if mask.any() else 0.0
        spread = float(np.sqrt(overall * (1 - overall)))
        effect = (inside - overall) / spread if spread > 0 else 0.0
        # A bare code ("mostly 2") says nothing without its column ("mostly channel 2").
        label = f"{_words(name)} {level}" if _is_code(level) else level
        phrase = f"mostly {label}" if inside >= MOSTLY_SHARE and effect > 0 else ""
        found.append((f"{name}{LEVEL_SEPARATOR}{level}", effect, phrase))
    return found


def _shares(values: pd.Series) -> dict[str, float]:
    counts = values.dropna().astype(str).value_counts()
    total = int(counts.sum())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {str(level): count / total for level, count in ordered} if total else {}


def _is_code(level: str) -> bool:
    return bool(re.fullmatch(r"[\d.,\-]+", level))


def _words(feature: str) -> str:
    """'Annual Income ($)' -> 'annual income'; 'Detergents_Paper' -> 'detergents paper'."""
    text = re.sub(r"\([^)]*\)", " ", feature).replace("_", " ")
    words = " ".join(text.split()).lower()
    return words or feature.lower()
