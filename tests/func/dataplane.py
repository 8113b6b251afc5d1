# Starts and stops the real rtpanchor-dataplane inside the relay namespace and drives the
# real rtpanchor CLI, for the functional tests. Every wait is bounded.
import json
import os
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD_DIR") or os.path.join(ROOT, "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
DATAPLANE = os.path.join(BUILD, "dataplane", "rtpanchor-dataplane")
CLI = os.path.join(BUILD, "tools", "rtpanchor")

# The relay under test: both virtual ports on af_packet over the veths of the relay
# namespace, main lcore 0 for the slow path, one worker on lcore 1.
EAL = ["-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--no-shconf",
       "--vdev", "net_af_packet0,iface=dpa", "--vdev", "net_af_packet1,iface=dpb"]


def eal_args(lcores=None, qpairs=1):
    """EAL arguments: the default above, or with an --lcores map (e.g. "0@0,1@1,2@1": more
    worker lcores than CPUs) and qpairs queue pairs per af_packet port (the dataplane
    wants one tx queue per worker; the kernel fans received packets out over the rx
    queues by flow hash)."""
    args = list(EAL)
    if lcores is not None:
        args[0:2] = ["--lcores", lcores]
    if qpairs != 1:
        args = [f"{a},qpairs={qpairs}" if a.startswith("net_af_packet") else a for a in args]
    return args


class CliError(AssertionError):
    pass


class Dataplane:
    def __init__(self, topo, workdir, options=(), lcores=None, qpairs=1):
        self.topo = topo
        self.workdir = workdir
        self.eal = eal_args(lcores, qpairs)
        self.socket = os.path.join(workdir, "dp.sock")
        self.log_path = os.path.join(workdir, "dataplane.log")
        self.options = list(options)
        self.proc = None
        self.starts = 0

    def argv(self):
        return [DATAPLANE, *self.eal, "--",
                "--addr", f"net_af_packet0={self.topo.RELAY_A}/24",
                "--addr", f"net_af_packet1={self.topo.RELAY_B}/24",
                "--gateway", f"net_af_packet1={self.topo.GW}",
                "--socket", self.socket, "--idle-backoff", "--max-streams", "65536",
                *self.options]

    def start(self, timeout=30.0):
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"---- start {self.starts}: {' '.join(self.argv())}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.topo.dp, *self.argv()],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(f"dataplane exited {rc} while starting:\n{self.log_tail()}")
            if os.path.exists(self.socket):
                p = self.cli_raw("dataplane", "hello", timeout=5)
                if p.returncode == 0:
                    return self
            if time.monotonic() > deadline:
                raise AssertionError(f"dataplane did not answer hello within {timeout}s:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.1)

    @property
    def pid(self):
        # `ip netns exec` execs the command, so the child's pid is the dataplane's.
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signals the dataplane and returns its exit code; kills it if it hangs (and then
        returns None)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        rc = self.wait(timeout)
        if rc is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        return rc

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"

    def cli_raw(self, *args, socket_path=None, timeout=10):
        argv = [CLI, "--socket", socket_path or self.socket, *args]
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def cli(self, *args, expect_rc=0):
        """`rtpanchor --json dataplane ARGS`, parsed; asserts the exit code."""
        p = self.cli_raw("--json", "dataplane", *args)
        if p.returncode != expect_rc:
            raise CliError(f"rtpanchor dataplane {' '.join(args)}: exit {p.returncode} "
                           f"(wanted {expect_rc})\nstdout: {p.stdout}\nstderr: {p.stderr}")
        if expect_rc != 0:
            return p
        try:
            return json.loads(p.stdout) if p.stdout.strip() else None
        except json.JSONDecodeError as e:
            raise CliError(f"rtpanchor dataplane {' '.join(args)}: output is not JSON ({e}):"
                           f"\n{p.stdout}") from None

    def add(self, local, src, dst=None, *extra):
        args = ["add", "--local", local, "--src", src]
        if dst:
            args += ["--dst", dst]
        return self.cli(*args, *extra)

    def add_call(self, a_port, b_port, a_peer=None, b_peer=None, extra=()):
        """Streams for one call leg pair: A's side on RELAY_A:a_port, B's on RELAY_B:b_port.
        b_peer is where A's media goes; a_peer (usually None) is learnt by latching."""
        t = self.topo
        self.add(f"{t.RELAY_A}:{a_port}", f"{t.RELAY_B}:{b_port}", b_peer, *extra)
        self.add(f"{t.RELAY_B}:{b_port}", f"{t.RELAY_A}:{a_port}", a_peer, *extra)

    def get(self, local):
        return self.cli("get", "--local", local)

    def stats(self):
        return self.cli("stats")

    def drops(self, reason):
        st = self.stats()
        assert reason in st["drops"], f"drop reason {reason!r} not in stats: {sorted(st['drops'])}"
        return st["drops"][reason]["total"]

    def media_drops(self):
        """All drops except l2-broadcast: the peers' kernels send the odd IGMP report
        (multicast frame) when their interfaces come up, which the relay rightly drops."""
        return sum(d["total"] for r, d in self.stats()["drops"].items() if r != "l2-broadcast")

    def neigh(self, ip):
        for n in self.cli("neigh")["neighbours"]:
            if n["ip"] == ip:
                return n
        return None

    def port_mac(self, name):
        for p in self.stats()["ports"]:
            if p["name"] == name:
                return p["mac"].lower()
        raise AssertionError(f"no port {name} in stats")
