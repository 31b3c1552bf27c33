"""pytest entry point for the browser tests (Debian's python3-pytest):

    MASTERPLAN_URL=http://127.0.0.1:8080 MASTERPLAN_EMAIL=… MASTERPLAN_PASSWORD=… \\
    MASTERPLAN_SCREENSHOTS=/tmp/shots MASTERPLAN_BROWSER_FLOW=tour,demo python3 -m pytest -q Tests/Browser

Each flow of browser_test.py is one test. The stack must already run (started like `masterplan up`);
without MASTERPLAN_URL and credentials the tests fail with the reason instead of skipping.
"""

import os

import pytest

import browser_test

FLOWS = [f.strip() for f in os.environ.get("MASTERPLAN_BROWSER_FLOW", "tour").split(",") if f.strip()]


@pytest.mark.parametrize("flow", FLOWS)
def test_flow(flow):
    missing = [name for name in ("MASTERPLAN_URL", "MASTERPLAN_EMAIL", "MASTERPLAN_PASSWORD") if not os.environ.get(name)]
    assert not missing, f"set {', '.join(missing)} to point the browser tests at a running stack"
    shots = os.path.join(os.environ.get("MASTERPLAN_SCREENSHOTS", "/tmp/masterplan-screenshots"), flow)
    assert browser_test.main(["--flow", flow, "--screenshots", shots]) == 0, f"browser flow {flow} failed (screenshots in {shots})"
