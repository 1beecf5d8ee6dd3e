"""Routing classifies and decides without the web framework, the database or scikit-learn."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROBE = """
import json, sys
import routing, routing.engine, routing.classifier, routing.location, routing.rules, routing.hospitals
import routing.dispatch, routing.duplicates, routing.directory, routing.text, routing.errors
print(json.dumps(sorted(sys.modules)))
"""


def test_routing_imports_no_flask_sqlalchemy_or_scikit_learn():
    # Our own interpreter running our own fixed probe: no untrusted input.
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,  # noqa: S603
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = {m.split(".")[0] for m in json.loads(result.stdout.strip().splitlines()[-1])}
    assert not loaded & {"flask", "flask_socketio", "rq", "sqlalchemy", "tickets", "app", "sklearn"}
