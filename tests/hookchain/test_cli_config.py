"""`--config`: a bad hookchain.yaml stops `web` and `dev` before they listen, saying what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hookchain.cli import main


@pytest.mark.parametrize("command", ["web", "dev"])
def test_bad_source_options_stop_the_start(tmp_path: Path, command: str):
    config = tmp_path / "hookchain.yaml"
    config.write_text(
        "sources:\n  - {name: ci, provider: buildkite, secrets: [x], options: {require: maybe}}\n"
    )
    result = CliRunner().invoke(
        main, [command, "--config", str(config)], env={"REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    assert result.exit_code == 2
    assert "source 'ci': invalid buildkite options: require" in result.output


def test_missing_secret_variable_is_named(tmp_path: Path):
    config = tmp_path / "hookchain.yaml"
    config.write_text("sources:\n  - {name: gh, provider: github, secrets: ['${GH_ORG_SECRET}']}\n")
    result = CliRunner().invoke(main, ["web", "--config", str(config)], env={"GH_ORG_SECRET": ""})
    assert result.exit_code == 2
    assert "${GH_ORG_SECRET} is not set" in result.output
