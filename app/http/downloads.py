"""Files sent for download: one table of media types, one way to name the file (Content-Disposition)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NDJSON = "application/x-ndjson"
JSON = "application/json"
CSV = "text/csv"

MEDIA_TYPES = {"xlsx": XLSX, "ndjson": NDJSON, "json": JSON, "csv": f"{CSV}; charset=utf-8"}


def csv_media_type(charset: str = "utf-8") -> str:
    """Return the media type of CSV text in `charset`."""
    return f"{CSV}; charset={charset}"


def attachment(filename: str) -> dict[str, str]:
    """Return the header that has a browser save the answer as `filename` (any script, RFC 6266)."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}


def download(
    body: bytes | str, filename: str, *, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Return `body` as a file named `filename`."""
    return Response(body, media_type=media_type, headers={**(headers or {}), **attachment(filename)})


def streamed_download(
    chunks: Iterable[bytes] | Iterable[str] | AsyncIterable[bytes],
    filename: str,
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> StreamingResponse:
    """Return the streamed `chunks` as a file named `filename`."""
    return StreamingResponse(
        chunks, media_type=media_type, headers={**(headers or {}), **attachment(filename)}
    )
