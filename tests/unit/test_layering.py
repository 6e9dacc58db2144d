"""The house's layering (pyproject.toml [tool.importlinter]): domains import downward only.

core ← auth, audit ← cameras ← video ← alpr ← incidents ← sharing ← web, sim ← cli, app. An import that runs
the wrong way (alpr → incidents, sharing → web, web → sim, core → auth) fails here with the offending line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import rtcc
from rtcc.sim.city import street_lines
from rtcc.web.pages import BASEMAP_FILE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(rtcc.__file__).parent


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return contract["layers"]


def test_no_import_runs_up_the_layers():
    result = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[result.stdout.find("Broken contracts"):] or result.stderr


def test_every_domain_package_has_its_place_in_the_layers():
    """A new domain folder must be placed in the contract, or nothing would check its imports."""
    named = {re.sub(r"[()\s]", "", name) for layer in _layers() for name in re.split(r"[|:]", layer)}
    packages = {f"rtcc.{path.parent.name}" for path in PACKAGE.glob("*/__init__.py")}
    assert packages - named == set()


def test_the_consoles_bundled_basemap_is_the_simulated_citys_streets():
    """The console serves the streets from a file so that it never imports the simulator; the file must not drift."""
    assert json.loads(BASEMAP_FILE.read_text()) == street_lines()
