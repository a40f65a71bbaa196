from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    floor = 3  # tests/test_architecture.py: imports go to this floor or below
    public = ("models", "selectors", "services")
    verbose_name = "Billing"
