"""File downloads: the Content-Disposition header and file names that every OS accepts."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.responses import Response


def safe_filename(name: str, fallback: str) -> str:
    """`name` without characters file systems refuse (or whitespace), at most 60 long."""
    cleaned = re.sub(r'[\\/:*?"<>|\s]+', "_", "".join(ch for ch in name if ch.isprintable()))
    return cleaned.strip("._")[:60] or fallback


def attachment(content: bytes, media_type: str, ascii_name: str,
               full_name: str | None = None) -> Response:
    """A download: `ascii_name` for any client, `full_name` (RFC 5987 `filename*`, may be
    Japanese) for browsers, which prefer it."""
    disposition = (f'attachment; filename="{ascii_name}"; '
                   f"filename*=UTF-8''{quote(full_name or ascii_name, safe='')}")
    return Response(content, media_type=media_type,
                    headers={"content-disposition": disposition})
