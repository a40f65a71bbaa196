from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    name = "apps.opportunities"
    label = "opportunities"
    floor = 8  # tests/test_architecture.py: imports go to this floor or below
    public = ("models", "selectors", "services", "combine")
    verbose_name = "Opportunities"
