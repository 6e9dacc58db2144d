"""Scope has one home: outside src/rtcc/auth no code compares an actor's (or account's) role or way in.

Which agency's things an actor sees is decided by auth/scope.py; a service comparing `actor.role == "admin"` or
`actor.via in ("cli", "system")` is a second copy of that rule, and the copies drift (they did: four variants in
nine places). Showing a role (a CLI table, a template) is fine: only comparisons count, found in the syntax tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rtcc

PACKAGE = Path(rtcc.__file__).parent
HOME = PACKAGE / "auth"
WATCHED_ATTRIBUTES = {"role", "via"}
WATCHED_NAMES = {"role"}
COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
# Comparisons of `via` that decide something other than scope, with why.
NOT_SCOPE = {
    ("video/recording/marks.py", "via"): "the server's own marks (motion, the recorder) are not a person's act: not audited",
}


def _watched(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and node.attr in WATCHED_ATTRIBUTES:
        return node.attr
    if isinstance(node, ast.Name) and node.id in WATCHED_NAMES:
        return node.id
    return None


def role_comparisons(source: str) -> list[tuple[int, str, str]]:
    """(line, watched name, the comparison's text) for each comparison of a role or a way in."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare) or not any(isinstance(op, COMPARISONS) for op in node.ops):
            continue
        for operand in (node.left, *node.comparators):
            name = _watched(operand)
            if name:
                found.append((node.lineno, name, ast.get_source_segment(source, node) or ""))
                break
    return found


def test_no_code_outside_auth_compares_a_role_or_a_way_in():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if HOME in path.parents:
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        for line, name, text in role_comparisons(path.read_text()):
            if (relative, name) not in NOT_SCOPE:
                offenders.append(f"src/rtcc/{relative}:{line}: {text}")
    assert not offenders, ("scope is decided in src/rtcc/auth/scope.py; call it instead of comparing roles:\n"
                           + "\n".join(offenders))


def test_the_check_finds_each_way_of_writing_it_and_not_a_role_shown():
    source = '''
if actor.role == "admin" or actor.via in {"cli", "system"}:
    pass
if user.role != "field_officer":
    pass
if role in ("admin", "auditor"):
    pass
every = "auditor" == self.role
table.add_row(user.username, user.role)
print(f"{user.role}")
label = "actor.role == 'admin'"
'''
    assert sorted((line, name) for line, name, _ in role_comparisons(source)) == [
        (2, "role"), (2, "via"), (4, "role"), (6, "role"), (8, "role")]


def test_every_exception_still_exists():
    for relative, name in NOT_SCOPE:
        assert any(found == name for _, found, _ in role_comparisons((PACKAGE / relative).read_text())), relative
