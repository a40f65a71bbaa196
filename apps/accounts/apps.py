from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    floor = 2  # tests/test_architecture.py: imports go to this floor or below
    # tenants, members, projects and keys; how a request is authenticated
    public = ("models", "selectors", "services", "authentication", "key_check", "middleware")

    def ready(self) -> None:
        from apps.accounts import schema  # noqa: F401 - registers the OpenAPI auth extension
