"""`GET /v1/encoders/<sha256>/<file>`: the encoder artefact an `encoder_linear` router needs
(apps.routing.encoder), for SDKs to fetch once and keep (docs/protocol.md, LEARNED_MODEL).

Any valid SDK key may fetch it: the artefact is the same packaged model for every tenant (public
software, like the SDK's wheels), named by its SHA-256, so its bytes never change under a URL
(`Cache-Control: immutable`, the file's SHA-256 as ETag). 401 without a valid key, 403 for a key
that is not an SDK key, 404 for an artefact or file this server does not have.
"""

from __future__ import annotations

from typing import cast

from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.key_check import key_of_kind
from apps.core.api_errors import api_methods, error_response
from apps.routing import encoder


@csrf_exempt
@api_methods("GET")
def encoder_file(request: HttpRequest, sha256: str, name: str) -> HttpResponse:
    """GET /v1/encoders/<sha256>/<file> — one file of an exported encoder."""
    principal = key_of_kind(request, "sdk")
    if isinstance(principal, HttpResponse):
        return principal
    artefact = encoder.find(sha256)
    if artefact is None or name not in artefact.manifest["files"]:
        return error_response("not_found", "No such encoder file on this server", 404)
    digest = artefact.manifest["files"][name]["sha256"]
    if request.headers.get("If-None-Match", "").strip() == f'"{digest}"':
        return HttpResponse(status=304)
    stream = open(artefact.folder / name, "rb")  # noqa: SIM115 - FileResponse closes it
    response = cast(HttpResponse, FileResponse(stream, content_type="application/octet-stream"))
    response["ETag"] = f'"{digest}"'
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Switchyard-Sha256"] = digest
    return response
