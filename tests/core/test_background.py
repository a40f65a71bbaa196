from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery import shared_task
from django.db import transaction

from apps.core import background
from apps.core.tasks import ping

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


@pytest.mark.celery_worker
def test_task_runs_on_a_real_celery_worker_over_redis(tmp_path: Path) -> None:
    broker = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
    }
    queue = f"test-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        from config.celery_app import app

        app.conf.broker_url = broker
        app.conf.result_backend = broker
        result = ping.apply_async(args=["hello"], queue=queue)
        value = result.get(timeout=60)
        assert value["value"] == "hello" and value["host"]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.conf.broker_url = ""
        app.conf.result_backend = ""
        time.sleep(0)


def test_embedded_beat_resolves_registered_tasks_by_name() -> None:
    from django.conf import settings

    assert background.task_by_name("core.ping").name == "core.ping"
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert background.task_by_name(str(entry["task"])).name == entry["task"]
