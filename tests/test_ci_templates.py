"""The CI job templates in `ci/` call the harness with options it really has, and say what the exit codes mean."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import typer
import yaml

from vhr_conformance.cli import app
from vhr_conformance.outcome import ExitCode

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "ci").glob("*.yml"))


def _commands(node: object) -> list[str]:
    """Every `vhr …` command line in a workflow (GitHub `run:` blocks, GitLab `script:` lists)."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script") and isinstance(value, str | list):
                lines = value.splitlines() if isinstance(value, str) else [str(v) for v in value]
                out += [ln.strip() for ln in lines if ln.strip().startswith("vhr ")]
            else:
                out += _commands(value)
    elif isinstance(node, list):
        for item in node:
            out += _commands(item)
    return out


def test_there_are_templates() -> None:
    assert {p.name for p in TEMPLATES} >= {"github-actions.yml", "gitlab-ci.yml"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_vhr_command_parses(template: Path) -> None:
    commands = _commands(yaml.safe_load(template.read_text(encoding="utf-8")))
    assert any(c.startswith("vhr run") for c in commands), commands
    cli = typer.main.get_command(app)
    for line in commands:
        args = shlex.split(line)[1:]
        with cli.make_context("vhr", list(args)) as ctx:
            name, command, rest = cli.resolve_command(ctx, [*getattr(ctx, "_protected_args", []), *ctx.args])  # type: ignore[attr-defined]
            assert command is not None, line
            command.make_context(name or "", rest, parent=ctx)  # an unknown option raises a usage error here


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_exit_codes_are_the_harness_own(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"{int(code)} {code.name}" in text, (template.name, code)
