"""The admin API: follow, change and unfollow sources as JSON, with an admin's API token
(``Authorization: Bearer TOKEN``). The same service calls as the ``/sources`` page's forms.

    POST   /api/v1/sources        {"url", "name"?, "category"?, "full_text"?}  201 the source;
                                  409 already followed; 422 not a feed (nor a page linking one)
    PATCH  /api/v1/sources/{id}   any of {"name", "category", "enabled", "full_text", "merge_stories"}
    DELETE /api/v1/sources/{id}   204; its articles go with it

401 without a token, 403 for a user who is not an admin; a malformed body is 400, like every
bad parameter (the app's error boundary).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from newswire.errors import FetchError, ParseError, SourceExistsError
from newswire.models import User
from newswire.web.api import ErrorOut, SourceOut, error_responses, source_out
from newswire.web.auth import require_admin
from newswire.web.errors import WebError
from newswire.web.inputs import MAX_ID
from newswire.web.state import settings_of, store_of

def _as_json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ErrorOut.model_json_schema()}}}


router = APIRouter(prefix="/api/v1", tags=["admin"], responses={
    **error_responses(), 401: _as_json("No API token"), 403: _as_json("Not an admin, or not from this site")})

Admin = Annotated[User, Depends(require_admin)]
SourceId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00\s]+$")]
    name: Text | None = None
    category: Text | None = None
    full_text: bool = False


class SourceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = None
    category: Text | None = None
    enabled: bool | None = None
    full_text: bool | None = None
    merge_stories: bool | None = None


@router.post("/sources", status_code=201, response_model=SourceOut, summary="Follow a feed (admins)",
             responses={409: _as_json("Already followed"), 422: _as_json("Not a feed, nor a page linking one")})
async def add_source(request: Request, body: SourceIn, admin: Admin) -> SourceOut:
    from newswire.service.subscribe import follow_and_fetch

    url = body.url if "://" in body.url else "https://" + body.url
    try:
        source, _ = await follow_and_fetch(store_of(request), settings_of(request), url, name=body.name or None,
                                           full_text=body.full_text, category=body.category or None,
                                           requests=getattr(request.app.state, "refresh_requests", None))
    except SourceExistsError as exists:
        raise WebError(409, f"already following {url}" + (f" as source {exists.source_id}" if exists.source_id
                                                          else "")) from None
    except (FetchError, ParseError, ValueError) as unusable:
        raise WebError(422, str(unusable)) from None
    return source_out(source)


@router.patch("/sources/{source_id}", response_model=SourceOut, summary="Change a source (admins)")
def change_source(request: Request, source_id: SourceId, body: SourceChange, admin: Admin) -> SourceOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for required in ("name", "enabled", "full_text", "merge_stories"):
        if required in changes and changes[required] is None:
            raise WebError(400, f"invalid parameters: {required} cannot be null")
    if "category" in changes:
        changes["category"] = (changes["category"] or "").strip() or None
    store = store_of(request)
    store.change_source(source_id, changes)
    return source_out(store.get_source(source_id))


@router.delete("/sources/{source_id}", status_code=204, response_class=Response,
               summary="Unfollow a source and delete its articles (admins)")
def delete_source(request: Request, source_id: SourceId, admin: Admin) -> Response:
    store_of(request).remove_source(source_id)
    return Response(status_code=204)
