# README command 1, the lab (scripts/lab.sh), run for a few seconds as a user would run it:
# namespaces, the real dataplane, Redis and control, calls set up through Redis (plain
# A<->B, A<->C through the router namespace, and SRTP A <-> plain B), media both ways,
# live statistics, then the calls deleted and everything cleaned up. The generators'
# summaries prove the media crossed the relay intact.
import json
import os
import re
import subprocess

import dataplane

LAB = os.path.join(dataplane.ROOT, "scripts", "lab.sh")
LAB_NS = ["rpa-lab-dp", "rpa-lab-a", "rpa-lab-b", "rpa-lab-r", "rpa-lab-c"]


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_lab_runs_calls_and_cleans_up():
    assert not namespaces() & set(LAB_NS), "a lab is already running on this machine"
    env = dict(os.environ, BUILD_DIR=dataplane.BUILD)
    p = subprocess.run([LAB, "--no-build", "--duration", "3", "--calls", "3", "--rate", "600"],
                       capture_output=True, text=True, timeout=120, env=env)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    summaries = {m.group(1): json.loads(m.group(2))
                 for m in re.finditer(r"^(gen-[\w-]+): (\{.*\})$", out, re.M)}
    assert set(summaries) == {"gen-echo-B", "gen-echo-C", "gen-echo-B-plain-of-srtp",
                              "gen-send-A-to-B-0", "gen-send-A-to-C",
                              "gen-send-A-srtp-to-B"}, out[-3000:]
    for name, s in summaries.items():
        if name.startswith("gen-send"):
            # Every packet went out and came back, intact, through the relay.
            assert s["sent"] > 0 and s["received"] == s["sent"], (name, s)
            assert s["lost"] == s["corrupt"] == s["misrouted"] == 0, (name, s)
            assert s["auth_fail"] == s["replay"] == s["srtp_other"] == 0, (name, s)
    srtp = summaries["gen-send-A-srtp-to-B"]["srtp"]
    assert srtp == {"tx": "AES_CM_128_HMAC_SHA1_80", "rx": "AES_CM_128_HMAC_SHA1_80",
                    "errors": 0}, srtp
    # B got plaintext from the SRTP caller (udpgen checks every payload byte).
    assert summaries["gen-echo-B-plain-of-srtp"]["corrupt"] == 0
    assert summaries["gen-echo-B-plain-of-srtp"]["received"] > 0
    # Live statistics were printed, the calls deleted through Redis, everything stopped.
    assert re.search(r"^\s+1\s+[\d,]+", out, re.M), out[-3000:]
    assert "deleted 5 call(s) through Redis; dataplane streams left: 0" in out, out[-3000:]
    assert "lab cleaned up" in out
    assert not namespaces() & set(LAB_NS), "the lab left namespaces behind"
