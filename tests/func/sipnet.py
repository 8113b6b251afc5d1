# The SIP side of the end-to-end test: a signalling network beside netns.Topology, a
# private redis-server, Kamailio with examples/kamailio/kamailio.cfg and SIPp, all inside
# namespaces the test made. Runs in the pytest process; every wait is bounded and every
# process is stopped by its pid.
import json
import os
import signal
import socket
import subprocess
import time

import control
import netns
import redis_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "tests", "func", "sip")
KAMAILIO_CFG = os.path.join(ROOT, "examples", "kamailio", "kamailio.cfg")
PCAP = "/usr/share/sip-tester/g711a.pcap"
KAMAILIO = "/usr/sbin/kamailio"
SIPP = "/usr/bin/sipp"


class SigNet:
    """
    Signalling only, never through the relay:
      a: s0 10.255.0.10 ─┐
                         sbr 10.255.0.1 in namespace <prefix>sip (Kamailio, Redis, control)
      b: s0 10.255.0.20 ─┘
    Media stays on the topology's 192.0.2.0/24 (a) and 198.51.100.0/24 (b) sides.
    """

    PROXY = "10.255.0.1"
    A = "10.255.0.10"
    B = "10.255.0.20"

    def __init__(self, topo):
        self.topo = topo
        self.ns = topo.prefix + "sip"

    def up(self):
        try:
            netns.add_ns(self.ns)
            netns.ip(self.ns, "link", "add", "sbr", "type", "bridge", "stp_state", "0",
                     "forward_delay", "0")
            netns.ip(self.ns, "link", "set", "sbr", "up")
            netns.ip(self.ns, "addr", "add", f"{self.PROXY}/24", "dev", "sbr")
            for peer, port, addr in ((self.topo.a, "sa", self.A), (self.topo.b, "sb", self.B)):
                netns.add_veth(self.ns, port, peer, "s0")
                netns.ip(self.ns, "link", "set", port, "master", "sbr")
                netns.ip(peer, "addr", "add", f"{addr}/24", "dev", "s0")
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        for p in netns.run(["ip", "netns", "pids", self.ns], check=False).stdout.split():
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        # The s0 ends in a and b go with their peers.
        netns.del_ns(self.ns)


