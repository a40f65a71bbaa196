"""Config server down: the SDK keeps routing by its last-known-good config — in the running process,
and in a new process that starts while the server is unreachable (config cached on disk)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from apps.policies.domain import signing
from apps.policies.services.approve import ApprovalEdits, recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import price_catalogue, synthetic_evidence
from tests.reliability.conftest import Tally
from tests.tenancy import make_tenant


class Proxy:
    """A TCP forwarder to the live server that can be switched off (connections refused)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def close(self) -> None:
        self.open = False
        self.listener.close()


def _routed_model(endpoint: str, model: str) -> tuple[str, str]:
    import switchyard

    with switchyard.track(provider="openai", model=model, endpoint=endpoint) as call:
        call.set_usage(input_tokens=10, output_tokens=2)
        return call.model, call.event_id


@pytest.mark.reliability("faults")
def test_sdk_keeps_routing_by_last_known_good_config(
    live_server: Any, transactional_db: None, tmp_path: Path, tally: Tally
) -> None:
    import switchyard

    price_catalogue()
    tenant = make_tenant("lkg")
    rec = recommendation_refresh(
        project=tenant.project,
        evidence=synthetic_evidence(project_id=tenant.project.pk, endpoint="draft-email"),
    )
    recommendation_approve(recommendation=rec, actor=tenant.user, edits=ApprovalEdits(rollout_percent=100))
    keys = dict(item.split(":", 1) for item in signing.public_keys_env().split(","))
    proxy = Proxy(int(live_server.url.rsplit(":", 1)[1]))
    cache = tmp_path / "config-cache"

    def start() -> Any:
        return switchyard.init(
            api_key=tenant.ingest_key,
            sdk_key=tenant.sdk_key,
            host=f"http://127.0.0.1:{proxy.port}",
            config_public_keys=keys,
            config_cache_dir=cache,
            config_poll_interval=0.2,
            max_retries=0,
        )

    client = start()
    try:
        assert client.wait_for_config(20), client.last_config_error()
        assert _routed_model("draft-email", "gpt-4o")[0] == "gpt-4o-mini"
        proxy.close()  # the config server is now unreachable
        time.sleep(1.5)  # several failed polls
        routed = [_routed_model("draft-email", "gpt-4o")[0] for _ in range(20)]
        tally.attempts += len(routed)
        assert routed == ["gpt-4o-mini"] * 20
        assert (
            _routed_model("classify-ticket", "gpt-4o-mini")[0] == "gpt-4o-mini"
        )  # no policy: the app's model
    finally:
        switchyard.shutdown(2)

    restarted = start()  # a new process-like start while the server is still down: config from disk
    try:
        assert restarted.wait_for_config(5)
        routed = [_routed_model("draft-email", "gpt-4o")[0] for _ in range(10)]
        tally.attempts += len(routed)
        assert routed == ["gpt-4o-mini"] * 10
    finally:
        switchyard.shutdown(2)
