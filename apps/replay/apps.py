from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "apps.replay"
    label = "replay"
    floor = 6  # tests/test_architecture.py: imports go to this floor or below
    # its evaluators and provider adapters are used by the policies built on replays
    public = ("models", "selectors", "services", "sampling", "exclusions", "evaluators", "providers")
