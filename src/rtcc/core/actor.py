"""Who is acting: the one object every service, permission check and audit record is given."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """A signed-in person, an API token, the CLI, or the system itself."""

    via: str  # session | token | cli | system | anonymous
    username: str | None = None
    user_id: int | None = None
    role: str | None = None
    agency_ori: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    # Camera groups this actor may see; None means every group of its agency.
    camera_groups: tuple[str, ...] | None = None
    source_address: str | None = None
    session_id: int | None = None
    token_id: int | None = None

    def can(self, permission: str) -> bool:
        """Whether this actor holds the permission."""
        return permission in self.permissions

    def sees_agency(self, agency_ori: str | None) -> bool:
        """Whether an object owned by this agency (an alert's hotlist, an incident) is inside this actor's scope."""
        if self.role in ("admin", "auditor") or self.via in {"cli", "system"}:
            return True
        return agency_ori is not None and agency_ori == self.agency_ori

    def sees_camera(self, *, agency_ori: str | None, groups: list[str] | tuple[str, ...]) -> bool:
        """Whether a camera of this agency and these groups is inside this actor's scope."""
        if self.role == "admin" or self.via in {"cli", "system"}:
            return True
        if agency_ori is not None and agency_ori != self.agency_ori:
            return False
        if self.camera_groups is None:
            return True
        return bool(set(self.camera_groups) & set(groups))


def cli_actor() -> Actor:
    """The operator at the console of the server, running `rtcc` commands."""
    import getpass

    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = "unknown"
    return Actor(via="cli", username=f"cli:{name}"[:64], source_address="local")


SYSTEM = Actor(via="system", username="system")
