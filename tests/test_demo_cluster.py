"""The bundled demo cluster is a complete reading: its manifest lists every kind meshbot reads, so the demo
never says "not in the dump" and its verdicts are what a `meshbot collect` dump would give."""

from __future__ import annotations

from pathlib import Path

import yaml

from cluster.dump import read_dump
from cluster.kinds import KINDS

DEMO = Path(__file__).resolve().parents[1] / "cluster" / "demo"


def test_the_demo_manifest_lists_every_kind_meshbot_reads() -> None:
    manifest = yaml.safe_load((DEMO / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "Reading"
    assert sorted(manifest["kinds"]["read"]) == sorted(k.kind for k in KINDS)


def test_the_demo_reads_completely() -> None:
    snapshot = read_dump(DEMO)
    assert snapshot.cluster == "demo"
    assert snapshot.missing_kinds == [] and snapshot.issues == []
