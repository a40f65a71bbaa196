from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "apps.warehouse"
    label = "warehouse"
    floor = 1  # tests/test_architecture.py: imports go to this floor or below
    # the one door to ClickHouse and the llm_calls row contract
    public = ("client", "calls")
