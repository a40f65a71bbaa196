"""Where switching project takes a person: the same page of the new project.

A page about the whole project (Calls, Models, Replay, Routing settings …) is the same page for
the new one; a page about one thing of the old project (an endpoint, a call, a replay job, a
recommendation) becomes the list it belongs to, since the new project has no such thing; a page
about no project (Pricing, Members, Billing …) stays as it is."""

from __future__ import annotations

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

# A page about one thing of a project → the page of the new project that lists such things.
PARENT = {
    "dashboard:endpoint": "dashboard:overview",
    "dashboard:model": "dashboard:models",
    "dashboard:call": "dashboard:calls",
    "dashboard:calls-export": "dashboard:calls",
    "policies:recommendation": "policies:inbox",
    "policies:endpoint": "policies:inbox",
    "replay:job": "replay:jobs",
    "replay:progress": "replay:jobs",
    "replay:sample": "replay:jobs",
    "replay:cancel": "replay:jobs",
    "replay:resume": "replay:jobs",
}


def same_page_in(next_url: str, *, project_id: int | None) -> str:
    """The URL to land on after switching to `project_id`, from the page the switch was made on.
    Only this site's own paths are followed (never `//elsewhere`); the query string is dropped
    (its filters name the old project's endpoints and models)."""
    path = next_url.split("?", 1)[0]
    if not path.startswith("/") or path.startswith("//"):
        return reverse("home")
    try:
        match = resolve(path)
    except Resolver404:
        return reverse("home")
    if "project_id" not in match.kwargs:
        return path
    if project_id is None:
        return reverse("home")
    name = match.view_name
    others = {k: v for k, v in match.kwargs.items() if k != "project_id"}
    try:
        if others:
            return (
                reverse(PARENT[name], kwargs={"project_id": project_id})
                if name in PARENT
                else reverse("home")
            )
        return reverse(name, kwargs={"project_id": project_id})
    except NoReverseMatch:
        return reverse("home")
