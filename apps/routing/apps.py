from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Pure computation shared by replay and policies: the evidence contract, routing estimates
    with their intervals, the learned routers, and the offline evaluation on labelled data."""

    name = "apps.routing"
    label = "routing"
