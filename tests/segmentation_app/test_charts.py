"""The segmentation screen's figures, tables and export, built from real engine results."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core import exports
from core.segmentation import NOISE, choose_k, compare, prepare, run, suggest_dbscan
from core.ui import segment_charts as charts
from core.usecases import segmentation as uc
from tests.segmentation.samples import blobs

COUNTRIES = ("Allemagne", "Germany", "France", "Maroc", "États-Unis")


def _customers(n: int = 400) -> pd.DataFrame:
    frame = blobs(n, seed=1)
    frame["country_name"] = [COUNTRIES[i % len(COUNTRIES)] for i in range(n)]
    frame["name"] = [f"Client {i}" for i in range(1, n + 1)]
    frame["channel"] = [("=1+1", "+cmd", "-x", "@y", "plain")[i % 5] for i in range(n)]
    return frame


@pytest.fixture(scope="module")
def prepared():
    return prepare(
        _customers(), id_column="id", features=["a", "b", "c"], describe=["country_name", "name"]
    )


@pytest.fixture(scope="module")
def result(prepared):
    return run(prepared, algorithm="kmeans", params={"k": 4})


def _summary(run_id: int, name: str) -> uc.RunSummary:
    return uc.RunSummary(
        id=run_id,
        name=name,
        algorithm="kmeans",
        params={},
        features=(),
        source=uc.FeatureSource(),
        n_customers=0,
        n_segments=0,
        silhouette=None,
        created_at=dt.datetime(2026, 1, 1),
    )


def test_the_k_choice_figure_marks_the_suggested_k_on_both_curves(prepared) -> None:
    choice = choose_k(prepared, k_range=range(2, 8), sample_size=100)
    fig = charts.k_choice_figure(choice)
    stars = [t for t in fig.data if t.name == f"suggested k={choice.suggested_k}"]
    assert len(stars) == 2 and all(list(t.x) == [choice.suggested_k] for t in stars)
    at = choice.k_values.index(choice.suggested_k)
    assert {stars[0].y[0], stars[1].y[0]} == {choice.inertia[at], choice.silhouette[at]}
    titles = [a.text for a in fig.layout.annotations]
    assert "Silhouette per k (sample of 100 of 400)" in titles


def test_the_k_distance_figure_shows_the_knee_and_the_eps_chosen(prepared) -> None:
    guide = suggest_dbscan(prepared)
    fig = charts.kdistance_figure(guide, eps=2.5)
    (knee,) = [t for t in fig.data if t.name == "suggested eps"]
    assert knee.y[0] == guide.curve[guide.knee]
    assert [shape.y0 for shape in fig.layout.shapes] == [2.5]
    assert len(fig.data[0].y) == len(guide.curve)


def test_projections_colour_each_segment_and_show_the_customer_on_hover(prepared, result) -> None:
    for dims in (2, 3):
        fig = charts.projection_figure(result, prepared.described, dims=dims)
        assert [t.name for t in fig.data] == [
            charts.segment_label(s, result.names) for s in range(4)
        ]
        assert sum(len(t.customdata) for t in fig.data) == result.n
        labels = result.assignments()
        for segment, trace in enumerate(fig.data):
            assert set(labels[list(trace.customdata)]) == {segment}
            assert trace.marker.color == charts.segment_colour(segment)
    hover = {
        customer: text
        for trace in fig.data
        for customer, text in zip(trace.customdata, trace.hovertext, strict=True)
    }
    assert hover["B0002"] == "Customer: B0002<br>Country: Germany<br>Name: Client 2"
    assert fig.data[0].type == "scatter3d"


def test_two_features_give_no_3d_projection() -> None:
    two = prepare(_customers(), id_column="id", features=["a", "b"])
    result = run(two, algorithm="kmeans", params={"k": 3})
    assert charts.projection_figure(result, dims=3) is None
    assert charts.projection_figure(result, dims=2) is not None


def test_noise_is_drawn_as_its_own_grey_group_with_its_share() -> None:
    frame = _customers(300)
    far = pd.DataFrame(
        {"id": ["F1", "F2", "F3"], "a": [90.0, -90.0, 60.0], "b": [90.0, 0.0, -60.0]}
    )
    frame = pd.concat([frame, far.assign(c=[90.0, 90.0, -90.0])], ignore_index=True)
    prepared = prepare(frame, id_column="id", features=["a", "b", "c"])
    result = run(prepared, algorithm="dbscan")
    noise = result.quality.sizes[NOISE]
    assert noise >= 3
    fig = charts.projection_figure(result)
    (grey,) = [t for t in fig.data if t.name.startswith("noise")]
    assert grey.marker.color == charts.NOISE_COLOUR and {"F1", "F2", "F3"} <= set(grey.customdata)
    bars = charts.sizes_figure(result).data[0]
    assert bars.x[-1] == "noise · unassigned (noise)"
    assert bars.y[-1] == noise and bars.text[-1] == f"{noise:,} ({noise / result.n:.0%})"


def test_the_heatmap_shows_each_segment_against_everyone_per_feature(result) -> None:
    heat = charts.profile_heatmap(result).data[0]
    assert list(heat.x) == ["a", "b", "c"]
    assert list(heat.y) == [charts.segment_label(p.segment, result.names) for p in result.profiles]
    assert np.allclose(heat.z, [[f.effect for f in p.features] for p in result.profiles])


def test_countries_per_segment_are_normalised_and_add_up_to_each_segment(result) -> None:
    fig = charts.countries_figure(result)
    assert {t.name for t in fig.data} == {"Germany", "France", "Morocco", "United States"}
    totals = np.sum([list(t.y) for t in fig.data], axis=0)
    assert list(totals) == [result.quality.sizes[s] for s in range(4)]


def test_distributions_have_one_box_per_segment_with_its_customers(prepared, result) -> None:
    table = uc.export_frame(result, prepared)
    fig = charts.distribution_figure(table, "a", result.names)
    assert [len(t.y) for t in fig.data] == [result.quality.sizes[s] for s in range(4)]


def test_the_crosstab_names_the_segments_of_both_runs(prepared, result) -> None:
    other = run(prepared, algorithm="kmeans", params={"k": 2})
    compared = uc.RunComparison(
        a=_summary(1, "four"),
        b=_summary(2, "two"),
        names_a=result.names,
        names_b=other.names,
        comparison=compare(result, other),
    )
    heat = charts.crosstab_figure(compared).data[0]
    assert list(heat.y) == [charts.segment_label(s, result.names) for s in range(4)]
    assert list(heat.x) == [charts.segment_label(s, other.names) for s in range(2)]
    assert np.asarray(heat.z).sum() == result.n


def test_a_profile_card_table_compares_each_feature_with_everyone(result) -> None:
    profile = result.profiles[0]
    table = charts.profile_table(profile)
    assert list(table["Feature"]) == ["a", "b", "c"]
    assert list(table["Mean"]) == [f.mean for f in profile.features]
    assert list(table["Overall median"]) == [f.overall_median for f in profile.features]
    phrases = charts.distinguishing(profile)
    assert len(phrases) == len(profile.distinguishing)
    assert phrases[0].startswith(profile.distinguishing[0][0] + ": ")


def test_the_download_holds_id_segment_name_and_features_with_formulas_neutralised() -> None:
    prepared = prepare(
        _customers(), id_column="id", features=["a", "b", "c", "channel"], describe=["name"]
    )
    result = run(prepared, algorithm="kmeans", params={"k": 4})
    result.names = uc.check_rename(result.names, 0, '=HYPERLINK("http://x")')
    table = uc.export_frame(result, prepared)
    assert list(table.columns) == [
        "customer_id",
        "segment",
        "segment_name",
        "a",
        "b",
        "c",
        "channel",
    ]

    rows = list(csv.reader(io.StringIO(exports.csv_bytes(table).decode("utf-8-sig"))))
    cells = {cell for row in rows[1:] for cell in row}
    assert {"'=1+1", "'+cmd", "'-x", "'@y", '\'=HYPERLINK("http://x")'} <= cells
    assert not {"=1+1", "+cmd", '=HYPERLINK("http://x")'} & cells

    sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(table, sheet="Segments")))[
        "Segments"
    ]
    values = [[cell for cell in row] for row in sheet.iter_rows(min_row=2)]
    formulas = [c for row in values for c in row if c.data_type == "f"]
    assert formulas == []
    assert {c.value for row in values for c in row} >= {"=1+1", '=HYPERLINK("http://x")'}
    assert all(isinstance(row[3].value, float) for row in values)


def test_saved_runs_are_listed_one_row_each() -> None:
    table = charts.runs_table([_summary(2, "second"), _summary(1, "first")])
    assert list(table["Run"]) == [2, 1] and list(table["Name"]) == ["second", "first"]
