"""The one scope policy (auth/scope.py): who sees which agency's cameras, hotlists, casework, accounts and audit."""

from types import SimpleNamespace

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from rtcc.auth import scope
from rtcc.auth.permissions import ROLE_PERMISSIONS, ROLES, permissions_of
from rtcc.core.actor import SYSTEM, Actor, cli_actor
from rtcc.core.events import make_event

OURS, THEIRS = "CA0199900", "NY0300000"


def person(role, *, agency=OURS, groups=None, via="session"):
    return Actor(via=via, username=f"{role}-{agency}", role=role, agency_ori=agency,
                 permissions=permissions_of(role), camera_groups=groups)


def test_the_table_covers_every_kind_and_names_only_real_roles():
    assert set(scope.EVERY_AGENCY) == set(scope.KINDS)
    named = set().union(*(rule.roles for rule in scope.EVERY_AGENCY.values()), *scope.OVERSEERS.values(),
                        scope.FIELD_LINK_RECIPIENT_ROLES)
    assert named <= set(ROLES)
    assert set(scope.EVENT_KINDS.values()) <= set(scope.KINDS)


@pytest.mark.parametrize(("role", "crosses"), [
    ("admin", {scope.CAMERAS, scope.HOTLISTS, scope.ACCOUNTS}),  # administers; never another agency's casework
    ("auditor", {scope.ACCOUNTS, scope.AUDIT}),  # oversees the centre; never its surveillance data
    ("supervisor", set()), ("analyst", set()), ("operator", set()), ("field_officer", set()),
    ("partner_agency", set()), ("camera_owner", set()),
])
def test_which_roles_see_another_agencys_things(role, crosses):
    assert set(ROLE_PERMISSIONS) == set(ROLES)
    seen = {kind for kind in scope.KINDS if scope.sees_agency(person(role), THEIRS, kind=kind)}
    assert seen == crosses
    assert all(scope.sees_agency(person(role), OURS, kind=kind) for kind in scope.KINDS)  # one's own: always


@pytest.mark.parametrize("machine", [SYSTEM, cli_actor()], ids=["system", "cli"])
def test_the_server_itself_and_its_console_see_every_agency(machine):
    assert all(scope.agencies_visible_to(machine, kind=kind) is None for kind in scope.KINDS)
    assert scope.sees_camera(machine, agency_ori=THEIRS, groups=["north"])


def test_a_thing_of_no_agency_is_left_to_the_permission_and_an_agencyless_person_sees_no_agency():
    assert scope.sees_agency(person("analyst"), None)
    drifter = person("analyst", agency=None)
    assert scope.agencies_visible_to(drifter, kind=scope.RECORDS) == frozenset()
    assert not scope.sees_agency(drifter, OURS)
    assert not scope.sees_camera(drifter, agency_ori=OURS, groups=[])


def test_camera_groups_limit_everyone_but_those_who_see_every_camera():
    south = person("analyst", groups=("south",))
    assert scope.sees_camera(south, agency_ori=OURS, groups=["south", "downtown"])
    assert not scope.sees_camera(south, agency_ori=OURS, groups=["north"])
    assert not scope.sees_camera(south, agency_ori=THEIRS, groups=["south"])
    assert scope.sees_camera(person("analyst"), agency_ori=OURS, groups=["north"])  # no limit: every group
    assert scope.camera_groups_limit(person("admin", groups=("south",))) is None
    assert scope.sees_camera(person("admin", agency=THEIRS, groups=("south",)), agency_ori=OURS, groups=["north"])


def test_the_sql_filter_keeps_the_rows_the_python_rule_keeps():
    engine = create_engine("sqlite://")
    things = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("ori", String))
    things.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(things), [{"id": 1, "ori": OURS}, {"id": 2, "ori": THEIRS}])
    for actor in (person("analyst"), person("admin"), person("auditor"), person("analyst", agency=None), SYSTEM):
        for kind in scope.KINDS:
            condition = scope.agency_condition(actor, things.c.ori, kind=kind)
            statement = select(things.c.id, things.c.ori).order_by(things.c.id)
            with engine.connect() as connection:
                kept = list(connection.execute(statement if condition is None else statement.where(condition)))
            assert [row.id for row in kept] == [row.id for row in kept if scope.sees_agency(actor, row.ori, kind=kind)]
            assert len(kept) == sum(scope.sees_agency(actor, ori, kind=kind) for ori in (OURS, THEIRS))


def test_accounts_list_every_agency_only_for_admins_and_auditors():
    assert scope.account_agency_filter(person("admin")) is None
    assert scope.account_agency_filter(person("auditor")) is None
    assert scope.account_agency_filter(person("supervisor")) == OURS


def test_supervisors_oversee_their_own_agencys_shares_only():
    assert scope.oversees(person("supervisor"), OURS, kind=scope.SHARES)
    assert not scope.oversees(person("supervisor"), THEIRS, kind=scope.SHARES)
    assert not scope.oversees(person("analyst"), OURS, kind=scope.SHARES)
    assert not scope.oversees(person("admin"), OURS, kind=scope.SHARES)
    assert [role for role in ROLES if scope.receives_field_links(role)] == ["field_officer"]


def about(permission, *, agency_ori, camera_groups=None):
    """What the policy reads of an event: the permission to receive it, its agency and its camera groups."""
    return SimpleNamespace(permission=permission, agency_ori=agency_ori, camera_groups=camera_groups)


def test_events_reach_whoever_sees_the_thing_they_are_about():
    theirs_account = make_event("user.created", agency_ori=THEIRS, username="x", role="analyst")
    assert scope.event_visible_to(theirs_account, person("admin"))
    assert scope.event_visible_to(theirs_account, person("auditor"))
    assert not scope.event_visible_to(theirs_account, person("supervisor"))
    theirs_camera = make_event("camera.updated", agency_ori=THEIRS, camera_groups=["north"], camera_id=1)
    assert scope.event_visible_to(theirs_camera, person("admin"))
    assert not scope.event_visible_to(theirs_camera, person("analyst"))
    theirs_incident = about("incidents.view", agency_ori=THEIRS)  # incident.opened
    assert not scope.event_visible_to(theirs_incident, person("admin"))  # another agency's casework
    assert scope.event_visible_to(theirs_incident, person("admin", agency=THEIRS))
    # A plate hit is the hotlist agency's, and for someone limited to camera groups only on those groups' cameras.
    hit = about("alerts.view", agency_ori=OURS, camera_groups=["north"])  # plate.alert
    assert scope.event_visible_to(hit, person("analyst"))
    assert scope.event_visible_to(hit, person("field_officer", groups=("north",)))
    assert not scope.event_visible_to(hit, person("field_officer", groups=("south",)))
    assert not scope.event_visible_to(hit, person("analyst", agency=THEIRS))
    assert not scope.event_visible_to(hit, person("admin"))  # the permission comes first: admins hold no alerts.view
