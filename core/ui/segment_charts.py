"""Figures and tables of the segmentation screen, built from results and DataFrames.

Pure functions (no Streamlit calls), so each can be tested on its own. Every segment keeps
one colour across the figures; noise (-1) is grey and drawn as its own group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from core.segmentation import NOISE, DbscanGuide, KChoice, SegmentationResult, SegmentProfile
from core.usecases.segmentation import RunComparison, RunSummary

PALETTE = qualitative.Plotly + qualitative.D3 + qualitative.Set3
NOISE_COLOUR = "#b0b0b0"
TOP_COUNTRIES = 10
OTHER_COUNTRIES = "Other countries"
DETAIL_LABELS = {"name": "Name", "country_name": "Country", "city": "City"}
MAX_BOX_POINTS = 2_000
WEBGL_POINTS = 5_000  # above this many points the 2-D scatter is drawn with WebGL


def segment_label(segment: int, names: Mapping[int, str]) -> str:
    """'2 · high income' for a segment, 'noise · unassigned (noise)' for -1."""
    number = "noise" if segment == NOISE else str(segment)
    return f"{number} · {names.get(segment, '')}".rstrip(" ·")


def segment_colour(segment: int) -> str:
    return NOISE_COLOUR if segment == NOISE else PALETTE[segment % len(PALETTE)]


def _segments(result: SegmentationResult) -> list[int]:
    present = sorted(set(result.labels) - {NOISE})
    return present + ([NOISE] if NOISE in result.labels else [])


# ------------------------------------------------------------------------ parameters
def k_choice_figure(choice: KChoice) -> go.Figure:
    """Elbow (inertia per k) beside the silhouette per k, the suggested k marked in both."""
    sample = (
        f"all {choice.n:,} customers"
        if choice.sample_size >= choice.n
        else f"sample of {choice.sample_size:,} of {choice.n:,}"
    )
    elbow = f", elbow at k={choice.elbow_k}" if choice.elbow_k != choice.suggested_k else ""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(f"Elbow: inertia per k{elbow}", f"Silhouette per k ({sample})"),
    )
    ks = list(choice.k_values)
    fig.add_trace(go.Scatter(x=ks, y=list(choice.inertia), mode="lines+markers", name="inertia"))
    fig.add_trace(
        go.Scatter(x=ks, y=list(choice.silhouette), mode="lines+markers", name="silhouette"),
        row=1,
        col=2,
    )
    picked = choice.k_values.index(choice.suggested_k)
    for column, values in ((1, choice.inertia), (2, choice.silhouette)):
        fig.add_trace(
            go.Scatter(
                x=[choice.suggested_k],
                y=[values[picked]],
                mode="markers",
                marker={"size": 18, "symbol": "star", "color": "crimson"},
                name=f"suggested k={choice.suggested_k}",
                showlegend=column == 1,
            ),
            row=1,
            col=column,
        )
    if elbow:
        fig.add_vline(x=choice.elbow_k, line_dash="dot", row=1, col=1)
    fig.update_xaxes(title_text="k (number of segments)", dtick=1)
    fig.update_layout(height=380, margin={"t": 40})
    return fig


def kdistance_figure(guide: DbscanGuide, *, eps: float) -> go.Figure:
    """The sorted k-distance curve with its knee (the suggested eps) and the eps chosen."""
    count = len(guide.curve)
    x = [100 * i / max(count - 1, 1) for i in range(count)]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=list(guide.curve),
            mode="lines",
            name=f"distance to neighbour {guide.min_samples}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[x[guide.knee]],
            y=[guide.curve[guide.knee]],
            mode="markers+text",
            marker={"size": 14, "symbol": "star", "color": "crimson"},
            text=[f"knee: eps={guide.eps:.3g}"],
            textposition="top left",
            name="suggested eps",
        )
    )
    fig.add_hline(y=eps, line_dash="dash", annotation_text=f"chosen eps={eps:.3g}")
    fig.update_layout(
        height=360,
        margin={"t": 30},
        xaxis_title="customers, sorted by distance (%)",
        yaxis_title=f"distance to the {guide.min_samples}-th nearest neighbour",
    )
    return fig


# --------------------------------------------------------------------------- results
def sizes_figure(result: SegmentationResult) -> go.Figure:
    """Customers per segment (noise its own grey bar), with each one's share."""
    segments = _segments(result)
    sizes = [result.quality.sizes.get(s, 0) for s in segments]
    fig = go.Figure(
        go.Bar(
            x=[segment_label(s, result.names) for s in segments],
            y=sizes,
            marker_color=[segment_colour(s) for s in segments],
            text=[f"{n:,} ({n / result.n:.0%})" for n in sizes],
            textposition="auto",
        )
    )
    fig.update_layout(height=320, margin={"t": 20}, yaxis_title="customers")
    return fig


