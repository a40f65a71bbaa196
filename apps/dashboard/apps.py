from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    label = "dashboard"
    floor = 9  # tests/test_architecture.py: imports go to this floor or below
    public = ()  # the top floor but one: only the demo may build on it, and it does not
