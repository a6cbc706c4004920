"""What the settings make of the environment, read in a fresh interpreter as a server would."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def settings_in(env: dict, names: list[str]) -> dict:
    """The values of `names` after django.setup() with only `env` on top of a clean environment."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "CELERY_", "CACHE_", "DATABASE_"))
    }
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k, None) for k in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "vertebro_site.settings", **env},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_broker_keeps_every_folder_under_var_broker():
    options = settings_in({}, ["CELERY_BROKER_TRANSPORT_OPTIONS"])["CELERY_BROKER_TRANSPORT_OPTIONS"]
    folders = {key: Path(value) for key, value in options.items() if key.endswith("_folder")
               or key.startswith("data_folder")}
    assert set(folders) == {"data_folder_in", "data_folder_out", "processed_folder",
                            "control_folder"}
    for key, folder in folders.items():
        assert folder.is_relative_to(ROOT / "var" / "broker"), (key, folder)
    assert folders["control_folder"] == ROOT / "var" / "broker" / "control"


def test_no_control_folder_is_kept_in_the_checkout():
    tracked = subprocess.run(["git", "ls-files", "control"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert tracked == ""
    assert "/control/" in (ROOT / ".gitignore").read_text().splitlines()
