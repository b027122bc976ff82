"""The worker's consumer group follows the topic prefix: installs sharing a Kafka stay apart."""

from __future__ import annotations

import threading
from pathlib import Path

from background.worker import ConsumeJob
from core.bootstrap import Services
from core.settings import load_settings


def _job(tmp_path: Path, **env: str) -> ConsumeJob:
    settings = load_settings({"PIPEWORKS_DATA_DIR": str(tmp_path), **env}, secrets_file=None)
    services = Services(settings=settings, sql=None, documents=None, bus=None)  # type: ignore[arg-type]
    return ConsumeJob(services, threading.Event())


def test_the_default_prefix_keeps_the_group_name_of_earlier_installs(tmp_path: Path) -> None:
    assert _job(tmp_path).group == "pipeworks-worker"


def test_installs_with_their_own_topic_prefixes_consume_in_groups_of_their_own(
    tmp_path: Path,
) -> None:
    first = _job(tmp_path, PIPEWORKS_TOPIC_PREFIX="plant-a.")
    second = _job(tmp_path, PIPEWORKS_TOPIC_PREFIX="plant-b.")
    assert (first.group, second.group) == ("plant-a-worker", "plant-b-worker")
    assert first.topics[0].startswith("plant-a.") and second.topics[0].startswith("plant-b.")


def test_a_group_given_explicitly_is_kept(tmp_path: Path) -> None:
    settings = load_settings({"PIPEWORKS_DATA_DIR": str(tmp_path)}, secrets_file=None)
    services = Services(settings=settings, sql=None, documents=None, bus=None)  # type: ignore[arg-type]
    assert ConsumeJob(services, threading.Event(), group="replay").group == "replay"
