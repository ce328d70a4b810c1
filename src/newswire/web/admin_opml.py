"""OPML in the browser: ``GET /sources.opml`` downloads the followed feeds (names, categories:
what ``newswire export-opml`` writes), ``POST /sources/import`` follows those of an uploaded
file (what ``newswire import-opml`` does).

An uploaded file is a stranger's document: it is read whole up to ``MAX_UPLOAD_BYTES`` (413
past it), parsed by ``sources.opml`` (no entities, no network, http(s) outlines only), and a
file it refuses is reported in words, with nothing imported. Both need an admin: the export
carries feed URLs as followed, tokens in them included.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from newswire.errors import NewswireError
from newswire.web.admin import as_sentence, back_to_sources_later
from newswire.web.auth import require_admin
from newswire.web.errors import WebError
from newswire.web.state import settings_of, store_of
from newswire.web.uploads import MAX_UPLOAD_BYTES, form_parts, read_body

router = APIRouter(include_in_schema=False)

OPML_TYPE = "text/x-opml; charset=utf-8"


@router.get("/sources.opml", dependencies=[Depends(require_admin)])
def export_sources(request: Request) -> Response:
    from newswire.service.subscribe import export_opml

    filename = f"newswire-sources-{date.today().isoformat()}.opml"
    return Response(export_opml(store_of(request)).encode("utf-8"), media_type=OPML_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@router.post("/sources/import")
async def import_sources(request: Request) -> Response:
    from newswire.service.subscribe import import_opml

    body = await read_body(request.stream(), MAX_UPLOAD_BYTES)
    if body is None:
        raise WebError(413, f"That file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, the most an "
                            "upload takes here; `newswire import-opml FILE` reads larger ones.")
    upload = form_parts(body, request.headers.get("content-type", "")).get("opml")
    if upload is None or not upload.content.strip():
        return await back_to_sources_later(request, "error", "Choose an OPML file to import.")
    shown = (upload.filename or "the file")[:100]
    try:
        summary = await run_in_threadpool(import_opml, store_of(request), upload.content, settings_of(request))
    except NewswireError as error:
        return await back_to_sources_later(request, "error", f"Could not import {shown}: {as_sentence(error)} "
                                                 "Nothing was imported.")
    parts = [f"Imported {summary.added} source{'s' if summary.added != 1 else ''} from {shown}"]
    if summary.already_followed:
        parts.append(f"{summary.already_followed} already followed")
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped (not web addresses)")
    later = " Their articles arrive on the next fetch pass." if summary.added else ""
    return await back_to_sources_later(request, "ok", "; ".join(parts) + "." + later)
