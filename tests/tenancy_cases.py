"""Every URL name in the URL conf, and how another tenant is kept out of it.

Add a case here with every new URL: tests/reliability/test_isolation.py fails for a URL that has none.
"""

from __future__ import annotations

from django.urls import reverse

from tests.billing import tenancy_data as billing
from tests.dashboard import tenancy_data as dashboard
from tests.pricing import tenancy_data as pricing
from tests.replay import tenancy_data as replay
from tests.tenancy import Case, public, register

public("home", "redirects to log in or to the person's own project")
public("favicon", "the site icon, no data")
public("sdk-index", "the SDK's wheels, public software")
public("sdk-file", "one of the SDK's wheels, public software")
public("healthz", "process liveness, no data")
public("readyz", "dependency readiness, no tenant data")
public("metrics", "process metrics, no tenant data (METRICS_TOKEN guards it in production)")
public("api-schema", "the OpenAPI document")
public("api-docs", "the API reference page")
public("api-docs-redoc", "the API reference page's script")
public("accounts:signup", "creates a new tenant")
public("accounts:login", "authentication")
public("accounts:logout", "ends the caller's own session")
public("dashboard:start", "shows the caller's current project only (from their memberships)")
public("accounts:projects", "lists the caller's own organisation's projects")
public("accounts:members", "lists the caller's own organisation's members")
public("api-projects", "lists only projects the caller is a member of")
public("api-whoami", "describes the caller's own key")

register(
    "accounts:switch",
    Case(lambda t: reverse("accounts:switch"), "post", form=lambda t: {"project": t.project.pk}),
    Case(lambda t: reverse("accounts:switch"), "post", form=lambda t: {"organization": t.organization.pk}),
)


