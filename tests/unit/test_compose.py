"""No Docker engine runs here: check the compose file's structure and its settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from core.settings import VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_the_servers_the_app_and_the_worker_with_health_checks() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "mongo", "kafka", "app", "worker"}
    for name in ("postgres", "mongo", "kafka", "app"):
        assert "healthcheck" in services[name], name
    assert services["kafka"]["image"].startswith("apache/kafka:4")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["app"]["build"] == services["worker"]["build"] == "."
    assert services["worker"]["command"] == ["python", "-m", "background"]
    for name in ("app", "worker"):
        for server in ("postgres", "mongo", "kafka"):
            assert services[name]["depends_on"][server]["condition"] == "service_healthy"


def test_compose_sets_only_variables_the_settings_read() -> None:
    services = _compose()["services"]
    for name in ("app", "worker"):
        env = services[name]["environment"]
        pipeworks = {k for k in env if k.startswith("PIPEWORKS_")}
        assert pipeworks, name
        assert pipeworks <= set(VARIABLES), pipeworks - set(VARIABLES)
        for required in (
            "PIPEWORKS_DATABASE_URL",
            "PIPEWORKS_MONGO_URL",
            "PIPEWORKS_KAFKA_BOOTSTRAP",
        ):
            assert required in env


def test_compose_takes_secrets_from_an_uncommitted_env_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in text and "${MONGO_ROOT_PASSWORD:?" in text
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert (ROOT / ".env.example").is_file()
    assert not (ROOT / ".env").exists()


def test_compose_volumes_keep_every_store_on_disk() -> None:
    compose = _compose()
    assert {"postgres-data", "mongo-data", "kafka-data", "app-data"} <= set(compose["volumes"])
