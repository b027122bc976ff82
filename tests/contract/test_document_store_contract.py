"""The `DocumentStore` contract, run unchanged against the embedded and the MongoDB adapter."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest

from core.adapters.mongo_documents import MongoDocumentStore
from core.adapters.sqlite_documents import SqliteDocumentStore
from core.errors import StoreUnavailable
from core.ports import DocumentStore

UNREACHABLE_MONGO_URL = "mongodb://127.0.0.1:1/"
UNREACHABLE_TIMEOUT_MS = 500


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.servers)])
def store(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        sqlite = SqliteDocumentStore(tmp_path / "documents.db")
        yield sqlite
        sqlite.close()
        return
    url = request.getfixturevalue("mongo_url")
    mongo = MongoDocumentStore(url, unique)  # a database of its own, dropped afterwards
    yield mongo
    mongo.close()
    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5_000) as client:
        client.drop_database(unique)


@pytest.fixture
def coll(unique: str) -> str:
    return unique


def ids(documents: list[dict[str, Any]]) -> list[str]:
    return [d["_id"] for d in documents]


# A small stock of deliveries: lines carry the article and quantity.
DELIVERIES = [
    {
        "_id": "BL-1",
        "customer": {"code": "C1", "name": "Hydro Sud"},
        "region": "Sud",
        "day": "2026-01-05",
        "total": 120.5,
        "urgent": True,
        "lines": [{"article": "P100", "qty": 10}, {"article": "P200", "qty": 5}],
    },
    {
        "_id": "BL-2",
        "customer": {"code": "C2", "name": "Aqua (Nord) S.A."},
        "region": "Nord",
        "day": "2026-01-07",
        "total": 80,
        "urgent": False,
        "lines": [{"article": "P100", "qty": 3}],
    },
    {
        "_id": "BL-3",
        "customer": {"code": "C1", "name": "Hydro Sud"},
        "region": "Sud",
        "day": "2026-02-01",
        "total": 40,
        "urgent": False,
        "lines": [{"article": "P200", "qty": 7}, {"article": "P300", "qty": 1.5}],
    },
    {
        "_id": "BL-4",
        "customer": {"code": "C3", "name": "Société Générale des Eaux"},
        "region": None,
        "day": "2026-02-11",
        "total": 15,
        "urgent": False,
        "lines": [],
    },
    {
        "_id": "BL-5",
        "customer": {"code": "C2", "name": "Aqua (Nord) S.A."},
        "day": "2026-03-02",
        "total": 60,
        "urgent": True,
    },
]


@pytest.fixture
def deliveries(store: DocumentStore, coll: str) -> str:
    store.upsert(coll, DELIVERIES)
    return coll


# -------------------------------------------------------------------------- writes
def test_upsert_inserts_new_documents_and_replaces_existing_ones_whole(
    store: DocumentStore, coll: str
) -> None:
    store.upsert(coll, [{"_id": "a", "n": 1, "old": "x"}, {"_id": "b", "n": 2}])
    store.upsert(coll, [{"_id": "a", "n": 10}])

    assert store.get_many(coll, ["a", "b"]) == {
        "a": {"_id": "a", "n": 10},
        "b": {"_id": "b", "n": 2},
    }
    assert store.count(coll) == 2


def test_upserting_the_same_documents_twice_changes_nothing(
    store: DocumentStore, coll: str
) -> None:
    store.upsert(coll, DELIVERIES)
    first = store.find(coll, limit=100)
    store.upsert(coll, DELIVERIES)

    assert store.count(coll) == len(DELIVERIES)
    assert store.find(coll, limit=100) == first == DELIVERIES


def test_the_last_of_repeated_ids_in_one_batch_wins(store: DocumentStore, coll: str) -> None:
    store.upsert(coll, [{"_id": "a", "v": 1}, {"_id": "a", "v": 2}, {"_id": "b", "v": 3}])

    assert store.get_many(coll, ["a"]) == {"a": {"_id": "a", "v": 2}}
    assert store.count(coll) == 2


def test_upserts_from_several_threads_all_land(store: DocumentStore, coll: str) -> None:
    def write(worker: int) -> None:
        for batch in range(5):
            store.upsert(coll, [{"_id": f"{worker}-{batch}-{i}", "w": worker} for i in range(20)])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.count(coll) == 4 * 5 * 20
    assert store.count(coll, {"w": 3}) == 5 * 20


def _write_from_child(store: DocumentStore, coll: str, worker: int) -> None:
    for batch in range(3):
        store.upsert(coll, [{"_id": f"p{worker}-{batch}-{i}", "w": worker} for i in range(10)])
    store.close()


def test_upserts_from_several_processes_all_land(store: DocumentStore, coll: str) -> None:
    store.upsert(coll, [{"_id": "parent"}])  # the parent has connected before the fork
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_write_from_child, args=(store, coll, w)) for w in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join()

    assert [child.exitcode for child in children] == [0, 0, 0]
    assert store.count(coll) == 1 + 3 * 3 * 10
    assert store.count(coll, {"w": 2}) == 3 * 10


def test_dates_are_stored_as_iso_text_and_nan_as_none(store: DocumentStore, coll: str) -> None:
    store.upsert(
        coll,
        [
            {
                "_id": "a",
                "day": date(2026, 3, 1),
                "at": datetime(2026, 3, 1, 8, 30),
                "x": float("nan"),
            }
        ],
    )

    assert store.get_many(coll, ["a"])["a"] == {
        "_id": "a",
        "day": "2026-03-01",
        "at": "2026-03-01T08:30:00",
        "x": None,
    }
    assert ids(store.find(coll, {"day": {"$gte": date(2026, 2, 28)}})) == ["a"]


def test_documents_without_a_text_id_are_rejected(store: DocumentStore, coll: str) -> None:
    with pytest.raises(ValueError, match="_id"):
        store.upsert(coll, [{"_id": 1, "v": 1}])
    with pytest.raises(ValueError, match="_id"):
        store.upsert(coll, [{"v": 1}])
    assert store.count(coll) == 0


def test_unicode_text_is_kept_exactly(store: DocumentStore, coll: str) -> None:
    texts = {
        "fr": "Tuyau PRV Ø 600 – çà et là",
        "zh": "玻璃钢管",
        "emoji": "💧🚰",
        "nul": "a\tb\nc",
    }
    store.upsert(coll, [{"_id": "é-1", **texts}])

    assert store.get_many(coll, ["é-1"]) == {"é-1": {"_id": "é-1", **texts}}
    assert ids(store.find(coll, {"zh": "玻璃钢管"})) == ["é-1"]


def test_drop_empties_one_collection_and_leaves_the_others(
    store: DocumentStore, deliveries: str
) -> None:
    other = deliveries + "_other"
    store.upsert(other, [{"_id": "x"}])
    store.drop(deliveries)

    assert store.count(deliveries) == 0
    assert store.find(deliveries) == []
    assert store.count(other) == 1
    store.drop(deliveries)  # dropping a missing collection is harmless
    store.drop(other)


# --------------------------------------------------------------------------- reads
def test_get_many_returns_the_stored_ids_and_leaves_out_missing_ones(
    store: DocumentStore, deliveries: str
) -> None:
    found = store.get_many(deliveries, ["BL-3", "BL-1", "missing"])

    assert found == {"BL-1": DELIVERIES[0], "BL-3": DELIVERIES[2]}
    assert store.get_many(deliveries, []) == {}


def test_a_collection_never_written_reads_as_empty(store: DocumentStore, coll: str) -> None:
    assert store.find(coll) == []
    assert store.count(coll) == 0
    assert store.get_many(coll, ["a"]) == {}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"region": "Sud"}, ["BL-1", "BL-3"]),
        ({"customer.code": "C2"}, ["BL-2", "BL-5"]),
        ({"total": 80}, ["BL-2"]),
        ({"total": 80.0}, ["BL-2"]),
        ({"urgent": True}, ["BL-1", "BL-5"]),
        ({"urgent": False}, ["BL-2", "BL-3", "BL-4"]),
        ({"region": None}, ["BL-4", "BL-5"]),
        ({"_id": "BL-2"}, ["BL-2"]),
        ({"region": "Sud", "total": 40}, ["BL-3"]),
    ],
)
def test_equality_matches_values_of_the_same_kind(
    store: DocumentStore, deliveries: str, where: dict[str, Any], expected: list[str]
) -> None:
    assert ids(store.find(deliveries, where)) == expected
    assert store.count(deliveries, where) == len(expected)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"region": {"$in": ["Nord", "Est"]}}, ["BL-2"]),
        ({"region": {"$in": ["Nord", None]}}, ["BL-2", "BL-4", "BL-5"]),
        ({"total": {"$in": [15, 40.0]}}, ["BL-3", "BL-4"]),
        ({"_id": {"$in": ["BL-5", "BL-1", "nope"]}}, ["BL-1", "BL-5"]),
        ({"region": {"$in": []}}, []),
    ],
)
def test_in_matches_any_of_the_values(
    store: DocumentStore, deliveries: str, where: dict[str, Any], expected: list[str]
) -> None:
    assert ids(store.find(deliveries, where)) == expected
    assert store.count(deliveries, where) == len(expected)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"total": {"$gte": 40, "$lte": 80}}, ["BL-2", "BL-3", "BL-5"]),
        ({"total": {"$gt": 40, "$lt": 80}}, ["BL-5"]),
        ({"total": {"$gt": 100}}, ["BL-1"]),
        ({"total": {"$lte": 15.0}}, ["BL-4"]),
        ({"day": {"$gte": "2026-02-01"}}, ["BL-3", "BL-4", "BL-5"]),
        ({"day": {"$gt": "2026-01-05", "$lt": "2026-02-11"}}, ["BL-2", "BL-3"]),
        ({"_id": {"$gt": "BL-3"}}, ["BL-4", "BL-5"]),
    ],
)
def test_range_bounds_are_inclusive_or_strict(
    store: DocumentStore, deliveries: str, where: dict[str, Any], expected: list[str]
) -> None:
    assert ids(store.find(deliveries, where)) == expected
    assert store.count(deliveries, where) == len(expected)


def test_a_range_bound_only_matches_values_of_its_kind(store: DocumentStore, coll: str) -> None:
    store.upsert(
        coll,
        [
            {"_id": "number", "v": 5},
            {"_id": "text", "v": "5"},
            {"_id": "true", "v": True},
            {"_id": "null", "v": None},
            {"_id": "missing"},
        ],
    )

    assert ids(store.find(coll, {"v": {"$gte": 0}})) == ["number"]
    assert ids(store.find(coll, {"v": {"$gte": ""}})) == ["text"]
    assert ids(store.find(coll, {"v": 5})) == ["number"]
    assert ids(store.find(coll, {"v": "5"})) == ["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hydro", ["BL-1", "BL-3"]),
        ("HYDRO SUD", ["BL-1", "BL-3"]),
        ("(nord) s.a.", ["BL-2", "BL-5"]),
        ("s.a", ["BL-2", "BL-5"]),
        (".*", []),
        ("o.", []),
        ("SOCIÉTÉ", ["BL-4"]),
        ("générale", ["BL-4"]),
        ("", ["BL-1", "BL-2", "BL-3", "BL-4", "BL-5"]),
    ],
)
def test_contains_is_a_case_insensitive_literal_substring(
    store: DocumentStore, deliveries: str, text: str, expected: list[str]
) -> None:
    where = {"customer.name": {"$contains": text}}
    assert ids(store.find(deliveries, where)) == expected
    assert store.count(deliveries, where) == len(expected)


def test_contains_only_matches_text(store: DocumentStore, coll: str) -> None:
    store.upsert(coll, [{"_id": "n", "v": 123}, {"_id": "t", "v": "x123"}, {"_id": "m"}])

    assert ids(store.find(coll, {"v": {"$contains": "12"}})) == ["t"]


def test_contains_escapes_every_regex_character(store: DocumentStore, coll: str) -> None:
    special = r"a+b*c?d^e$f|g(h)i[j]k{l}m\n.o-p#q&r~s t"
    store.upsert(coll, [{"_id": "hit", "v": f"<{special}>"}, {"_id": "miss", "v": "ab"}])

    assert ids(store.find(coll, {"v": {"$contains": special.upper()}})) == ["hit"]
    for piece in ["+", "*", "?", "^", "$", "|", "(", "[", "{", "\\", ".", "-", "#", " "]:
        assert ids(store.find(coll, {"v": {"$contains": piece}})) == ["hit"], piece


def test_malformed_filters_are_refused(store: DocumentStore, deliveries: str) -> None:
    with pytest.raises(ValueError, match="operator"):
        store.find(deliveries, {"total": {"$ne": 1}})
    with pytest.raises(TypeError):
        store.find(deliveries, {"customer": {"code": "C1"}})
    with pytest.raises(TypeError):
        store.count(deliveries, {"region": {"$in": "Sud"}})
    with pytest.raises(TypeError):
        store.find(deliveries, {"total": {"$gt": True}})
    with pytest.raises(ValueError, match="path"):
        store.find(deliveries, {"$or": []})


# ----------------------------------------------------------------- sort and paging
def test_sort_on_a_nested_path_ascending_and_descending(
    store: DocumentStore, deliveries: str
) -> None:
    up = store.find(deliveries, sort=[("customer.code", 1)])
    down = store.find(deliveries, sort=[("customer.code", -1)])

    assert ids(up) == ["BL-1", "BL-3", "BL-2", "BL-5", "BL-4"]
    assert ids(down) == ["BL-4", "BL-2", "BL-5", "BL-1", "BL-3"]  # ties stay in _id order


def test_sort_on_several_keys(store: DocumentStore, deliveries: str) -> None:
    found = store.find(deliveries, sort=[("urgent", -1), ("total", -1)])

    assert ids(found) == ["BL-1", "BL-5", "BL-2", "BL-3", "BL-4"]


def test_missing_and_null_values_sort_first(store: DocumentStore, deliveries: str) -> None:
    assert ids(store.find(deliveries, sort=[("region", 1)])) == [
        "BL-4",
        "BL-5",
        "BL-2",
        "BL-1",
        "BL-3",
    ]


def test_skip_and_limit_page_through_one_stable_total_order(
    store: DocumentStore, coll: str
) -> None:
    store.upsert(coll, [{"_id": f"d{i:02}", "g": {"rank": i % 3}} for i in range(23)])
    order = [("g.rank", -1)]

    pages = [store.find(coll, sort=order, skip=skip, limit=5) for skip in range(0, 25, 5)]
    everything = store.find(coll, sort=order, limit=100)
    seen = [d["_id"] for page in pages for d in page]

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert seen == ids(everything)
    assert sorted(seen) == sorted(f"d{i:02}" for i in range(23))
    ranks = [d["g"]["rank"] for d in everything]
    assert ranks == sorted(ranks, reverse=True)
    for rank in range(3):
        same = [d["_id"] for d in everything if d["g"]["rank"] == rank]
        assert same == sorted(same)


def test_find_without_sort_pages_in_id_order(store: DocumentStore, deliveries: str) -> None:
    assert ids(store.find(deliveries, skip=1, limit=2)) == ["BL-2", "BL-3"]
    assert store.find(deliveries, limit=0) == []
    assert ids(store.find(deliveries, {"urgent": False}, skip=2)) == ["BL-4"]


# --------------------------------------------------------------------------- count
def test_count_applies_the_filter(store: DocumentStore, deliveries: str) -> None:
    assert store.count(deliveries) == 5
    assert store.count(deliveries, {"customer.code": "C1", "urgent": False}) == 1
    assert store.count(deliveries, {"region": "Ouest"}) == 0


# ------------------------------------------------------------------ indexes, ping
def test_ensure_index_can_be_repeated_and_queries_still_answer(
    store: SqliteDocumentStore | MongoDocumentStore, deliveries: str
) -> None:
    for _ in range(2):
        store.ensure_index(deliveries, ["customer.code", "day"])
        store.ensure_index(deliveries, ["region"])

    assert ids(store.find(deliveries, {"customer.code": "C1", "day": {"$gte": "2026"}})) == [
        "BL-1",
        "BL-3",
    ]


def test_ping_answers_when_the_store_is_reachable(store: DocumentStore) -> None:
    store.ping()


@pytest.fixture(params=["sqlite", "mongo"])
def unreachable(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DocumentStore, str]]:
    """A store that cannot be reached, and the setting that points at it."""
    if request.param == "sqlite":
        blocker = tmp_path / "a-file"  # a file where the folder should be: even root cannot
        blocker.write_text("not a folder")
        down: DocumentStore = SqliteDocumentStore(blocker / "documents.db", setting="DOCS")
    else:
        down = MongoDocumentStore(
            UNREACHABLE_MONGO_URL, "x", setting="DOCS", timeout_ms=UNREACHABLE_TIMEOUT_MS
        )
    yield down, "DOCS"
    down.close()


def test_an_unreachable_store_raises_store_unavailable_naming_its_setting(
    unreachable: tuple[DocumentStore, str],
) -> None:
    down, setting = unreachable
    with pytest.raises(StoreUnavailable) as raised:
        down.ping()
    with pytest.raises(StoreUnavailable):
        down.upsert("c", [{"_id": "a"}])
    with pytest.raises(StoreUnavailable):
        down.find("c")

    assert raised.value.setting == setting
    assert setting in str(raised.value)