def _invites_only_into_its_own_organisation(owner, intruder, response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert not owner.organization.invitations.filter(email="mallory@example.com").exists()
    assert intruder.organization.invitations.filter(email="mallory@example.com").exists()


register(
    "accounts:member-invite",
    Case(
        lambda t: reverse("accounts:member-invite"),
        "post",
        form=lambda t: {"email": "mallory@example.com", "role": "admin"},
        verify=_invites_only_into_its_own_organisation,
    ),
)
register("accounts:project-keys", Case(lambda t: reverse("accounts:project-keys", args=[t.project.pk])))
register(
    "accounts:project-key-create",
    Case(lambda t: reverse("accounts:project-key-create", args=[t.project.pk]), "post", form=lambda t: {"kind": "sdk"}),
)
register(
    "accounts:project-key-revoke",
    Case(lambda t: reverse("accounts:project-key-revoke", args=[t.project.pk, t.project.api_keys.first().pk]), "post"),
)
register(
    "accounts:member-role",
    Case(
        lambda t: reverse("accounts:member-role", args=[t.organization.memberships.first().pk]),
        "post",
        form=lambda t: {"role": "viewer"},
    ),
)
register(
    "accounts:invitation",
    Case(lambda t: reverse("accounts:invitation", args=[t.extra["invitation_token"]]), "post", expect=(403,)),
)
register(
    "api-project",
    Case(lambda t: reverse("api-project", args=[t.project.pk])),
    Case(lambda t: reverse("api-project", args=[t.project.pk]), auth="ingest", expect=(403,)),
)
register(
    "api-project-keys",
    Case(lambda t: reverse("api-project-keys", args=[t.project.pk])),
    Case(
        lambda t: reverse("api-project-keys", args=[t.project.pk]), "post", body=lambda t: {"kind": "ingest"}
    ),
)
register(
    "api-key",
    Case(lambda t: reverse("api-key", args=[t.project.api_keys.first().pk]), "delete"),
)


def _ingest_lands_in_own_project(owner, intruder, response) -> None:  # type: ignore[no-untyped-def]
    from tests.ingest.events import stored_count

    assert response.status_code == 200, response.content
    assert stored_count(owner.project.pk) == 0


def _event_body(_t):  # type: ignore[no-untyped-def]
    from tests.ingest.events import event

    return {"schema_version": 1, "events": [event()]}


register(
    "ingest",
    Case(
        lambda t: "/v1/ingest", "post", auth="ingest", body=_event_body, verify=_ingest_lands_in_own_project
    ),
    Case(lambda t: "/v1/ingest", "post", auth="sdk", body=_event_body, expect=(403,)),
)
register(
    "ingest-feedback",
    Case(lambda t: "/v1/feedback", "post", auth="sdk", body=lambda t: {"feedback": []}, expect=(403,)),
)
register(
    "ingest-otlp-traces",
    Case(lambda t: "/v1/otlp/v1/traces", "post", auth="sdk", body=lambda t: {}, expect=(403,)),
)
register(
    "ingest-settings",
    Case(lambda t: reverse("ingest-settings", args=[t.project.pk])),
    Case(
        lambda t: reverse("ingest-settings", args=[t.project.pk]),
        "post",
        form=lambda t: {
            "capture_mode": "none",
            "capture_sample_rate": 0,
            "rate_limit_events_per_s": 0,
            "monthly_event_quota": 0,
        },
    ),
)
register(
    "pricing:catalogue",
    Case(pricing.url("pricing:catalogue"), verify=pricing.hides_owner),
)
register("pricing:model", Case(pricing.model_url))
_PRICE_FORM = {"effective_from": "2026-01-01", "input": "9", "output": "9"}
register(
    "pricing:model-price-add",
    Case(pricing.model_action_url("pricing:model-price-add"), "post", form=lambda t: _PRICE_FORM),
)
register(
    "pricing:model-price-edit",
    Case(pricing.model_action_url("pricing:model-price-edit", True), "post", form=lambda t: _PRICE_FORM),
)
register(
    "pricing:model-price-delete",
    Case(pricing.model_action_url("pricing:model-price-delete", True), "post"),
)
register(
    "pricing:model-names",
    Case(pricing.model_action_url("pricing:model-names"), "post", form=lambda t: {"aliases": "stolen"}),
)
register("pricing:settings", Case(pricing.url("pricing:settings"), verify=pricing.hides_owner))
register(
    "pricing:discount-save",
    Case(
        pricing.url("pricing:discount-save"),
        "post",
        form=lambda t: {"provider": "openai", "percent": "50", "effective_from": "2026-01-01"},
        verify=pricing.owner_untouched,
    ),
)
register("pricing:discount-delete", Case(pricing.discount_url, "post"))
register(
    "pricing:custom-model-add",
    Case(
        pricing.url("pricing:custom-model-add"),
        "post",
        form=lambda t: {"provider": "vllm", "name": f"{t.organization.slug}-secret-llm"},
        verify=pricing.owner_untouched,
    ),
)
register(
    "pricing:recompute-start",
    Case(
        pricing.url("pricing:recompute-start"),
        "post",
        form=lambda t: {"since": "2026-01-01"},
        verify=pricing.owner_untouched,
    ),
)
register("pricing:unpriced", Case(pricing.url("pricing:unpriced"), verify=pricing.hides_owner))
register(
    "pricing:recompute",
    Case(pricing.url("pricing:recompute"), verify=pricing.hides_owner),
)
register(
    "pricing:recompute-resume",
    Case(lambda t: reverse("pricing:recompute-resume", args=[pricing.secrets(t)["job"].pk]), "post"),
)
register(
    "api-prices",
    Case(lambda t: pricing.url("api-prices")(t) + "?model=secret-llm&history=1", verify=pricing.hides_owner),
    Case(lambda t: pricing.url("api-prices")(t) + "?model=secret", auth="ingest", verify=pricing.hides_owner),
)
register(
    "api-price-estimate",
    Case(pricing.url("api-price-estimate"), "post", body=pricing.estimate_body, expect=(422,)),
    Case(pricing.url("api-price-estimate"), "post", auth="sdk", body=pricing.estimate_body, expect=(422,)),
)

public("billing:stripe-webhook", "Stripe's webhook: authenticated by its signature, not by a tenant")
register("billing:overview", Case(billing.url("billing:overview"), verify=billing.hides_owner))
register("billing:reconciliation", Case(billing.url("billing:reconciliation"), verify=billing.hides_owner))
register("billing:checkout-return", Case(billing.return_url))
register(
    "billing:checkout",
    Case(
        billing.url("billing:checkout"),
        "post",
        form=lambda t: {"plan": "team"},
        verify=billing.leaves_owner_alone,
    ),
)
register("billing:portal", Case(billing.url("billing:portal"), "post", verify=billing.leaves_owner_alone))
register("dashboard:overview", Case(dashboard.url("overview")))
register("dashboard:endpoint", Case(dashboard.url("endpoint", "support-reply")))
register("dashboard:models", Case(dashboard.url("models")))
register("dashboard:model", Case(dashboard.url("model", "openai", "gpt-4o-mini")))
register(
    "dashboard:calls",
    Case(dashboard.url("calls")),
    Case(lambda t: dashboard.url("calls")(t) + "?endpoint=support-reply"),
)
register("dashboard:calls-export", Case(dashboard.url("calls-export")))
register("dashboard:call", Case(dashboard.call_url))

# --- routing policies (apps.policies) ---------------------------------------------------------
from tests.policies import tenancy_data as routing  # noqa: E402

register("policies:inbox", Case(routing.url("policies:inbox")))
register("policies:recommendations-refresh", Case(routing.url("policies:recommendations-refresh"), "post"))
register("policies:recommendation", Case(routing.recommendation_url))
register(
    "policies:recommendation-approve",
    Case(
        lambda t: routing.recommendation_url(t, "policies:recommendation-approve"),
        "post",
        form=lambda t: {"sticky_on": "event"},
    ),
)
register(
    "policies:recommendation-reject",
    Case(
        lambda t: routing.recommendation_url(t, "policies:recommendation-reject"),
        "post",
        form=lambda t: {"reason": "no"},
    ),
)
register("policies:endpoint", Case(routing.url("policies:endpoint", lambda t: routing.SECRET_ENDPOINT)))
for _action, _form in (
    ("rollback", {"version": 1}),
    ("stop", {}),
    ("rollout", {"percent": 100}),
    ("quality-bar", {"bar_percent": 90}),
):
    register(
        f"policies:endpoint-{_action}",
        Case(
            routing.url(f"policies:endpoint-{_action}", lambda t: routing.SECRET_ENDPOINT),
            "post",
            form=lambda t, form=_form: form,
        ),
    )
register("policies:config", Case(routing.url("policies:config")))
register(
    "policies:settings",
    Case(routing.url("policies:settings")),
    Case(routing.url("policies:settings"), "post", form=lambda t: {"quality_bar": 0.5, "canary_percent": 100}),
)
register(
    "policies:kill-switch",
    Case(lambda t: reverse("policies:kill-switch"), verify=routing.kill_switch_page_hides_owner),
)
register(
    "policies:kill-switch-add",
    Case(
        lambda t: reverse("policies:kill-switch-add"),
        "post",
        form=lambda t: {"kind": "model", "value": "openai/gpt-4o", "reason": "intruder"},
        verify=routing.kill_switch_untouched,
    ),
)
register(
    "policies:kill-switch-lift",
    Case(lambda t: reverse("policies:kill-switch-lift", args=[routing.kill(t).pk]), "post"),
)
register(
    "policy-config",
    Case(lambda t: "/v1/config", auth="sdk", verify=routing.config_is_the_intruders_own),
    Case(lambda t: "/v1/config", auth="ingest", expect=(403,)),
)
# The encoder artefact is the same packaged model for every tenant (tests/policies/test_encoder_api.py
# serves one to two tenants' SDK keys); none of its URLs names a tenant, an unknown one is 404.
register(
    "encoder-file",
    Case(lambda t: f"/v1/encoders/{'0' * 64}/model.onnx", auth="sdk", expect=(404,)),
    Case(lambda t: f"/v1/encoders/{'0' * 64}/model.onnx", auth="ingest", expect=(403,)),
)

# --- replay (apps.replay) -----------------------------------------------------------------------
register("replay:jobs", Case(replay.project_url("jobs")))
register(
    "replay:new",
    Case(replay.project_url("new")),
    Case(replay.project_url("new"), "post", form=replay.start_form),
)
register(
    "replay:schedule",
    Case(replay.project_url("schedule")),
    Case(
        replay.project_url("schedule"),
        "post",
        form=lambda t: {
            "enabled": "on",
            "drift_threshold": 1,
            "monthly_budget_usd": 1,
            "job_spend_cap_usd": 1,
        },
    ),
)
register("replay:job", Case(replay.job_url("job")))
register("replay:progress", Case(replay.job_url("progress")))
register("replay:cancel", Case(replay.job_url("cancel"), "post"))
register("replay:resume", Case(replay.job_url("resume"), "post"))
register("replay:sample", Case(replay.sample_url))
register(
    "replay:keys",
    Case(replay.keys_url, verify=replay.keys_page_hides_owner),
    Case(replay.keys_url, "post", form=lambda t: {"delete": replay.secrets(t)["connection"].pk}),
)

# --- spend control (apps.spend) -----------------------------------------------------------------
from tests.spend import tenancy_data as spend  # noqa: E402

register("spend:home", Case(spend.url("spend:home")))
register(
    "spend:budget-new",
    Case(spend.url("spend:budget-new")),
    Case(spend.url("spend:budget-new"), "post", form=lambda t: {"name": "x", "scope_kind": "project",
         "period": "day", "limit_usd": "1", "thresholds": "50", "action": "none"}),
)  # fmt: skip
register(
    "spend:budget",
    Case(spend.budget_url("spend:budget")),
    Case(spend.budget_url("spend:budget"), "post", form=lambda t: {"delete": "1"}, verify=spend.budget_untouched),
)
register("spend:alerts", Case(spend.url("spend:alerts")))
register("spend:alert", Case(spend.alert_url))
register(
    "spend:settings",
    Case(spend.url("spend:settings")),
    Case(spend.url("spend:settings"), "post", form=lambda t: {"action": "customer_key", "customer_key": "tag:x"}),
)
register("spend:users", Case(spend.url("spend:users")))
register("spend:user", Case(spend.url("spend:user", spend.SECRET_USER)))
register("spend:customers", Case(spend.url("spend:customers")))
register(
    "spend:customer",
    Case(spend.url("spend:customer", "acme-customer")),
    Case(spend.url("spend:customer", "acme-customer"), "post", form=lambda t: {"month": "2026-01", "amount_usd": "9"}),
)
register("spend:conversations", Case(spend.url("spend:conversations")))
register(
    "api-budgets",
    Case(spend.url("api-budgets")),
    Case(spend.url("api-budgets"), "post", body=spend.budget_body),
    Case(spend.url("api-budgets"), auth="sdk", expect=(401, 403)),
)
register(
    "api-budget",
    Case(spend.budget_url("api-budget")),
    Case(spend.budget_url("api-budget"), "patch", body=spend.budget_body, verify=spend.budget_untouched),
    Case(spend.budget_url("api-budget"), "delete", verify=spend.budget_untouched),
)
register("api-alerts", Case(spend.url("api-alerts")), Case(spend.url("api-alerts"), auth="ingest", expect=(401, 403)))
register(
    "api-customer-revenue",
    Case(spend.url("api-customer-revenue"), "put", body=lambda t: {"customer": "c", "month": "2026-01-01",
         "amount_usd": "1"}),
)  # fmt: skip

# --- opportunities (apps.opportunities) ---------------------------------------------------------
from tests.opportunities import tenancy_data as opportunities  # noqa: E402

register("opportunities:home", Case(opportunities.url("opportunities:home")))
register("opportunities:run", Case(opportunities.url("opportunities:run"), "post"))
register(
    "opportunities:latency",
    Case(opportunities.url("opportunities:latency"), "post", form=lambda t: {
         "endpoint": opportunities.SECRET_ENDPOINT, "latency": "background"}),
)  # fmt: skip
register("opportunities:detail", Case(opportunities.finding_url))
for _action in ("dismiss", "done", "reopen", "replay"):
    register(
        f"opportunities:{_action}",
        Case(
            lambda t, name=f"opportunities:{_action}": opportunities.finding_url(t, name),
            "post",
            verify=opportunities.untouched,
        ),
    )
register(
    "api-opportunities",
    Case(opportunities.api_with_owner_project),
    Case(lambda t: "/v1/opportunities", auth="sdk", verify=opportunities.api_sees_only_its_own),
    Case(lambda t: "/v1/opportunities", auth="ingest", expect=(403,)),
)
