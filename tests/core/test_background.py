from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from celery import shared_task
from celery.exceptions import NotRegistered
from django.db import transaction

from apps.core import background
from apps.core.tasks import ping
from tests.celery_worker import celery_worker

ROOT = Path(__file__).resolve().parents[2]
ran_on: list[str] = []


@shared_task(name="tests.record_thread", queue="default")
def record_thread() -> str:
    ran_on.append(threading.current_thread().name)
    return threading.current_thread().name


def test_embedded_worker_runs_off_the_calling_thread() -> None:
    ran_on.clear()
    future = background.dispatch(record_thread)
    assert future is not None
    assert background.drain(10)
    assert (
        ran_on and ran_on[0].startswith("switchyard-worker") and ran_on[0] != threading.current_thread().name
    )


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit_and_skips_rollback() -> None:
    ran_on.clear()
    try:
        with transaction.atomic():
            background.enqueue(record_thread)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with transaction.atomic():
        background.enqueue(record_thread)
        assert ran_on == []
    assert background.drain(10)
    assert len(ran_on) == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_by_name_runs_the_registered_task_and_refuses_an_unknown_name() -> None:
    ran_on.clear()
    with transaction.atomic():
        background.enqueue("tests.record_thread")
        assert ran_on == []
    assert background.drain(10)
    assert len(ran_on) == 1
    with pytest.raises(NotRegistered):
        background.enqueue("tests.no_such_task")


def test_every_task_name_the_code_enqueues_is_a_registered_task() -> None:
    """Services name the task they start (no import of tasks.py); a misspelt name fails here."""
    named = {
        match.group(1)
        for path in (ROOT / "apps").rglob("*.py")
        for match in re.finditer(r"(?:enqueue|dispatch)\(\s*\"([a-z_.]+)\"", path.read_text())
    }
    assert {"replay.run_job", "policies.recommend_endpoint", "policies.publish_config"} <= named
    for name in named:
        assert background.task_by_name(name).name == name


@pytest.mark.celery_worker
def test_task_runs_on_a_real_celery_worker_over_redis() -> None:
    broker = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    with celery_worker(broker) as (client, queue):
        value = client.send_task(ping.name, args=["hello"], queue=queue).get(timeout=60)
    assert value["value"] == "hello" and value["host"]


def test_embedded_beat_resolves_registered_tasks_by_name() -> None:
    from django.conf import settings

    assert background.task_by_name("core.ping").name == "core.ping"
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert background.task_by_name(str(entry["task"])).name == entry["task"]