def free_port(ns, type_=socket.SOCK_STREAM, addr="127.0.0.1"):
    s = netns.socket_in(ns, socket.AF_INET, type_)
    try:
        s.bind((addr, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Proc:
    """A process started with `ip netns exec` (which execs it: the pid is the program's),
    output to a log file, in its own session so that its children can be reaped too."""

    def __init__(self, name, ns, argv, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.log_path, "ab") as log:
            log.write(f"---- {' '.join(argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        rc = self.wait(timeout)
        if rc is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        # Whatever the program forked (Kamailio's workers) dies with its session.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return rc

    def log(self, lines=80):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"


def redis_client(ns, port):
    """redis_server.Client on a connection made inside namespace ns."""
    with netns.inside(ns):
        return redis_server.Client(port)


class RedisServer:
    def __init__(self, ns, workdir):
        self.ns = ns
        self.port = free_port(ns)
        self.proc = Proc("redis", ns, [redis_server.REDIS_SERVER, "--port", str(self.port),
                                       "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", workdir,
                                       "--daemonize", "no"], workdir)
        deadline = time.monotonic() + 10
        while True:
            try:
                c = redis_client(ns, self.port)
                try:
                    if c.command("PING") == "PONG":
                        return
                finally:
                    c.close()
            except (OSError, ConnectionError, redis_server.RedisError):
                pass
            if not self.proc.alive() or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start:\n{self.proc.log()}")
            time.sleep(0.05)

    def client(self):
        return redis_client(self.ns, self.port)

    def stop(self):
        return self.proc.stop()


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", '"': '"', "\\": "\\"}


def _monitor_args(line):
    """The arguments of one MONITOR line: `<time> [<db> <client>] "ARG" "ARG"...`, each
    argument quoted with Redis' escapes (\\n \\r \\t \\a \\b \\" \\\\ \\xHH)."""
    i = line.index("]") + 1
    args = []
    while True:
        i = line.find('"', i)
        if i < 0:
            return args
        i += 1
        out = []
        while line[i] != '"':
            ch = line[i]
            if ch == "\\":
                nxt = line[i + 1]
                if nxt == "x":
                    out.append(chr(int(line[i + 2:i + 4], 16)))
                    i += 4
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        args.append("".join(out))
        i += 1


class Monitor:
    """Every command the Redis server executes, as MONITOR reports them: what Kamailio
    really sent, whatever control later trims from its streams."""

    def __init__(self, server):
        self.server = server
        self.client = server.client()
        if self.client.command("MONITOR") != "OK":
            raise AssertionError("redis-server refused MONITOR")
        self.seen = []
        self.marks = 0

    def commands(self):
        """All commands executed so far (lists of arguments). A marker sent on another
        connection bounds the read: MONITOR reports in execution order."""
        self.marks += 1
        marker = f"rpaft-monitor-mark-{os.getpid()}-{self.marks}"
        other = self.server.client()
        try:
            other.command("ECHO", marker)
        finally:
            other.close()
        while True:
            # MONITOR pushes one status line per command; Client reads them one at a time.
            args = _monitor_args(self.client._read())
            if args == ["ECHO", marker]:
                return list(self.seen)
            self.seen.append(args)

    def close(self):
        self.client.close()


def udp_bound(ns, addr, port):
    """True when some socket in ns is bound to addr:port (UDP)."""
    out = netns.run(["ss", "-Hlun", "src", f"{addr}:{port}"], ns=ns, check=False).stdout
    return bool(out.strip())


class Kamailio:
    """examples/kamailio/kamailio.cfg in the foreground (-DD -E), settings as -A defines."""

    def __init__(self, ns, workdir, listen_addr, redis_port, defines=None, port=5060):
        self.addr = listen_addr
        self.port = port
        rundir = os.path.join(workdir, "kamailio-run")
        os.makedirs(rundir, exist_ok=True)
        d = {"RTPANCHOR_REDIS": f'"name=rtpanchor;addr=127.0.0.1;port={redis_port}"',
             "SIP_CHILDREN": "2"}
        d.update(defines or {})
        self.argv = [KAMAILIO, "-DD", "-E", "-f", KAMAILIO_CFG, "-l",
                     f"udp:{listen_addr}:{port}", "-Y", rundir, "-m", "64", "-M", "8",
                     "-w", rundir]
        for k, v in d.items():
            self.argv += ["-A", f"{k}={v}"]
        self.proc = Proc("kamailio", ns, self.argv, workdir)
        deadline = time.monotonic() + 15
        while not udp_bound(ns, listen_addr, port):
            if not self.proc.alive() or time.monotonic() > deadline:
                raise AssertionError(f"kamailio did not start:\n{self.proc.log()}")
            time.sleep(0.1)

    def stop(self):
        return self.proc.stop()


class Sipp:
    """One SIPp run in a namespace. Its logs (messages, <log> actions, errors) go to the
    work directory and are read back by the test."""

    def __init__(self, name, ns, workdir, scenario, sip_addr, media_addr, media_port,
                 remote=None, keys=None, extra=(), timeout_s=40):
        self.name = name
        self.files = {k: os.path.join(workdir, f"{name}-{k}.log")
                      for k in ("messages", "logs", "errors", "screen")}
        argv = [SIPP]
        if remote:
            argv.append(remote)
        argv += ["-sf", os.path.join(SCENARIOS, scenario), "-i", sip_addr, "-p", "5060",
                 "-mi", media_addr, "-mp", str(media_port), "-m", "1", "-nostdin",
                 "-timeout", f"{timeout_s}s", "-timeout_error",
                 "-trace_msg", "-message_file", self.files["messages"],
                 "-trace_logs", "-log_file", self.files["logs"],
                 "-trace_err", "-error_file", self.files["errors"],
                 "-trace_screen", "-screen_file", self.files["screen"]]
        for k, v in (keys or {}).items():
            argv += ["-key", k, str(v)]
        argv += list(extra)
        self.proc = Proc(name, ns, argv, workdir)

    def wait(self, timeout):
        rc = self.proc.wait(timeout)
        if rc is None:
            self.proc.stop(signal.SIGKILL)
            raise AssertionError(f"{self.name}: SIPp still running after {timeout}s\n"
                                 f"{self.report()}")
        return rc

    def stop(self):
        return self.proc.stop(signal.SIGKILL)

    def read(self, kind):
        try:
            with open(self.files[kind], errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def logged(self, key):
        """The values of `key=` in the scenario's <log> lines, in order."""
        out = []
        for line in self.read("logs").splitlines():
            for word in line.split():
                if word.startswith(key + "="):
                    out.append(word[len(key) + 1:])
        return out

    def report(self):
        return (f"---- {self.name} output ----\n{self.proc.log(40)}\n"
                f"---- {self.name} errors ----\n{self.read('errors')[-3000:]}\n"
                f"---- {self.name} messages ----\n{self.read('messages')[-6000:]}")


class Control:
    """The real rtpanchor-control, next to Redis in the signalling namespace; it reaches the
    dataplane through its Unix socket (a path, whatever the namespace). Ready once it
    answers a ping through the command channel, exactly as a proxy would ask."""

    def __init__(self, ns, workdir, redis, dp_socket, interfaces, prefix="rtpanchor:",
                 node="sipnode", extra=()):
        self.redis = redis
        self.prefix = prefix
        argv = [control.CONTROL, "--redis", f"127.0.0.1:{redis.port}", "--node", node,
                "--dataplane-socket", dp_socket, "--key-prefix", prefix,
                "--metrics-listen", "off"]
        for name, addr in interfaces.items():
            argv += ["--interface", f"{name}={addr}"]
        argv += list(extra)
        self.proc = Proc("control", ns, argv, workdir)
        deadline = time.monotonic() + 15
        c = redis.client()
        try:
            while True:
                if not self.proc.alive():
                    raise AssertionError(f"rtpanchor-control exited:\n{self.proc.log()}")
                reply = command(c, prefix, {"op": "ping"}, timeout_s=1)
                if reply is not None and reply.get("result") == "pong":
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"rtpanchor-control did not answer ping:\n"
                                         f"{self.proc.log()}")
        finally:
            c.close()

    def stop(self):
        return self.proc.stop()


_seq = [0]


def command(client, prefix, fields, timeout_s=5):
    """One command on the channel (XADD + BLPOP): the decoded JSON reply, or None when no
    reply came within timeout_s."""
    _seq[0] += 1
    key = f"{prefix}test:{os.getpid()}.{_seq[0]}"
    args = ["XADD", prefix + "commands", "*"]
    for k, v in fields.items():
        args += [k, v]
    args += ["reply-to", key]
    client.command(*args)
    got = client.command("BLPOP", key, str(timeout_s))
    return None if got is None else json.loads(got[1])
