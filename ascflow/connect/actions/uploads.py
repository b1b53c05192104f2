"""Apple's upload operations: the reserve / PUT parts / commit / poll protocol every asset kind shares.

Builds (`buildUploadFiles`), screenshots (`appScreenshots`) and review attachments (`appStoreReviewAttachments`)
each reserve an asset with their own POST, whose answer holds `uploadOperations` (the presigned parts) and an
`assetDeliveryState`. This module sends the parts of a reserved asset, commits it once and waits for Apple's
verdict. What differs per kind stays with the caller: the reservation, the commit (builds send SHA-256
`sourceFileChecksums`; screenshots and attachments an MD5 `sourceFileChecksum`) and what to read back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ascflow.connect.actions.common import ActionFailed, Sleep, poll_until, update_once
from ascflow.connect.build_models import AssetDeliveryState, UploadOperation
from ascflow.connect.errors import AppStoreConnectError
from ascflow.connect.models import ApiModel, AssetDeliveryStateValue, MalformedDocument
from ascflow.connect.session import Session

FINISHED = frozenset({AssetDeliveryStateValue.COMPLETE, AssetDeliveryStateValue.FAILED})


class AssetDeliveryFailed(ActionFailed):
    """Apple processed the committed file as FAILED; the errors are Apple's."""


@dataclass(frozen=True)
class ReservedAsset:
    """A reserved asset as Apple describes it at one moment: its parts and how far its delivery got."""

    operations: Sequence[UploadOperation]
    delivery: AssetDeliveryState | None

    @property
    def awaiting_upload(self) -> bool:
        # No state given: treat it as not committed (sending the parts again is harmless; skipping them is not).
        return self.delivery is None or self.delivery.state is AssetDeliveryStateValue.AWAITING_UPLOAD

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ReservedAsset:
        """The asset in one `{"data": {...}}` answer of any uploadable kind (a reservation, a read, a commit)."""
        data = document.get("data")
        attributes = data.get("attributes") if isinstance(data, Mapping) else None
        if not isinstance(attributes, Mapping):
            raise MalformedDocument("expected an uploadable asset with `attributes` in the response's `data`")
        parsed = _UploadableAttributes.model_validate(attributes)
        return cls(parsed.upload_operations or [], parsed.asset_delivery_state)


class _UploadableAttributes(ApiModel):
    upload_operations: list[UploadOperation] | None = None
    asset_delivery_state: AssetDeliveryState | None = None


def deliver(
    session: Session,
    file: Path,
    *,
    reserved: ReservedAsset,
    read: Callable[[], ReservedAsset],
    commit: Callable[[], object],
) -> bool:
    """Send every part of a reserved asset and commit it once; False when an earlier attempt had committed it.

    Resuming is safe and simple: Apple does not say which parts it already holds, and each part PUT is
    idempotent until the commit, so an asset still AWAITING_UPLOAD gets all of its parts again, and one already
    committed gets none. A commit whose answer was lost is read back before it is sent again.
    """
    if not reserved.awaiting_upload:
        return False
    current = reserved if reserved.operations else read()  # a listed asset may come without its operations
    if not current.operations:
        raise ActionFailed(
            f"{file.name}: Apple reserved the file but gave no upload operations for it.",
            next_step="Delete the reservation at Apple and run the step again to reserve the file anew.",
        )
    send_parts(session, current.operations, file)
    update_once(commit, lambda: not read().awaiting_upload)
    return True


def send_parts(session: Session, operations: Sequence[UploadOperation], file: Path) -> None:
    """PUT each part as Apple describes it: its method, URL, headers, and `length` bytes from `offset`.

    The requests carry no JWT (the URL is the credential). The session retries a part like a read, on network
    errors, 408, 429 and 5xx, because sending the same bytes to the same part again changes nothing.
    """
    size = file.stat().st_size
    for operation in operations:
        if operation.offset < 0 or operation.length < 0 or operation.offset + operation.length > size:
            raise ActionFailed(
                f"{file.name}: Apple asked for bytes {operation.offset}..{operation.offset + operation.length} "
                f"but the file has {size}.",
                next_step="The file changed after it was reserved: reserve it again (for a build, with a new "
                "build number) and upload that file.",
            )
    with file.open("rb") as handle:
        for operation in operations:
            handle.seek(operation.offset)
            content = handle.read(operation.length)
            try:
                session.upload_part(operation.method, operation.url, operation.headers(), content)
            except AppStoreConnectError as error:
                if error.status != 403:
                    raise
                # Presigned URLs expire (Apple: about a week) and are then refused; a fresh reservation helps.
                raise ActionFailed(
                    f"{file.name}: the upload URL of part {operation.part_number} was refused (HTTP 403): it "
                    "expired or is not valid any more.",
                    next_step="Delete the reservation at Apple and run the step again to get fresh upload URLs.",
                ) from None


def wait_for_delivery(
    read: Callable[[], ReservedAsset],
    *,
    what: str,
    poll_interval: float,
    timeout: float,
    sleep: Sleep = time.sleep,
) -> ReservedAsset:
    """Read a committed asset until Apple says COMPLETE; FAILED raises `AssetDeliveryFailed` with Apple's errors."""
    finished = poll_until(
        read,
        lambda asset: asset.delivery is not None and asset.delivery.state in FINISHED,
        what=f"{what} to be processed",
        poll_interval=poll_interval,
        timeout=timeout,
        sleep=sleep,
    )
    if finished.delivery is not None and finished.delivery.state is AssetDeliveryStateValue.FAILED:
        errors = "; ".join(f"{e.code or '?'}: {e.description or ''}" for e in finished.delivery.errors)
        raise AssetDeliveryFailed(
            f"Apple could not process {what}: {errors or 'no detail given'}.",
            next_step="Fix the file as Apple says, delete the failed asset at Apple and upload it again.",
        )
    return finished


def md5_hex(file: Path) -> str:
    """The `sourceFileChecksum` of screenshots and review attachments."""
    with file.open("rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def sha256_hex(file: Path) -> str:
    """The hash in the `sourceFileChecksums` of build upload files."""
    with file.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
