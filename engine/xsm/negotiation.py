"""Reading what an HTTP client asks for: media types by preference, where to resume."""

from __future__ import annotations

from aiohttp import web


def accepted_media(header: str) -> list[str]:
    """Media ranges of an Accept header, most preferred first."""
    ranges = []
    for index, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, index, media.lower()))
    return [media for _, _, media in sorted(ranges)]


def last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    if raw is None or not raw.strip().isdigit() or len(raw) > 30:
        return None
    return int(raw)
