from __future__ import annotations

import pytest

from core.ingest.limits import ParseLimits

TEST_MEMORY_MB = 1_024
TEST_TIMEOUT_S = 60


@pytest.fixture
def limits() -> ParseLimits:
    return ParseLimits(max_rows=1_048_576, memory_mb=TEST_MEMORY_MB, timeout_s=TEST_TIMEOUT_S)
