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


def cli_actor() -> Actor:
    """The operator at the console of the server, running `rtcc` commands."""
    import getpass

    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = "unknown"
    return Actor(via="cli", username=f"cli:{name}"[:64], source_address="local")


SYSTEM = Actor(via="system", username="system")
