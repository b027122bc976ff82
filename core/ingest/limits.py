"""The bounds every parse runs within, taken from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings

DEFAULT_MAX_UNZIPPED_MB = 4_096
DEFAULT_MAX_COMPRESSION_RATIO = 250
DEFAULT_MAX_ZIP_ENTRIES = 10_000
DEFAULT_MAX_FILE_MB = 200
DEFAULT_SLICE_BYTES = 8 << 20


@dataclass(frozen=True, kw_only=True)
class ParseLimits:
    """Limits for reading one uploaded file.

    `memory_mb` caps the address space of the child process that parses the file and
    `timeout_s` its wall-clock time; `max_rows` caps the data rows of one sheet. The zip
    limits refuse archives that expand to more than `max_unzipped_mb`, entries of more than
    1 MB that expand more than `max_compression_ratio` times, and more than
    `max_zip_entries` entries. A worksheet whose XML is larger than `slice_bytes` is read
    in slices of about that size, by two processes side by side.
    """

    max_rows: int
    memory_mb: int
    timeout_s: float
    max_file_mb: int = DEFAULT_MAX_FILE_MB
    max_unzipped_mb: int = DEFAULT_MAX_UNZIPPED_MB
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES
    slice_bytes: int = DEFAULT_SLICE_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        return cls(
            max_rows=settings.max_rows,
            memory_mb=settings.parse_memory_mb,
            timeout_s=settings.parse_timeout_s,
            max_file_mb=settings.max_upload_mb,
        )
