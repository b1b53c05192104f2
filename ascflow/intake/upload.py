"""Reading the upload form while it streams in: limits are enforced on every chunk, nothing is spooled.

Starlette's form parser spools file parts above 1 MB to a temporary file and caps only non-file parts, so the
upload route reads the raw body itself with python-multipart's streaming parser: the request is refused on its
Content-Length before a byte is read, and otherwise at the first byte past a limit. The key part is held in
memory (a few KiB at most) and never touches the disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from python_multipart.multipart import MultipartParser, parse_options_header

TEXT_FIELDS = ("csrf", "issuer_id", "key_id")
FILE_FIELD = "p8"
MAX_TEXT_FIELD_BYTES = 1024
_CHOOSE_FILE = "Choose the AuthKey_<KEYID>.p8 file you downloaded from App Store Connect."


class UploadRefused(Exception):
    """The request breaks a rule of the form. Carries the field, what is wrong and what to do; never input."""

    def __init__(self, status: int, field: str, problem: str, remedy: str) -> None:
        self.status = status
        self.field = field
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{field}: {problem}")


@dataclass
class KeyUpload:
    """The form as received. `key` is the only copy of the key file; the caller drops it after use."""

    fields: dict[str, str]
    key: bytearray
    filename: str | None

    def __repr__(self) -> str:
        return f"KeyUpload(fields={sorted(self.fields)}, key_bytes={len(self.key)})"

    def wipe(self) -> None:
        """Best effort only: Python may hold other copies; this drops ours early."""
        self.key[:] = b"\0" * len(self.key)
        self.key.clear()


@dataclass(frozen=True)
class Limits:
    request_bytes: int
    key_bytes: int


class _FormReader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.upload = KeyUpload(fields={}, key=bytearray(), filename=None)
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
        }

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
        chunk = data[start:end]
        if self._is_file:
            if len(self.upload.key) + len(chunk) > self.limits.key_bytes:
                raise UploadRefused(
                    413,
                    FILE_FIELD,
                    f"The key file is larger than {self.limits.key_bytes} bytes; Apple's key files are about 260 bytes",
                    _CHOOSE_FILE,
                )
            self.upload.key.extend(chunk)
            return
        if len(self._buffer) + len(chunk) > MAX_TEXT_FIELD_BYTES:
            field_name = self._current or "form"
            raise UploadRefused(
                413, field_name, "This value is far longer than any valid one", "Enter the value again."
            )
        self._buffer.extend(chunk)

    def _part_end(self) -> None:
        if self._current is not None and not self._is_file:
            self.upload.fields[self._current] = bytes(self._buffer).decode("utf-8", "replace").strip()
        self._buffer = bytearray()


def check_request_headers(headers: Mapping[str, str], limits: Limits) -> bytes:
    """Refuse by the headers alone (size, type) before reading the body; returns the multipart boundary."""
    length = headers.get("content-length")
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


async def read_upload(chunks: AsyncIterator[bytes], boundary: bytes, limits: Limits) -> KeyUpload:
    """Parse the body chunk by chunk; stop at the first chunk that breaks a limit."""
    reader = _FormReader(limits)
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limits.request_bytes:
            raise UploadRefused(413, "form", _too_large(limits), _CHOOSE_FILE)
        parser.write(chunk)
    parser.finalize()
    upload = reader.upload
    if upload.filename is None or (not upload.filename and not upload.key):
        raise UploadRefused(400, FILE_FIELD, "No key file was chosen", _CHOOSE_FILE)
    return upload


def _too_large(limits: Limits) -> str:
    mib = limits.request_bytes / (1024 * 1024)
    size = f"{mib:.0f} MB" if mib >= 1 else f"{limits.request_bytes // 1024} KiB"
    return f"The upload is larger than the {size} an upload may be"