def projection_figure(
    result: SegmentationResult, details: pd.DataFrame | None = None, *, dims: int = 2
) -> go.Figure | None:
    """PCA scatter (2-D or 3-D) coloured by segment, with each customer's ID and `details`
    (indexed by customer ID: name, country...) on hover. None without 3-D coordinates."""
    projection = result.projection
    if projection is None or (dims == 3 and not projection.pca3):
        return None
    rows = list(projection.rows)
    coords = pd.DataFrame(list(projection.pca3 if dims == 3 else projection.pca2))
    ids = [result.customer_ids[r] for r in rows]
    labels = [result.labels[r] for r in rows]
    info = pd.DataFrame({"id": ids})
    if details is not None:
        shown = details.reindex(ids)
        for column in shown.columns:
            info[DETAIL_LABELS.get(column, column)] = shown[column].to_numpy()
    hover = [
        "<br>".join(f"{k}: {v}" for k, v in row.items() if v is not None and v == v)
        for row in info.rename(columns={"id": "Customer"}).to_dict("records")
    ]
    fig = go.Figure()
    for segment in _segments(result):
        picked = [i for i, label in enumerate(labels) if label == segment]
        if not picked:
            continue
        points = coords.iloc[picked]
        common = {
            "mode": "markers",
            "name": segment_label(segment, result.names),
            "hovertext": [hover[i] for i in picked],
            "hoverinfo": "text+name",
            "customdata": [ids[i] for i in picked],
        }
        if dims == 3:
            marker = {"size": 3, "color": segment_colour(segment)}
            fig.add_trace(
                go.Scatter3d(x=points[0], y=points[1], z=points[2], marker=marker, **common)
            )
        else:
            marker = {"size": 6, "color": segment_colour(segment), "opacity": 0.75}
            flat = go.Scattergl if len(rows) > WEBGL_POINTS else go.Scatter
            fig.add_trace(flat(x=points[0], y=points[1], marker=marker, **common))
    explained = projection.explained_3d if dims == 3 else projection.explained_2d
    fig.update_layout(
        height=520 if dims == 3 else 460,
        margin={"t": 40},
        title=f"PCA {dims}-D: {explained:.0%} of the variance shown",
        legend_title_text="segment",
    )
    if dims == 2:
        fig.update_layout(xaxis_title="PC 1", yaxis_title="PC 2")
    return fig


def profile_heatmap(result: SegmentationResult) -> go.Figure:
    """How far each segment's mean is from everyone's, per numeric feature, in standard
    deviations (red above, blue below); hover shows the means."""
    profiles = [p for p in result.profiles if p.segment != NOISE] + [
        p for p in result.profiles if p.segment == NOISE
    ]
    features = [f.feature for f in profiles[0].features] if profiles else []
    z = [[f.effect for f in p.features] for p in profiles]
    text = [
        [f"mean {f.mean:,.4g} vs {f.overall_mean:,.4g} overall" for f in p.features]
        for p in profiles
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=features,
            y=[segment_label(p.segment, result.names) for p in profiles],
            text=text,
            hovertemplate="%{y}<br>%{x}: %{text}<br>%{z:+.2f} sd<extra></extra>",
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            colorbar={"title": "sd from mean"},
        )
    )
    fig.update_layout(height=120 + 40 * len(profiles), margin={"t": 20}, yaxis_autorange="reversed")
    return fig


