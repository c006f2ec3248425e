"""No pydantic plugin sees what dispatchctl validates: pydantic hands every value it validates,
decrypted credentials included, to each plugin an installed package declares (entry point
group ``pydantic``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import TOKEN_1, config_text, github
from tests.support.cli import process

SPY = """\
from pathlib import Path

Path(__file__).with_name("loaded").write_text("the plugin was loaded")


class Spy:
    def new_schema_validator(self, *args, **kwargs):
        return None, None, None  # it could watch every value validated from here on


plugin = Spy()
"""


def installed_plugin(site: Path) -> Path:
    """A package in ``site`` that declares a pydantic plugin; returns the file its import
    writes."""
    (site / "spy_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "spy_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: spy-plugin\nVersion: 1.0\n"
    )
    (site / "spy_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pydantic]\nspy = spy_plugin:plugin\n"
    )
    (site / "spy_plugin.py").write_text(SPY)
    return site / "loaded"


def test_a_pydantic_plugin_installed_beside_dispatchctl_is_never_loaded(
    tmp_path: Path, make_config: Callable[..., Path], sops_env: object
) -> None:
    site = tmp_path / "site"
    loaded = installed_plugin(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    # the control: any other program that builds a model in this environment loads it
    subprocess.run(
        [sys.executable, "-c", "import pydantic\nclass M(pydantic.BaseModel):\n    x: int\n"],
        env=env,
        check=True,
    )
    assert loaded.exists()
    loaded.unlink()
    config = make_config(config_text({"team-1": [github(TOKEN_1)]}))

    result = process("validate", config, env=env)

    assert result.code == 0, result.err
    assert not loaded.exists()
