# rtpanchor-bench-ctl against the real rtpanchor-control, Redis and dataplane: every pair it
# times really went through the command channel (XADD and BLPOP written together, see
# ctlreq_call), every reply was checked, and the calls it made are gone afterwards. No
# figure is asserted (benchmarks print numbers); the counts and outcomes are.
import json
import os
import subprocess

import dataplane
from control import PREFIX, ctl, ctl_factory, redis  # noqa: F401 (fixtures)

BENCH = os.path.join(dataplane.BUILD, "bench", "rtpanchor-bench-ctl")


def test_ctl_bench_pairs_counted_and_cleaned_up(ctl):
    p = subprocess.run([BENCH, "--redis", f"127.0.0.1:{ctl.redis.port}", "--clients", "3",
                        "--count", "30", "--warmup", "2", "--json"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = json.loads(p.stdout)
    assert r["pairs"] == 30, r
    assert r["commands"] == 90, r  # offer, answer and delete of each pair
    assert r["errors"]["total"] == 0, r
    assert set(r["command_latency_ms"]) == {"offer", "answer", "delete"}, r
    assert r["client_cpu_us_per_command"] > 0, r
    # 30 measured pairs and 2 warm-up pairs per client, each offered once and deleted.
    ev = [e for e in ctl.events() if e.get("event") in ("call-created", "call-deleted")]
    created = [e["call-id"] for e in ev if e["event"] == "call-created"]
    deleted = [e["call-id"] for e in ev if e["event"] == "call-deleted"]
    assert len(created) == 36 and sorted(created) == sorted(deleted), ev
    assert ctl.calls() == []
    # Each reply was popped by its BLPOP: no reply list is left behind.
    cl = ctl.client()
    assert cl.command("KEYS", PREFIX + "reply-bench*") == []
    assert ctl.pending() == 0
