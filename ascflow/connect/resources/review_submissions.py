"""Review submissions and their items."""

from __future__ import annotations

import builtins

from ascflow.connect.models import (
    Platform,
    ReviewSubmission,
    ReviewSubmissionItem,
    parse_many,
    parse_one,
)
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document


class ReviewSubmissions(ResourceGroup):
    def list(self, *, app_id: str, platform: Platform) -> list[ReviewSubmission]:
        # filter[app] is required by Apple on this collection.
        params = {"filter[app]": app_id, "filter[platform]": platform.value}
        return parse_many(ReviewSubmission, self._session.paginate("/v1/reviewSubmissions", params))

    def get(self, submission_id: str) -> ReviewSubmission:
        return parse_one(ReviewSubmission, self._session.get(f"/v1/reviewSubmissions/{submission_id}"))

    def items(self, submission_id: str) -> builtins.list[ReviewSubmissionItem]:
        """With each item's `appStoreVersion` linkage, to tell which version a submission holds."""
        path = f"/v1/reviewSubmissions/{submission_id}/items"
        return parse_many(ReviewSubmissionItem, self._session.paginate(path, {"include": "appStoreVersion"}))

    def create(self, *, app_id: str, platform: Platform) -> ReviewSubmission:
        body = request_document(
            "reviewSubmissions",
            attributes={"platform": platform.value},
            relationships={"app": linkage("apps", app_id)},
        )
        return parse_one(ReviewSubmission, self._session.post("/v1/reviewSubmissions", body))

    def add_version(self, *, submission_id: str, version_id: str) -> ReviewSubmissionItem:
        body = request_document(
            "reviewSubmissionItems",
            relationships={
                "reviewSubmission": linkage("reviewSubmissions", submission_id),
                "appStoreVersion": linkage("appStoreVersions", version_id),
            },
        )
        return parse_one(ReviewSubmissionItem, self._session.post("/v1/reviewSubmissionItems", body))

    def submit(self, submission_id: str) -> ReviewSubmission | None:
        body = request_document("reviewSubmissions", id_=submission_id, attributes={"submitted": True})
        document = self._session.patch(f"/v1/reviewSubmissions/{submission_id}", body)
        return parse_one(ReviewSubmission, document) if document else None
