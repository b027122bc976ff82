from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import VARIABLES, load_settings


def test_unset_variables_mean_the_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"PIPEWORKS_DATA_DIR": str(tmp_path)}, secrets_file=None)
    assert settings.is_embedded
    assert settings.database_url is None and settings.mongo_url is None
    assert settings.relational_url == f"sqlite:///{tmp_path / 'pipeworks.db'}"
    assert settings.topic("customers") == "pipeworks.customers"


def test_server_variables_select_the_servers() -> None:
    settings = load_settings(
        {
            "PIPEWORKS_DATABASE_URL": "postgresql+psycopg2://u@h/db",
            "PIPEWORKS_MONGO_URL": "mongodb://h/",
            "PIPEWORKS_MONGO_DB": "x",
            "PIPEWORKS_KAFKA_BOOTSTRAP": "h:9092",
            "PIPEWORKS_TOPIC_PREFIX": "acme.",
            "PIPEWORKS_MAX_UPLOAD_MB": "50",
        },
        secrets_file=None,
    )
    assert not settings.is_embedded
    assert settings.relational_url == "postgresql+psycopg2://u@h/db"
    assert settings.mongo_db == "x"
    assert settings.topic("deliveries") == "acme.deliveries"
    assert settings.max_upload_mb == 50


def test_secrets_file_fills_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('PIPEWORKS_MONGO_DB = "from_secrets"\nPIPEWORKS_TOPIC_PREFIX = "s."\n')
    settings = load_settings({"PIPEWORKS_TOPIC_PREFIX": "env."}, secrets_file=secrets)
    assert settings.mongo_db == "from_secrets"
    assert settings.topic_prefix == "env."


def test_a_malformed_number_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="PIPEWORKS_MAX_ROWS"):
        load_settings({"PIPEWORKS_MAX_ROWS": "many"}, secrets_file=None)


def test_every_documented_variable_is_read_by_the_settings() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in VARIABLES:
        assert f"`{name}`" in readme, f"{name} missing from the README's configuration table"
