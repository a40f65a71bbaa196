from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "apps.pricing"
    label = "pricing"
    floor = 3  # tests/test_architecture.py: imports go to this floor or below
    # the cost function and its price book are a library every floor above prices with
    public = ("models", "selectors", "services", "book", "catalogue", "cost", "display", "usage")
