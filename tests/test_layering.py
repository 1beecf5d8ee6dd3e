"""The domain layers are plain Python: importing them never pulls in the web framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Imports every module of the domain packages in a fresh interpreter, then reports what got
# loaded. A module that fails to import fails the test (walk_packages' onerror re-raises).
_PROBE = """
import importlib, json, pkgutil, sys

def fail(name):
    raise ImportError(f"cannot import {name}")

imported = []
for package_name in ("tickets", "routing", "integrations"):
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for info in pkgutil.walk_packages(package.__path__, package_name + ".", onerror=fail):
        importlib.import_module(info.name)
        imported.append(info.name)
print(json.dumps({"imported": imported, "modules": sorted(sys.modules)}))
"""


def _probe() -> dict:
    # Our own interpreter running our own fixed probe: no untrusted input.
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT,  # noqa: S603
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_domain_packages_and_all_their_modules_import_without_flask_socketio_or_rq():
    probe = _probe()
    assert {"tickets", "tickets.services", "tickets.permissions", "tickets.lifecycle",
            "routing", "integrations"} <= set(probe["imported"])
    loaded = set(probe["modules"])
    assert "flask" not in loaded
    assert "flask_socketio" not in loaded
    assert "rq" not in loaded
    web = sorted(m for m in loaded if m.split(".")[0].startswith(("flask", "rq")))
    assert web == []
