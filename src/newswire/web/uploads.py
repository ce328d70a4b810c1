"""Reading a ``multipart/form-data`` form: the sources page's OPML upload, the one form that
sends a file.

The body is split on its boundary, at most ``MAX_PARTS`` parts, and the standard library's MIME
parser reads each part's headers (``python-multipart``, which FastAPI's ``UploadFile`` needs, is
not among the dependencies, and one small form does not justify it). The body is read whole, at
most ``MAX_UPLOAD_BYTES``, before anything parses it: the CSRF check (``csrf.CsrfCheck``) reads
the form's token from it, for any signed-in user, so the work is bounded whatever the body
holds; then the route reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from newswire.web.errors import BadRequest

MULTIPART_TYPE = "multipart/form-data"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # an OPML file of several thousand feeds
MAX_PARTS = 20


@dataclass(frozen=True)
class Part:
    """One field of the form: its bytes, and the file name the browser gave (None for a field)."""

    content: bytes
    filename: str | None = None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def form_parts(body: bytes, content_type: str) -> dict[str, Part]:
    """The fields of a multipart form, by name (the first of each name; at most ``MAX_PARTS``
    are read, whatever the body holds). Raises BadRequest for a body that is not one."""
    boundary = _boundary(content_type)
    sections = body.split(b"--" + boundary, MAX_PARTS + 1)[1:MAX_PARTS + 1]
    parts: dict[str, Part] = {}
    for section in sections:
        if section.startswith(b"--"):  # the closing delimiter
            break
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = BytesParser(policy=policy.HTTP).parsebytes(head + b"\r\n\r\n", headersonly=True)
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in parts:
            parts[name] = Part(content.removesuffix(b"\r\n"), headers.get_filename())
    if not parts:
        raise BadRequest("invalid form: not a multipart body with fields")
    return parts


def _boundary(content_type: str) -> bytes:
    header = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + " ".join(content_type.split()).encode("latin-1", "replace") + b"\r\n\r\n",
        headersonly=True)
    boundary = header.get_param("boundary")
    if header.get_content_type() != MULTIPART_TYPE or not isinstance(boundary, str) or not 0 < len(boundary) <= 200:
        raise BadRequest("invalid form: expected multipart/form-data with a boundary")
    return boundary.encode("latin-1", "replace")


async def read_body(receive_chunks, limit: int) -> bytes | None:
    """The whole body from an async iterator of chunks, or None past ``limit`` bytes."""
    body = bytearray()
    async for chunk in receive_chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
