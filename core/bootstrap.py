"""The one place that chooses adapters from settings. Nothing here connects at import time."""

from __future__ import annotations

from dataclasses import dataclass

from core.adapters.sql_store import SqlStore
from core.errors import ServiceUnavailable
from core.ports import DocumentStore, MessageBus
from core.settings import Settings, load_settings


@dataclass
class Services:
    """The adapters one process uses, built from settings; each connects on first use."""

    settings: Settings
    sql: SqlStore
    documents: DocumentStore
    bus: MessageBus

    def check(self) -> list[ServiceUnavailable]:
        """Ping every configured server; the problems found (empty when all answer)."""
        problems: list[ServiceUnavailable] = []
        for ping in (self.sql.ping, self.documents.ping, self.bus.ping):
            try:
                ping()
            except ServiceUnavailable as exc:
                problems.append(exc)
        return problems

    def close(self) -> None:
        self.sql.close()
        self.documents.close()
        self.bus.close()


def build_services(settings: Settings | None = None) -> Services:
    """Adapters for the settings: servers where configured, embedded stores otherwise."""
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    documents: DocumentStore
    bus: MessageBus
    if settings.mongo_url:
        from core.adapters.mongo_documents import MongoDocumentStore

        documents = MongoDocumentStore(settings.mongo_url, settings.mongo_db)
    else:
        from core.adapters.sqlite_documents import SqliteDocumentStore

        documents = SqliteDocumentStore(settings.documents_path)
    if settings.kafka_bootstrap:
        from core.adapters.kafka_bus import KafkaBus

        bus = KafkaBus(settings.kafka_bootstrap)
    else:
        from core.adapters.queue_bus import SqliteQueueBus

        bus = SqliteQueueBus(settings.queue_path)
    return Services(
        settings=settings,
        sql=SqlStore(settings.relational_url),
        documents=documents,
        bus=bus,
    )
