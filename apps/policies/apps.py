from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "apps.policies"
    label = "policies"
    floor = 7  # tests/test_architecture.py: imports go to this floor or below
    public = ("models", "selectors", "services", "charts", "domain.savings", "domain.signing")

    def ready(self) -> None:
        from apps.policies import checks  # noqa: F401 - registers the signing-key deploy check
