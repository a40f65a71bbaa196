from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    floor = 0  # tests/test_architecture.py: imports go to this floor or below
    # the shared kernel: errors and the API error shape, background hand-off, formatting, base model
    public = (
        "api_errors",
        "background",
        "charts",
        "errors",
        "formatting",
        "forms",
        "logs",
        "metrics",
        "models",
        "network",
        "openapi",
        "page_decorators",
        "sdk_dist",
        "signatures",
        "token_bucket",
    )
