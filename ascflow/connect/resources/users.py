"""Team members and pending invitations."""

from __future__ import annotations

from collections.abc import Sequence

from ascflow.connect.models import User, UserInvitation, UserRole, parse_many, parse_one
from ascflow.connect.resources.base import ResourceGroup, request_document


class Users(ResourceGroup):
    def probe(self) -> None:
        """Does the key reach /v1/users (the Admin role)? See ResourceGroup._probe."""
        self._probe("/v1/users")

    def list(self, *, username: str) -> list[User]:
        return parse_many(User, self._session.paginate("/v1/users", {"filter[username]": username}))

    def set_roles(self, user_id: str, roles: Sequence[str]) -> None:
        body = request_document("users", id_=user_id, attributes={"roles": list(roles)})
        self._session.patch(f"/v1/users/{user_id}", body)


class UserInvitations(ResourceGroup):
    def list(self, *, email: str) -> list[UserInvitation]:
        return parse_many(
            UserInvitation, self._session.paginate("/v1/userInvitations", {"filter[email]": email})
        )

    def create(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        roles: Sequence[UserRole],
        all_apps_visible: bool,
        provisioning_allowed: bool,
    ) -> UserInvitation:
        body = request_document(
            "userInvitations",
            attributes={
                "email": email,
                "firstName": first_name,
                "lastName": last_name,
                "roles": [role.value for role in roles],
                "allAppsVisible": all_apps_visible,
                "provisioningAllowed": provisioning_allowed,
            },
        )
        return parse_one(UserInvitation, self._session.post("/v1/userInvitations", body))
