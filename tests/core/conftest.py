"""Browser fixtures shared with the dashboard's browser tests (Debian's Chromium, screenshots)."""

from tests.dashboard.test_browser import chromium, shots  # noqa: F401 - fixtures for test_browser_review
