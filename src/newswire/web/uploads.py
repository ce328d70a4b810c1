"""Reading a ``multipart/form-data`` form: the sources page's OPML upload, the one form that
sends a file.

The standard library's MIME parser reads the body (``python-multipart``, which FastAPI's
``UploadFile`` needs, is not among the dependencies, and one small form does not justify it).
The body is read whole, at most ``MAX_UPLOAD_BYTES``, before anything parses it: the CSRF check
(``csrf.CsrfCheck``) reads the form's token from it, then the route reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
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
    """The fields of a multipart form, by name (the first of each name). Raises BadRequest for
    a body that is not one (no boundary, no parts, too many parts)."""
    if content_type.split(";")[0].strip().lower() != MULTIPART_TYPE or "boundary=" not in content_type:
        raise BadRequest("invalid form: expected multipart/form-data with a boundary")
    header = "Content-Type: " + " ".join(content_type.split()) + "\r\n\r\n"  # no line breaks from the header
    message = BytesParser(policy=policy.HTTP).parsebytes(header.encode("latin-1", "replace") + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise BadRequest("invalid form: not a multipart body")
    parts: dict[str, Part] = {}
    for count, part in enumerate(message.iter_parts()):
        if count >= MAX_PARTS:
            raise BadRequest("invalid form: too many fields")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        payload = part.get_payload(decode=True)
        parts[name] = Part(payload if isinstance(payload, bytes) else b"", part.get_filename())
    if not parts:
        raise BadRequest("invalid form: no fields")
    return parts


async def read_body(receive_chunks, limit: int) -> bytes | None:
    """The whole body from an async iterator of chunks, or None past ``limit`` bytes."""
    body = bytearray()
    async for chunk in receive_chunks:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
