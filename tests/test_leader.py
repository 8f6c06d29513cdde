"""Leader election on a coordination.k8s.io Lease served by the kube-apiserver double."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from digest_runtime import Process, agent, bot_env, digest_calls, meshbot, scheduled_runs, wait_until
from kube_double import KubeDouble
from mesh_cluster import write_cluster
from slack_double import SlackDouble

from bot import metrics
from bot.leader import LeaderElector, coordination_api


class Tick:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def elector(api: object, identity: str, clock: Tick, log: list[str]) -> LeaderElector:
    return LeaderElector(
        api,
        name="meshbot-leader",
        namespace="meshbot",
        identity=identity,
        lease_duration=3,
        renew_every=1,
        on_started_leading=lambda: log.append(f"{identity} start"),
        on_stopped_leading=lambda: log.append(f"{identity} stop"),
        monotonic=clock,
    )


@pytest.fixture
def api(kube_double_factory: Callable[..., KubeDouble], tmp_path: Path) -> object:
    double = kube_double_factory()
    return coordination_api(double.kubeconfig(tmp_path / "kubeconfig"), None)


def test_one_leader_takeover_after_expiry_and_the_old_leader_stops_at_once(api: object) -> None:
    clock, log = Tick(), []
    a, b = elector(api, "a", clock, log), elector(api, "b", clock, log)
    assert a.step() and not b.step()
    assert metrics.LEADER._value.get() == 1  # type: ignore[attr-defined]
    clock.t += 2
    assert a.step() and not b.step()  # renewed in time: b keeps waiting
    clock.t += 2.9  # a is stalled (no renewals) but b has seen the lease change only 2.9 s ago
    assert not b.step()
    clock.t += 0.2
    assert b.step()  # 3.1 s without a renewal as b observed it: b takes the lease
    lease = api.api.read_namespaced_lease("meshbot-leader", "meshbot")  # type: ignore[attr-defined]
    assert lease.spec.holder_identity == "b" and lease.spec.lease_transitions == 1
    assert not a.step()  # a sees another holder and stops leading at once
    assert log == ["a start", "b start", "a stop"]


def test_release_hands_over_without_waiting_for_expiry(api: object) -> None:
    clock, log = Tick(), []
    a, b = elector(api, "a", clock, log), elector(api, "b", clock, log)
    assert a.step() and not b.step()
    a.leading = True
    a.stop(release=True)
    assert b.step()  # the released lease has no holder: taken at once
    assert log == ["a start", "a stop", "b start"]


def test_a_leader_that_cannot_renew_stops_before_the_lease_expires(
    kube_double_factory: Callable[..., KubeDouble], tmp_path: Path
) -> None:
    double = kube_double_factory()
    api = coordination_api(double.kubeconfig(tmp_path / "kubeconfig"), None)
    clock, log = Tick(), []
    a = elector(api, "a", clock, log)
    assert a.step()
    double.fault(status=503, path="/apis/coordination.k8s.io", message="etcd unavailable")  # the API fails
    clock.t += 1
    assert a.step()  # one failed renewal: still within the renew deadline (2 s of 3)
    clock.t += 1.1
    assert not a.step() and log == ["a start", "a stop"]


@pytest.mark.slow
def test_two_replicas_post_one_digest_per_tick_and_the_survivor_takes_over(
    slack: SlackDouble, kube_double_factory: Callable[..., KubeDouble], tmp_path: Path, database_url: str
) -> None:
    """Two scheduler processes on one database (a SQLite file, then a real PostgreSQL), one Lease."""
    kube = kube_double_factory()
    env = bot_env(
        slack,
        tmp_path / "meshbot.sqlite",
        MESHBOT_FROM_FILE=str(write_cluster(tmp_path / "cluster.yaml")),
        MESHBOT_KUBECONFIG=str(kube.kubeconfig(tmp_path / "kubeconfig")),
        MESHBOT_LEADER_ELECTION="true",
        MESHBOT_LEASE_DURATION="2",
        MESHBOT_LEASE_RENEW_EVERY="0.4",
    )
    env["MESHBOT_DATABASE_URL"] = database_url
    assert meshbot("digest", "subscribe", "every", "2s", "--channel", "CHA", env=env).returncode == 0
    replicas = {
        name: Process("scheduler", env={**env, "MESHBOT_IDENTITY": name}, log=tmp_path / f"{name}.log")
        for name in ("red", "blue")
    }
    try:
        wait_until(lambda: len(digest_calls(slack, "CHA")) >= 3, timeout=15)
        leader = agent(digest_calls(slack, "CHA")[0])
        survivor = "blue" if leader == "red" else "red"
        replicas[leader].kill()
        before = len(digest_calls(slack, "CHA"))
        wait_until(lambda: len(digest_calls(slack, "CHA")) >= before + 3, timeout=15)
        leases = kube.resources[("coordination.k8s.io", "leases")]
        holder = (kube.store.get(leases, "meshbot", "meshbot-leader") or {}).get("spec", {}).get("holderIdentity")
        assert holder == survivor
        replicas[survivor].stop()  # a graceful stop releases the lease for the next replica
        assert "holderIdentity" not in (kube.store.get(leases, "meshbot", "meshbot-leader") or {}).get("spec", {})
    finally:
        for process in replicas.values():
            process.stop()
    calls = digest_calls(slack, "CHA")
    agents = [agent(c) for c in calls]
    assert set(agents[:before]) == {leader} and set(agents[before:]) == {survivor}, agents
    assert [c.method for c in calls].count("chat.postMessage") == 1  # then updates in place: nothing changed
    # Exactly one digest per tick: no tick ran on both replicas, and every run posted once.
    runs = scheduled_runs([tmp_path / "red.log", tmp_path / "blue.log"], "digest:1")
    assert len(runs) == len(set(runs)), runs
    assert len(runs) - 1 <= len(calls) <= len(runs)  # the killed leader may have died inside its last run


def test_a_replica_that_cannot_start_scheduling_gives_the_lease_back(api: object) -> None:
    def broken() -> None:
        raise RuntimeError("database locked")

    clock, log = Tick(), []
    a = elector(api, "a", clock, log)
    a.on_started_leading = broken
    assert not a.step()
    lease = api.api.read_namespaced_lease("meshbot-leader", "meshbot")  # type: ignore[attr-defined]
    assert lease.spec.holder_identity is None  # released: another replica may take it at once
    b = elector(api, "b", clock, log)
    assert b.step() and log == ["b start"]
