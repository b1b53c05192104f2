"""Reading the upload form while it streams in: limits are enforced on every chunk, nothing is spooled.

Starlette's form parser spools file parts above 1 MB to a temporary file and caps only non-file parts, so the
upload route reads the raw body itself with python-multipart's streaming parser: the request is refused on its
Content-Length before a byte is read, and otherwise at the first byte past a limit. The key part is held in
memory (a few KiB at most) and never touches the disk. A body python-multipart cannot parse (no boundary where
one must be, a bad part header, too many or too long part headers), one that stops before the form's end or
goes on after it is refused as unreadable: the parser's error is a refusal, never a server error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

TEXT_FIELDS = ("csrf", "issuer_id", "key_id")
FILE_FIELD = "p8"
MAX_TEXT_FIELD_BYTES = 1024
# After the closing boundary a client may send the line break that ends it in a chunk of its own.
MAX_BYTES_AFTER_FORM = 2
_CHOOSE_FILE = "Choose the AuthKey_<KEYID>.p8 file you downloaded from App Store Connect."
_SEND_FROM_PAGE = "Reload this page and send the form from it again."


class UploadRefused(Exception):
    """The request breaks a rule of the form. Carries the field, what is wrong and what to do; never input."""

    def __init__(self, status: int, field: str, problem: str, remedy: str) -> None:
        self.status = status
        self.field = field
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{field}: {problem}")


def unreadable() -> UploadRefused:
    return UploadRefused(
        400,
        "form",
        "The form could not be read: what arrived is not a complete, well-formed form",
        _SEND_FROM_PAGE,
    )


@dataclass(frozen=True)
class Limits:
    request_bytes: int
    key_bytes: int


class KeyUpload:
    """The form as received. The key file lives only in `buffer`, which the caller wipes on every path.

    The buffer is allocated once at the largest size a key may have, so it never moves: a growing bytearray
    would leave its earlier, shorter copies in freed memory that nothing can wipe.
    """

    def __init__(self, limits: Limits) -> None:
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.buffer = bytearray(limits.key_bytes)
        self.length = 0

    @property
    def key(self) -> memoryview:
        return memoryview(self.buffer)[: self.length]

    def add_key_bytes(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self.length + size > len(self.buffer):
            raise UploadRefused(
                413,
                FILE_FIELD,
                f"The key file is larger than {len(self.buffer)} bytes; Apple's key files are about 260 bytes",
                _CHOOSE_FILE,
            )
        # Through a memoryview: slicing `data` itself would make one more copy of the key.
        self.buffer[self.length : self.length + size] = memoryview(data)[start:end]
        self.length += size

    def __repr__(self) -> str:
        return f"KeyUpload(fields={sorted(self.fields)}, key_bytes={self.length})"

    def wipe(self) -> None:
        """Zero our copy. Copies made by the libraries on the way (see the README) are out of our reach."""
        self.buffer[:] = bytes(len(self.buffer))
        self.length = 0


class _FormReader:
    def __init__(self, upload: KeyUpload) -> None:
        self.upload = upload
        self.ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition: bytes | None = None
        self._current: str | None = None
        self._is_file = False
        self._buffer = bytearray()
        self._files = 0

    def callbacks(self) -> Mapping[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _end(self) -> None:
        self.ended = True

    def _part_begin(self) -> None:
        self._disposition = None
        self._current = None
        self._is_file = False
        self._buffer = bytearray()

    def _header_end(self) -> None:
        if bytes(self._header_name).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        if self._disposition is None:
            raise UploadRefused(
                400, "form", "The form has a part without a name", "Send the form from the page itself."
            )
        kind, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("ascii", "replace")
        if kind != b"form-data" or not name:
            raise UploadRefused(
                400, "form", "The form has a part without a name", "Send the form from the page itself."
            )
        if b"filename" in options or name == FILE_FIELD:
            # A browser sends filename="" when no file was chosen; a script may leave the attribute out.
            self._start_file(name, options.get(b"filename", b""))
        elif name in TEXT_FIELDS:
            if name in self.upload.fields:
                raise UploadRefused(
                    400, name, "This field was sent twice", "Send the form once, from the page itself."
                )
            self.upload.fields[name] = ""
        else:
            raise UploadRefused(
                400, "form", "The form holds a field this page does not ask for", "Use the page's form."
            )
        self._current = name

    def _start_file(self, name: str, raw_filename: bytes) -> None:
        self._files += 1
        if name != FILE_FIELD or self._files > 1:
            raise UploadRefused(
                400, FILE_FIELD, "More than one file was sent", "Upload only the one AuthKey_<KEYID>.p8 file."
            )
        self._is_file = True
        # python-multipart strips a Windows path from the name; the raw header shows whether there was one.
        if b"\\" in (self._disposition or b""):
            self.upload.filename = "\\"
        else:
            self.upload.filename = raw_filename.decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.upload.add_key_bytes(data, start, end)
            return
        if len(self._buffer) + end - start > MAX_TEXT_FIELD_BYTES:
            field_name = self._current or "form"
            raise UploadRefused(
                413, field_name, "This value is far longer than any valid one", "Enter the value again."
            )
        self._buffer.extend(data[start:end])

    def _part_end(self) -> None:
        if self._current is not None and not self._is_file:
            self.upload.fields[self._current] = bytes(self._buffer).decode("utf-8", "replace").strip()
        self._buffer = bytearray()


def check_request_headers(headers: Mapping[str, str], limits: Limits) -> bytes:
    """Refuse by the headers alone (size, type) before reading the body; returns the multipart boundary."""
    length = headers.get("content-length")
    if length is not None and "transfer-encoding" in headers:
        # RFC 9112 6.3: a request with both is a smuggling attempt or a broken client; a server may refuse it.
        raise UploadRefused(
            400,
            "form",
            "The request gives both a length and chunked transfer, so it was not read",
            _SEND_FROM_PAGE,
        )
    if length is not None:
        if not length.isdigit():
            raise UploadRefused(
                400, "form", "The request has an invalid Content-Length", "Send the form from the page."
            )
        if int(length) > limits.request_bytes:
            raise UploadRefused(413, "form", _too_large(limits), _CHOOSE_FILE)
    kind, options = parse_options_header(headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(
            415, "form", "The request is not a multipart form upload", "Send the form from the page itself."
        )
    return boundary


async def read_upload(
    chunks: AsyncIterator[bytes], boundary: bytes, limits: Limits, upload: KeyUpload
) -> None:
    """Parse the body chunk by chunk into `upload`; stop at the first chunk that breaks a limit or the form."""
    reader = _FormReader(upload)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    received = after_form = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limits.request_bytes:
            raise UploadRefused(413, "form", _too_large(limits), _CHOOSE_FILE)
        if reader.ended:
            after_form += len(chunk)
            if after_form > MAX_BYTES_AFTER_FORM:
                raise unreadable()
            continue
        try:
            parser.write(chunk)
        except MultipartParseError:
            raise unreadable() from None
    if not reader.ended:
        raise unreadable()
    if upload.filename is None or (not upload.filename and not upload.length):
        raise UploadRefused(400, FILE_FIELD, "No key file was chosen", _CHOOSE_FILE)


def _too_large(limits: Limits) -> str:
    return f"The upload is larger than the {size_in_words(limits.request_bytes)} an upload may be"


def size_in_words(size: int) -> str:
    mib = size / (1024 * 1024)
    return f"{mib:.0f} MB" if mib >= 1 else f"{max(1, size // 1024)} KiB"
