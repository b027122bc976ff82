"""AppTest tests of the segmentation page on an embedded stack seeded through the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.bootstrap import Services, build_services
from core.segmentation import default_min_cluster_size, default_min_samples
from core.settings import load_settings
from core.ui import segment_keys as K
from core.usecases import segmentation as uc
from tests import seeding

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 150
PICKED = ["Annual Income ($)", "Spending Score (1-100)", "status"]


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "8_Segmentation.py"), default_timeout=120)


@pytest.fixture
def services(app_env: Path):
    services = build_services(load_settings(secrets_file=None))
    yield services
    services.close()


@pytest.fixture
def customers(services: Services) -> list[dict]:
    rows = seeding.customer_rows(CUSTOMERS)
    seeding.write_rows(services.sql, customers=rows)
    return rows


def _number(at: AppTest, label: str):
    (found,) = [n for n in at.number_input if n.label == label]
    return found


def _kmeans(at: AppTest, *, k: int) -> AppTest:
    at.multiselect(key=K.keyed(K.FEATURES, "none")).set_value(PICKED).run()
    _number(at, "Number of segments (k)").set_value(k).run()
    return at.button(key=K.RUN).click().run()


def _names(at: AppTest) -> list[str]:
    return [t.label for t in at.text_input if t.label.startswith("Name of segment")]


def test_the_page_offers_customer_traits_as_features_but_never_ids(customers) -> None:
    at = _app().run()
    assert not at.exception
    features = at.multiselect(key=K.keyed(K.FEATURES, "none"))
    assert {"customer_id", "name", "country"}.isdisjoint(features.options)
    assert {"Annual Income ($)", "status", "country_name"} <= set(features.options)
    assert features.value == [
        "Annual Income ($)",
        "Spending Score (1-100)",
        "Customer size",
        "Founded",
    ]
    steps = " ".join(m.value for m in at.markdown)
    assert "standardised (mean 0, standard deviation 1)" in steps
    assert "150 customers read from the customer master data" in steps


def test_running_kmeans_shows_quality_a_profile_card_per_segment_and_downloads(customers) -> None:
    at = _app().run()
    at.multiselect(key=K.keyed(K.FEATURES, "none")).set_value(PICKED).run()
    at.button(key=K.CHOOSE_K).click().run()
    assert not at.exception
    choice = at.session_state[K.K_CHOICE][1]
    assert _number(at, "Number of segments (k)").value == choice.suggested_k
    assert "status one-hot encoded into 2 columns" in " ".join(m.value for m in at.markdown)

    _number(at, "Number of segments (k)").set_value(3).run()
    at.button(key=K.RUN).click().run()

    assert not at.exception
    result = at.session_state[K.RESULT]
    assert result.algorithm == "kmeans" and result.n == CUSTOMERS
    assert _names(at) == ["Name of segment 0", "Name of segment 1", "Name of segment 2"]
    assert [t.value for t in at.text_input][:3] == [result.names[s] for s in range(3)]
    labels = {m.label for m in at.metric}
    assert {"Silhouette (−1 to 1, higher is better)", "Davies-Bouldin (lower is better)"} <= labels
    assert [m.value for m in at.metric if m.label == "Customers"] == [
        f"{p.size:,}" for p in result.profiles
    ]
    assert "K-means segments · not saved yet" in [h.value for h in at.header]
    assert [b.label for b in at.download_button] == ["Download CSV", "Download Excel"]
    assert len(at.get("plotly_chart")) >= 6


def test_a_saved_run_reopens_with_the_same_segments_and_keeps_renames(
    customers, services: Services
) -> None:
    at = _kmeans(_app().run(), k=3)
    at.text_input(key=K.keyed(K.SEGMENT_NAME, at.session_state[K.RESULT_TOKEN], 1)).input(
        "Big spenders"
    ).run()
    at.text_input(key=K.keyed(K.RUN_NAME, at.session_state[K.RESULT_TOKEN])).input("First").run()
    at.button(key=K.SAVE).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved as run #1; renamed segments are saved with it."]
    labels = at.session_state[K.RESULT].labels
    (summary,) = uc.list_runs(services.sql)
    assert summary.name == "First"
    assert uc.load_run(services.sql, 1).result.names[1] == "Big spenders"

    again = _app().run()
    assert again.selectbox(key=K.OPEN_PICK).options == ["#1 · First"]
    again.button(key=K.OPEN).click().run()
    assert not again.exception
    assert again.session_state[K.RESULT].labels == labels
    assert again.session_state[K.RUN_ID] == 1
    assert "K-means segments · run #1" in [h.value for h in again.header]
    token = again.session_state[K.RESULT_TOKEN]
    assert again.text_input(key=K.keyed(K.SEGMENT_NAME, token, 1)).value == "Big spenders"
    assert [b.label for b in again.download_button] == ["Download CSV", "Download Excel"]

    again.text_input(key=K.keyed(K.SEGMENT_NAME, token, 1)).input("Key accounts").run()
    assert uc.load_run(services.sql, 1).result.names[1] == "Key accounts"
    again.text_input(key=K.keyed(K.SEGMENT_NAME, token, 2)).input("key accounts").run()
    assert "Segment 1 is already called 'key accounts'" in [e.value for e in again.error]
    assert uc.load_run(services.sql, 1).result.names[2] != "key accounts"


def test_dbscan_presets_eps_at_the_knee_and_hdbscan_its_cluster_size(customers) -> None:
    at = _app().run()
    at.multiselect(key=K.keyed(K.FEATURES, "none")).set_value(PICKED).run()
    at.radio(key=K.ALGORITHM).set_value("dbscan").run()
    assert not at.exception
    guide = at.session_state[K.DBSCAN_GUIDE][1]
    dims = at.session_state[K.PREPARED][1].dims
    assert _number(at, "min_samples").value == default_min_samples(dims)
    assert _number(at, "eps").value == pytest.approx(guide.eps)
    _number(at, "eps").set_value(round(guide.eps * 2, 4)).run()
    at.button(key=K.RUN).click().run()
    assert not at.exception
    assert at.session_state[K.RESULT].params["eps"] == pytest.approx(round(guide.eps * 2, 4))

    at.radio(key=K.ALGORITHM).set_value("hdbscan").run()
    assert _number(at, "min_cluster_size").value == default_min_cluster_size(CUSTOMERS)
    at.button(key=K.RUN).click().run()
    assert not at.exception
    result = at.session_state[K.RESULT]
    assert result.algorithm == "hdbscan"
    assert len(_names(at)) == len(result.profiles)
    if -1 in result.labels:
        assert "Name of segment -1" in _names(at)


def test_comparing_runs_and_scoring_new_customers_from_a_saved_run(
    customers, services: Services
) -> None:
    at = _kmeans(_app().run(), k=2)
    at.button(key=K.SAVE).click().run()
    at = _kmeans(at, k=3)
    at.button(key=K.SAVE).click().run()
    at.selectbox(key=K.COMPARE_A).select(1).run()
    at.selectbox(key=K.COMPARE_B).select(2).run()
    at.button(key=K.COMPARE).click().run()
    assert not at.exception
    compared = at.session_state[K.COMPARISON]
    assert (compared.a.id, compared.b.id) == (1, 2)
    (ari,) = [m for m in at.metric if m.label == "Adjusted Rand index"]
    assert ari.value == f"{compared.comparison.ari:.3f}"

    newcomers = seeding.customer_rows(CUSTOMERS + 5, seed=9)[CUSTOMERS:]
    seeding.write_rows(services.sql, customers=newcomers)
    at.radio(key=K.SCORE_SCOPE).set_value("new").run()
    at.button(key=K.SCORE).click().run()
    assert not at.exception
    scored = at.session_state[K.SCORED][1]
    assert sorted(scored["customer_id"]) == sorted(c["customer_id"] for c in newcomers)
    assert not scored["in_run"].any()


def test_without_customers_the_page_says_to_load_them_first(app_env: Path) -> None:
    at = _app().run()
    assert not at.exception
    assert any("No customer is stored yet" in i.value for i in at.info)
    assert any("No run saved yet" in i.value for i in at.info)
