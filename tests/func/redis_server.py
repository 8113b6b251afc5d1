# A real redis-server for the functional tests, on a free loopback port with its own data
# directory (append-only file, so a restart keeps the data), stopped by PID; and a small
# RESP2 client over a socket (redis-py is not needed). Every wait is bounded.
import os
import signal
import socket
import subprocess
import time

REDIS_SERVER = "/usr/bin/redis-server"


def free_port():
    """A TCP port free on 127.0.0.1 now, outside the relay and ephemeral ranges where
    possible (the kernel picks it; reused at once by the caller)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisError(Exception):
    """An error reply (-ERR ...)."""


class Client:
    """RESP2 over TCP: command(*args) -> str/bytes/int/list/None; RedisError for -ERR.
    Bulk strings come back as bytes."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ConnectionError(f"bad RESP line {line!r}")

    def pipeline(self, commands):
        """Sends every command, then reads every reply (errors are returned, not raised)."""
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self._read() for _ in commands]

    def command(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, RedisError):
            raise r
        return r


class RedisServer:
    def __init__(self, workdir, port=None):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.unix = os.path.join(self.dir, "redis.sock")
        self.log_path = os.path.join(self.dir, "redis.log")
        self.proc = None

    def start(self, timeout=10.0):
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--daemonize", "no", "--protected-mode", "no",
                "--unixsocket", self.unix, "--unixsocketperm", "700",
                "--logfile", self.log_path]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited {self.proc.returncode}:\n"
                                     f"{self.log_tail()}")
            try:
                c = Client(self.port, timeout=1.0)
                try:
                    if c.command("PING") == "PONG":
                        return self
                finally:
                    c.close()
            except (OSError, ConnectionError, RedisError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer within {timeout}s")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def client(self):
        return Client(self.port)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"
