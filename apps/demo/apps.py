from __future__ import annotations

from django.apps import AppConfig

from apps.demo.login import ready_lines


class DemoConfig(AppConfig):
    """`make demo`: the demo organisation, its traffic and the commands that seed every page.

    The top floor: it may use any app's services; no app imports it."""

    name = "apps.demo"
    label = "demo"
    floor = 10  # tests/test_architecture.py: imports go to this floor or below
    public = ()

    def ready_lines(self, base_url: str) -> list[str]:
        """What `manage.py serve --demo` prints once the server answers (see apps.core serve)."""
        return ready_lines(base_url)
