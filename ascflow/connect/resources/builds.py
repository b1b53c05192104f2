"""Builds, build uploads (reservations) and build upload files (their parts go through actions.uploads)."""

from __future__ import annotations

from ascflow.connect.build_models import Build, BuildUpload, BuildUploadFile, Checksums
from ascflow.connect.listing_models import parse_included
from ascflow.connect.models import Platform, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, linkage, request_document


class Builds(ResourceGroup):
    def list(self, *, app_id: str, version: str, short_version: str, platform: Platform) -> list[Build]:
        params = {
            "filter[app]": app_id,
            "filter[version]": version,
            "filter[preReleaseVersion.version]": short_version,
            "filter[preReleaseVersion.platform]": platform.value,
        }
        return parse_many(Build, self._session.paginate("/v1/builds", params))

    def get(self, build_id: str) -> Build:
        return parse_one(Build, self._session.get(f"/v1/builds/{build_id}"))

    def set_uses_non_exempt_encryption(self, build_id: str, value: bool) -> Build | None:
        body = request_document("builds", id_=build_id, attributes={"usesNonExemptEncryption": value})
        document = self._session.patch(f"/v1/builds/{build_id}", body)
        return parse_one(Build, document) if document else None


class BuildUploads(ResourceGroup):
    def list_for_app(
        self, *, app_id: str, short_version: str, version: str, platform: Platform
    ) -> tuple[list[BuildUpload], dict[str, Build]]:
        """The uploads with their builds (included, by id): a rerun sees an upload and its processed build in
        one read."""
        params = {
            "filter[cfBundleShortVersionString]": short_version,
            "filter[cfBundleVersion]": version,
            "filter[platform]": platform.value,
            "include": "build",
        }
        pages = list(self._session.paginate(f"/v1/apps/{app_id}/buildUploads", params))
        return parse_many(BuildUpload, pages), {b.id: b for b in parse_included(Build, pages)}

    def get(self, upload_id: str) -> tuple[BuildUpload, Build | None]:
        """With the `build` linkage, which Apple fills in once the upload is COMPLETE, and that build."""
        document = self._session.get(f"/v1/buildUploads/{upload_id}", {"include": "build"})
        upload = parse_one(BuildUpload, document)
        build_id = upload.related_id("build")
        return upload, next((b for b in parse_included(Build, [document]) if b.id == build_id), None)

    def create(self, *, app_id: str, short_version: str, version: str, platform: Platform) -> BuildUpload:
        body = request_document(
            "buildUploads",
            attributes={
                "cfBundleShortVersionString": short_version,
                "cfBundleVersion": version,
                "platform": platform.value,
            },
            relationships={"app": linkage("apps", app_id)},
        )
        return parse_one(BuildUpload, self._session.post("/v1/buildUploads", body))

    def files(self, upload_id: str) -> list[BuildUploadFile]:
        return parse_many(
            BuildUploadFile, self._session.paginate(f"/v1/buildUploads/{upload_id}/buildUploadFiles")
        )

    def create_file(
        self, *, upload_id: str, file_name: str, file_size: int, uti: str, asset_type: str
    ) -> BuildUploadFile:
        body = request_document(
            "buildUploadFiles",
            attributes={"fileName": file_name, "fileSize": file_size, "uti": uti, "assetType": asset_type},
            relationships={"buildUpload": linkage("buildUploads", upload_id)},
        )
        return parse_one(BuildUploadFile, self._session.post("/v1/buildUploadFiles", body))

    def get_file(self, file_id: str) -> BuildUploadFile:
        return parse_one(BuildUploadFile, self._session.get(f"/v1/buildUploadFiles/{file_id}"))

    def commit_file(self, file_id: str, checksums: Checksums) -> BuildUploadFile | None:
        attributes = {
            "uploaded": True,
            "sourceFileChecksums": checksums.model_dump(by_alias=True, exclude_none=True),
        }
        body = request_document("buildUploadFiles", id_=file_id, attributes=attributes)
        document = self._session.patch(f"/v1/buildUploadFiles/{file_id}", body)
        return parse_one(BuildUploadFile, document) if document else None
