"""The telephony modules import on their own, as an RQ worker or a script would load them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports_alone(module: str) -> subprocess.CompletedProcess:
    # Our own interpreter importing our own module: no untrusted input.
    return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("module", ["app.tasks.messages", "app.jobs", "integrations.simulator",
                                    "integrations.twilio_rest", "tickets.calls", "tickets.sms_intake"])
def test_module_imports_in_a_fresh_interpreter(module):
    result = _imports_alone(module)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["app.publisher", "app.telephony"])
def test_webhook_modules_import_in_a_fresh_interpreter(module):
    result = _imports_alone(module)
    assert result.returncode == 0, result.stderr