def distribution_figure(frame: pd.DataFrame, feature: str, names: Mapping[int, str]) -> go.Figure:
    """Box plots of one numeric feature per segment (`frame` from `export_frame`)."""
    fig = go.Figure()
    segments = sorted(set(frame["segment"]) - {NOISE}) + (
        [NOISE] if NOISE in set(frame["segment"]) else []
    )
    for segment in segments:
        values = frame.loc[frame["segment"] == segment, feature]
        fig.add_trace(
            go.Box(
                y=values,
                name=segment_label(segment, names),
                marker_color=segment_colour(segment),
                boxpoints="outliers" if len(frame) > MAX_BOX_POINTS else "all",
                jitter=0.4,
            )
        )
    fig.update_layout(height=380, margin={"t": 30}, yaxis_title=feature, showlegend=False)
    return fig


def countries_figure(result: SegmentationResult, column: str = "country_name") -> go.Figure | None:
    """Customers per country within each segment (the `TOP_COUNTRIES` most common countries
    overall, the rest grouped). None when the run kept no country column."""
    counts: dict[str, dict[int, int]] = {}
    order = _segments(result)
    for profile in result.profiles:
        shares = profile.categories.get(column)
        if not shares:
            continue
        for country, share in shares.items():
            counts.setdefault(country, {})[profile.segment] = round(share * profile.size)
    if not counts:
        return None
    table = pd.DataFrame(counts).T.reindex(columns=order).fillna(0).astype(int)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index]
    if len(table) > TOP_COUNTRIES:
        rest = table.iloc[TOP_COUNTRIES:].sum().rename(OTHER_COUNTRIES)
        table = pd.concat([table.iloc[:TOP_COUNTRIES], rest.to_frame().T])
    fig = go.Figure()
    for country in table.index:
        fig.add_trace(
            go.Bar(
                x=[segment_label(s, result.names) for s in order],
                y=table.loc[country].tolist(),
                name=str(country),
            )
        )
    fig.update_layout(barmode="stack", height=400, margin={"t": 20}, yaxis_title="customers")
    return fig


def crosstab_figure(compared: RunComparison) -> go.Figure:
    """How customers moved from run a's segments (rows) to run b's (columns)."""
    table = compared.comparison.crosstab
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=[segment_label(int(s), compared.names_b) for s in table.columns],
            y=[segment_label(int(s), compared.names_a) for s in table.index],
            text=table.to_numpy(),
            texttemplate="%{text:,}",
            colorscale="Blues",
            hovertemplate="run a: %{y}<br>run b: %{x}<br>%{z:,} customers<extra></extra>",
        )
    )
    fig.update_layout(
        height=160 + 40 * len(table),
        margin={"t": 20},
        xaxis_title=f"run #{compared.b.id}: {compared.b.name}",
        yaxis_title=f"run #{compared.a.id}: {compared.a.name}",
        yaxis_autorange="reversed",
    )
    return fig


# ---------------------------------------------------------------------------- tables
def profile_table(profile: SegmentProfile) -> pd.DataFrame:
    """Each numeric feature's mean and median in the segment against every customer."""
    return pd.DataFrame(
        [
            {
                "Feature": f.feature,
                "Mean": f.mean,
                "Overall mean": f.overall_mean,
                "Median": f.median,
                "Overall median": f.overall_median,
                "Difference (sd)": f.effect,
            }
            for f in profile.features
        ],
        columns=[
            "Feature",
            "Mean",
            "Overall mean",
            "Median",
            "Overall median",
            "Difference (sd)",
        ],
    )


def distinguishing(profile: SegmentProfile) -> list[str]:
    """The features that set the segment apart, strongest first, in words."""
    phrases = []
    for name, effect in profile.distinguishing:
        direction = "higher" if effect > 0 else "lower"
        if " = " in name:
            direction = "more often" if effect > 0 else "less often"
        phrases.append(f"{name}: {direction} ({effect:+.2f} sd)")
    return phrases


def runs_table(runs: Sequence[RunSummary]) -> pd.DataFrame:
    """Saved runs, one row each, newest first."""
    return pd.DataFrame(
        [
            {
                "Run": r.id,
                "Name": r.name,
                "Algorithm": r.algorithm,
                "Parameters": ", ".join(f"{k}={v}" for k, v in r.params.items()),
                "Segments": r.n_segments,
                "Customers": r.n_customers,
                "Silhouette": r.silhouette,
                "Behaviour from": r.source.behaviour,
                "Features": ", ".join(r.features),
                "Saved": r.created_at,
            }
            for r in runs
        ]
    )
