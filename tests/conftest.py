import os
import sys
from pathlib import Path

import pytest
import torch

# Small models run fastest on one thread, and several test processes must not oversubscribe CI's 2 cores.
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))

REQUIRE_BROWSER = "SEQ2SEQ_REQUIRE_BROWSER"   # .ci/run sets it to 1 once Chromium is installed


@pytest.fixture
def missing_browser():
    """`missing_browser(reason)` ends a browser test that cannot run here: a skip saying why, or a failure saying
    why where SEQ2SEQ_REQUIRE_BROWSER=1 (CI, which installs Chromium) requires the browser tests to run."""
    def missing(reason: str):
        if os.environ.get(REQUIRE_BROWSER, "0") not in ("", "0"):
            pytest.fail(f"{reason}; {REQUIRE_BROWSER}={os.environ[REQUIRE_BROWSER]} requires the browser tests")
        pytest.skip(reason)
    return missing
