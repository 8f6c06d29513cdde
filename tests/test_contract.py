"""The CLI's JSON keeps DESIGN.md's contract (shapes, names, allowed values), checked with JSON Schema.

Scripts and CI gates parse this output, so these shapes only grow: extra keys are allowed, nothing that is
here may go or change type. The real `meshbot` console script runs on the bundled demo cluster.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "cluster" / "demo"
MESHBOT = Path(sys.executable).with_name("meshbot")

# DESIGN.md "Findings": the stable codes, old and new.
CODES = [
    "istio-version-too-old", "envoyfilter-unsupported", "lua-filter", "ambient-l7-without-waypoint",
    "mtls-disable-unsupported", "l7-authz-needs-waypoint", "selector-policy-l7", "request-authn-needs-waypoint",
    "l7-traffic-needs-waypoint", "hostnetwork-pod", "init-container-networking", "cni-compatibility",
    "kernel-too-old", "mixed-mode-namespace", "strict-with-unmeshed-pods", "waypoint-without-l7-need",
    "sidecar-resource-ignored", "telemetry-detail-loss", "unsupported-topology", "wasm-needs-waypoint",
    "virtualservice-scope", "waypoint-not-usable", "sidecar-callers-bypass-waypoint", "istiod-rejected-policy",
    "plaintext-traffic-observed", "incomplete-reading",
    # added here from Istio's docs (ambient and Kubernetes NetworkPolicy: port 15008 must be allowed)
    "networkpolicy-blocks-hbone",
]  # fmt: skip
MTLS = {"enum": ["STRICT", "PERMISSIVE", "DISABLE"]}
TEXT = {"type": "string", "minLength": 1}
NUMBER = {"type": "number"}
FINDING = {
    "type": "object",
    "required": ["code", "severity", "resource", "message", "kb"],
    "properties": {
        "code": {"enum": CODES},
        "severity": {"enum": ["blocker", "waypoint", "warning", "info"]},
        "resource": TEXT,
        "message": TEXT,
        "kb": TEXT,
    },
}
FINDINGS = {"type": "array", "items": FINDING}
# Every cluster reading names its cluster and what it could not read.
READING = {"missing_kinds": {"type": "array", "items": {"type": "string"}}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "ask": {
        "type": "object",
        "required": ["found", "answer", "sources", "language"],
        "properties": {
            "found": {"type": "boolean"},
            "answer": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}},
            "language": {"enum": ["ko", "en"]},
        },
    },
    "status": {
        "type": "object",
        "required": ["namespaces", "cluster", "missing_kinds"],
        "properties": {
            **READING,
            "cluster": {"type": ["string", "null"]},
            "namespaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "mode", "pods", "waypoints", "mtls"],
                    "properties": {
                        "name": TEXT,
                        "mode": {"enum": ["sidecar", "ambient", "mixed", "none"]},
                        "pods": {
                            "type": "object",
                            "required": ["sidecar", "ambient", "none"],
                            "properties": {
                                k: {"type": "integer", "minimum": 0} for k in ("sidecar", "ambient", "none")
                            },
                        },
                        "waypoints": {"type": "array", "items": {"type": "string"}},
                        "mtls": MTLS,
                    },
                },
            },
        },
    },
    "mtls": {
        "type": "object",
        "required": ["mesh", "namespaces", "cluster", "missing_kinds"],
        "properties": {
            **READING,
            "cluster": {"type": ["string", "null"]},
            "mesh": {"type": "object", "required": ["mode", "source"], "properties": {"mode": MTLS}},
            "namespaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "mode", "source", "workloads", "findings"],
                    "properties": {
                        "mode": MTLS,
                        "source": {"type": "string"},
                        "findings": FINDINGS,
                        "workloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "mode", "ports"],
                                "properties": {
                                    "name": TEXT,
                                    "mode": MTLS,
                                    "ports": {"type": "object", "additionalProperties": MTLS},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "precheck": {
        "type": "object",
        "required": ["cluster", "namespaces", "missing_kinds"],
        "properties": {
            **READING,
            "cluster": {
                "type": "object",
                "required": ["istio_version", "findings"],
                "properties": {"istio_version": {"type": ["string", "null"]}, "findings": FINDINGS},
            },
            "namespaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "mode", "verdict", "findings"],
                    "properties": {
                        "verdict": {"enum": ["ready", "needs-waypoint", "blocked", "unknown"]},
                        "findings": FINDINGS,
                    },
                },
            },
        },
    },
    "savings": {
        "type": "object",
        "required": [
            "pods_with_sidecar",
            "nodes",
            "waypoints",
            "sidecar",
            "ambient",
            "saving_percent",
            "marginal",
            "cluster",
        ],
        "properties": {
            **READING,
            **{k: {"type": "integer", "minimum": 0} for k in ("pods_with_sidecar", "nodes", "waypoints")},
            **{
                side: {
                    "type": "object",
                    "required": ["memory_mib", "cpu_m"],
                    "properties": {"memory_mib": NUMBER, "cpu_m": NUMBER},
                }
                for side in ("sidecar", "ambient")
            },
            "saving_percent": NUMBER,
            "marginal": {
                "type": "object",
                "required": ["memory_mib", "cpu_m", "saving_percent"],
                "properties": {"memory_mib": NUMBER, "cpu_m": NUMBER, "saving_percent": NUMBER},
            },
        },
    },
}


def meshbot_json(*argv: str) -> Any:
    result = subprocess.run([str(MESHBOT), *argv, "--output", "json"], capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr  # 1: --fail-on style verdicts, never a crash
    return json.loads(result.stdout)


@pytest.mark.parametrize("command", ["status", "mtls", "precheck", "savings"])
def test_cluster_readings_keep_the_contract(command: str) -> None:
    jsonschema.validate(meshbot_json(command, "--from-file", str(DEMO)), SCHEMAS[command])


@pytest.mark.parametrize(
    ("question", "language"), [("ambient에서 EnvoyFilter 써도 돼?", "ko"), ("Which mode gives per-pod metrics?", "en")]
)
def test_ask_keeps_the_contract_and_answers_in_the_question_language(question: str, language: str) -> None:
    data = meshbot_json("ask", question)
    jsonschema.validate(data, SCHEMAS["ask"])
    assert data["language"] == language and data["found"] is True


def test_the_schemas_catch_a_broken_shape() -> None:
    """The schemas are not vacuous: a reading with a renamed key or an unknown code fails them."""
    good = meshbot_json("precheck", "--from-file", str(DEMO))
    renamed = {**good, "namespaces": [{**good["namespaces"][0], "verdict": "go"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(renamed, SCHEMAS["precheck"])
    finding = {"code": "made-up", "severity": "blocker", "resource": "x", "message": "y", "kb": "z"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(finding, FINDING)
