"""Outbound URLs the server calls for a user (provider base URLs, alert webhooks): the host must
resolve to public addresses only, unless PROVIDER_ALLOW_PRIVATE_URLS is set (local development and
the tests' local peers). The replay HTTP client repeats the address check at every new connection
(DNS rebinding); this is the check made when such a URL is saved."""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings


class UnsafeAddress(Exception):
    """The host does not resolve, or resolves to a private, loopback or reserved address."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def public_host_check(host: str, port: int | None) -> None:
    """Raise UnsafeAddress (its message says which) unless `host` resolves to public addresses only."""
    if settings.PROVIDER_ALLOW_PRIVATE_URLS:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeAddress(f"{host} does not resolve") from exc
    if not all(is_public_address(str(info[4][0])) for info in infos):
        raise UnsafeAddress("private and loopback addresses are not allowed on this server")
