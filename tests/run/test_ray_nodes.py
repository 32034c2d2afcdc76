"""``run --engine ray`` on a simulated 4-machine cluster (``ray.cluster_utils.Cluster``, loopback
only), one machine removed mid-run: its actor's calls are requeued on the others and the run
completes, every article once. Needs the ray extra: skipped without it."""

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Loopback only: Ray otherwise names this machine by its network address, even for a local cluster.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402
from ray_run import analyse, settings_for  # noqa: E402

from pipeline.testing.articles import write_articles  # noqa: E402
from pipeline.testing.fake_openai import FakeOpenAI  # noqa: E402

pytestmark = pytest.mark.ray
LOOPBACK = {"node_ip_address": "127.0.0.1", "include_dashboard": False}


@pytest.fixture
def four_machines() -> Iterator[Cluster]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, **LOOPBACK})
    for _ in range(3):
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_a_machine_removed_mid_run_loses_no_article(four_machines: Cluster, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 24)
    out = tmp_path / "out"
    removed: list[str] = []

    def remove_a_machine() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list((out / "articles").glob("*.json"))) < 4:
            time.sleep(0.05)
        node = next(iter(four_machines.worker_nodes))
        four_machines.remove_node(node, allow_graceful=False)
        removed.append(node.node_id)

    with FakeOpenAI(latency=0.15) as fake:
        remover = threading.Thread(target=remove_a_machine)
        remover.start()
        summary, engine = analyse(inputs, out, settings_for(tmp_path, fake), engine="ray", actors=1, shard_size=2)
        remover.join()

    assert removed, "no machine was removed: the test proved nothing"
    assert engine is not None and engine.requeued >= 1  # the lost machine's calls went elsewhere
    assert (summary.status, summary.done, summary.failed) == ("complete", 24, 0)
    assert len(list((out / "articles").glob("*.json"))) == 24
    usage = [json.loads(line)["article"] for line in (out / "usage.jsonl").read_text().splitlines()]
    assert len(usage) == len(set(usage)) == 24
