from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Pure computation shared by replay and policies: the evidence contract, routing estimates
    with their intervals, the learned routers, and the offline evaluation on labelled data."""

    name = "apps.routing"
    label = "routing"
    floor = 3  # tests/test_architecture.py: imports go to this floor or below
    # pure computation: every module is the library replay and policies build on
    public = (
        "cascade",
        "choose",
        "encoder",
        "encoder_pool",
        "estimate",
        "evidence",
        "gain",
        "learned",
        "options",
        "pool",
    )
