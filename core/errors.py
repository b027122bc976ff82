"""The project's exception tree.

    PipeworksError                 base of everything raised on purpose
    ├── ConfigError                a setting is malformed
    ├── ServiceUnavailable         a configured server cannot be reached (names it, its setting)
    │   ├── StoreUnavailable       relational or document store
    │   └── BusUnavailable         message bus (Kafka or the embedded queue)
    ├── PublishError               the bus did not confirm every message (nothing published)
    ├── FileRejected               an uploaded file cannot be read at all (one human line)
    ├── MappingIncomplete          required fields have no column in the file
    ├── PoisonMessage              a message that can never be stored (to the dead-letter topic)
    └── SegmentationError          a segmentation cannot run on this data (core.segmentation)

Adapters translate third-party exceptions into these (`raise StoreUnavailable(...) from exc`),
so pages and the worker can show one clear line instead of a stack trace.
"""

from __future__ import annotations


class PipeworksError(Exception):
    """Base class of the project's own errors."""


class ConfigError(PipeworksError):
    """A setting is present but malformed."""


class ServiceUnavailable(PipeworksError):
    """A configured server cannot be reached.

    `service` names the server ("PostgreSQL", "MongoDB", "Kafka"), `setting` the environment
    variable that points at it, so the message tells the user what to fix.
    """

    def __init__(self, service: str, setting: str, detail: str = "") -> None:
        self.service = service
        self.setting = setting
        self.detail = detail
        text = f"{service} is unreachable (setting {setting})"
        super().__init__(f"{text}: {detail}" if detail else text)


class StoreUnavailable(ServiceUnavailable):
    """The relational or document store cannot be reached; transient, retry later."""


class BusUnavailable(ServiceUnavailable):
    """The message bus cannot be reached; transient, retry later."""


class PublishError(PipeworksError):
    """Not every message was acknowledged by the bus."""


class FileRejected(PipeworksError):
    """A file cannot be read at all; the message is one line meant for a business user."""


class MappingIncomplete(PipeworksError):
    """The file was read, but required fields have no column; nothing can be validated."""

    def __init__(self, missing: tuple[str, ...], headers: tuple[str, ...]) -> None:
        self.missing = missing
        self.headers = headers
        super().__init__(
            "required columns not found: "
            + ", ".join(missing)
            + " (the file has: "
            + ", ".join(headers)
            + ")"
        )


class PoisonMessage(PipeworksError):
    """A message that can never be stored, whatever the retries."""
