# Starts and stops the real rtpanchor-control for the functional tests and speaks its
# Redis command channel exactly as a SIP proxy would (XADD, then BLPOP on reply-to).
import itertools
import json
import os
import re
import signal
import subprocess
import time

import dataplane
import redis_server

CONTROL = os.path.join(dataplane.BUILD, "control", "rtpanchor-control")
PREFIX = "rtpanchor:"
_seq = itertools.count(1)


def sdp(addr, port, session="-", extra=""):
    """A plain audio offer/answer SDP (PCMU/PCMA, RTCP on port+1 implied)."""
    return ("v=0\r\n"
            f"o={session} 4711 1 IN IP4 {addr}\r\n"
            "s=-\r\n"
            f"c=IN IP4 {addr}\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 8\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            f"{extra}"
            "a=sendrecv\r\n")


def media(sdp_text):
    """(address, port) of the first m= section of an SDP (media c= over session c=)."""
    addr = None
    port = None
    for line in sdp_text.replace("\r\n", "\n").split("\n"):
        if line.startswith("c=IN IP4 ") and (port is None or addr is None):
            addr = line.split()[2]
        m = re.match(r"m=\w+ (\d+) ", line)
        if m and port is None:
            port = int(m.group(1))
    return addr, port


class Control:
    def __init__(self, workdir, redis, dp_socket, topo, node="node1", options=(), env=None,
                 redis_arg=None):
        self.workdir = workdir
        self.redis = redis
        self.dp_socket = dp_socket
        self.topo = topo
        self.node = node
        self.options = list(options)
        self.env = env
        self.redis_arg = redis_arg or f"127.0.0.1:{redis.port}"
        self.log_path = os.path.join(workdir, f"control-{node}.log")
        self.proc = None
        self.starts = 0
        self._client = None

    def argv(self):
        t = self.topo
        return [CONTROL, "--redis", self.redis_arg, "--node", self.node,
                "--dataplane-socket", self.dp_socket, "--interface", f"a={t.RELAY_A}",
                "--interface", f"b={t.RELAY_B}", "--metrics-listen", "127.0.0.1:0",
                "--dataplane-timeout", "2000", "--log-level", "debug", *self.options]

    def start(self, wait=True, timeout=20.0):
        if not os.access(CONTROL, os.X_OK):
            raise AssertionError(f"{CONTROL} is not built")
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"---- start {self.starts}: {' '.join(self.argv())}\n".encode())
        log.flush()
        env = None
        if self.env is not None:
            env = dict(os.environ)
            env.update(self.env)
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=env)
        log.close()
        if wait:
            deadline = time.monotonic() + timeout
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"control exited {self.proc.returncode}:\n"
                                         f"{self.log_tail()}")
                r = self.command("ping", timeout=1)
                if r is not None:
                    assert r == {"result": "pong"}, r
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"control did not answer ping in {timeout}s:\n"
                                         f"{self.log_tail()}")
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        os.kill(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            self.proc.wait(10)

    def wait(self, timeout=15.0):
        """The exit code, or None if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            return None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log().splitlines()[-lines:])

    # ---- the command channel, as a proxy uses it ----

    def client(self):
        if self._client is None:
            self._client = self.redis.client()
        return self._client

    def reset_client(self):
        if self._client is not None:
            self._client.close()
        self._client = None

    @staticmethod
    def fields(op, reply_to, **kw):
        f = ["op", op]
        for k, v in kw.items():
            if v is not None:
                f += [k.replace("_", "-"), v]
        return f + ["reply-to", reply_to]

    def send(self, op, reply_to=None, **kw):
        """XADD one command; returns (entry id, reply-to key)."""
        reply_to = reply_to or f"test:reply:{os.getpid()}:{next(_seq)}"
        eid = self.client().command("XADD", PREFIX + "commands", "*",
                                    *self.fields(op, reply_to, **kw))
        return eid.decode(), reply_to

    def wait_reply(self, reply_to, timeout=10):
        r = self.client().command("BLPOP", reply_to, str(timeout))
        return None if r is None else json.loads(r[1])

    def command(self, op, timeout=10, **kw):
        _, key = self.send(op, **kw)
        return self.wait_reply(key, timeout)

    def ok(self, op, **kw):
        r = self.command(op, **kw)
        assert r is not None, f"no reply to {op} {kw}:\n{self.log_tail()}"
        assert r.get("result") == "ok", f"{op} {kw}: {r}"
        return r

    def offer(self, call_id, from_tag, sdp_text, flags="direction=a,b", **kw):
        return self.ok("offer", call_id=call_id, from_tag=from_tag, sdp=sdp_text, flags=flags,
                       **kw)

    def answer(self, call_id, from_tag, to_tag, sdp_text, flags=None, **kw):
        return self.ok("answer", call_id=call_id, from_tag=from_tag, to_tag=to_tag,
                       sdp=sdp_text, flags=flags, **kw)

    def delete(self, call_id, from_tag, **kw):
        return self.ok("delete", call_id=call_id, from_tag=from_tag, **kw)

    def calls(self):
        return sorted(self.ok("list")["calls"])

    def events(self):
        """Every event so far as dicts of str."""
        out = []
        for eid, fields in self.client().command("XRANGE", PREFIX + "events", "-", "+"):
            d = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields), 2)}
            d["id"] = eid.decode()
            out.append(d)
        return out

    def metrics(self):
        """The Prometheus text from the control's --metrics-listen (port from its log)."""
        import urllib.request
        m = re.findall(r"metrics: GET /metrics on \S+ \(port (\d+)\)", self.log())
        assert m, "no metrics port in the log"
        with urllib.request.urlopen(f"http://127.0.0.1:{m[-1]}/metrics", timeout=5) as r:
            return r.read().decode()

    def pending(self):
        """Entries of the command stream delivered but not acknowledged."""
        return self.client().command("XPENDING", PREFIX + "commands", "rtpanchor")[0]


# ---- fixtures (imported by the test_ctl_* modules) ----

import pytest  # noqa: E402


@pytest.fixture
def redis(request, workroot):
    """A fresh redis-server on a free loopback port, killed by PID after the test."""
    import tempfile
    d = tempfile.mkdtemp(prefix=request.node.name[:40] + "-redis-", dir=workroot)
    r = redis_server.RedisServer(d).start()
    try:
        yield r
    finally:
        r.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n---- redis log ----\n{r.log_tail()}")


@pytest.fixture
def ctl_factory(request, dp, redis, topo, workroot):
    """make(node=..., options=..., start=True) -> a Control on the test's dataplane and
    Redis; every one is stopped (SIGTERM, then SIGKILL) after the test."""
    import tempfile
    d = tempfile.mkdtemp(prefix=request.node.name[:40] + "-ctl-", dir=workroot)
    made = []

    def make(node="node1", options=(), start=True, env=None, redis_arg=None):
        c = Control(d, redis, dp.socket, topo, node=node, options=options, env=env,
                    redis_arg=redis_arg)
        made.append(c)
        return c.start() if start else c

    try:
        yield make
    finally:
        for c in made:
            c.stop()
            c.reset_client()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            for c in made:
                print(f"\n---- control {c.node} log ----\n{c.log_tail(80)}")


@pytest.fixture
def ctl(ctl_factory):
    """A running control (node1) with the default options."""
    return ctl_factory()
