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


@pytest.fixture
def chromium(missing_browser):
    """A headless Chromium driven by playwright: playwright's own browser when it is installed, else the system's.
    Skipped, with the reason, only where playwright or every browser is missing (failed there in CI)."""
    from helpers import system_chromium

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        own = p.chromium.executable_path
        if own and Path(own).is_file():
            browser = p.chromium.launch(headless=True)
        else:
            system = system_chromium()
            if system is None:
                missing_browser(f"no Chromium: playwright's own is not installed ({own}: `playwright install "
                                f"chromium`) and none is on the system (Debian: apt install chromium)")
            browser = p.chromium.launch(executable_path=system, headless=True)
        try:
            yield browser
        finally:
            browser.close()
