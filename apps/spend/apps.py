from django.apps import AppConfig


class SpendConfig(AppConfig):
    name = "apps.spend"
    label = "spend"
    floor = 4  # tests/test_architecture.py: imports go to this floor or below
    public = ("models", "selectors", "services", "customer_key")
    verbose_name = "Spend control"
