# A raw client for the dataplane control socket (include/rtpanchor/dp_proto.h), written
# from the header and independent of the C client, so tests can send what the CLI never
# would: truncated, lying, wrong-magic and wrong-version messages.
import errno
import socket
import struct

MAGIC = 0x52504144
VERSION = 1
MSG_MAX = 65536
HELLO, STREAM_ADD, STREAM_DEL, STREAM_GET, STREAM_LIST, STATS, NEIGH_LIST, FLUSH = range(1, 9)
TYPE_MAX = 9
F_LATCH, F_STRICT = 0x1, 0x2
AF_NONE, AF_INET = 0, 4

HDR = struct.Struct("<IHHII")                  # magic version type len seq
REPLY = struct.Struct("<IHHIIiI128s")          # hdr + status pad msg
HELLO_REQ = struct.Struct("<II32s")
HELLO_REPLY = struct.Struct("<IIQQ32s")
ENDPOINT = struct.Struct("<B3x16sHH")          # rpa_addr{family pad[3] union[16]} port pad
STREAM_TAIL = struct.Struct("<IIQ")            # flags latch_window_ms tag
STREAM_INFO_TAIL = struct.Struct("<QQQQII")    # packets bytes drops idle_ms owner latched
PAGE = struct.Struct("<II")
FLUSH_REQ = struct.Struct("<QII")
assert HDR.size == 16 and REPLY.size == 152 and HELLO_REQ.size == 40
assert HELLO_REPLY.size == 56 and ENDPOINT.size == 24 and PAGE.size == 8
assert 4 * ENDPOINT.size + STREAM_TAIL.size == 112
assert 112 + STREAM_INFO_TAIL.size == 152


def endpoint(text=None):
    if text is None:
        return ENDPOINT.pack(AF_NONE, b"", 0, 0)
    host, port = text.rsplit(":", 1)
    return ENDPOINT.pack(AF_INET, socket.inet_aton(host).ljust(16, b"\0"), int(port), 0)


def stream(local, src, dst=None, expect=None, flags=F_LATCH, window=0, tag=0):
    return (endpoint(local) + endpoint(src) + endpoint(dst) + endpoint(expect)
            + STREAM_TAIL.pack(flags, window, tag))


def header(type_, body_len, seq, magic=MAGIC, version=VERSION, len_delta=0):
    return HDR.pack(magic, version, type_, HDR.size + body_len + len_delta, seq)


def message(type_, body=b"", seq=1, **kw):
    return header(type_, len(body), seq, **kw) + body


class Reply:
    def __init__(self, raw):
        if len(raw) < REPLY.size:
            raise AssertionError(f"reply of {len(raw)} bytes is shorter than rpa_dp_reply")
        (self.magic, self.version, self.type, self.len, self.seq, self.status, _,
         msg) = REPLY.unpack_from(raw)
        self.msg = msg.split(b"\0", 1)[0].decode(errors="replace")
        self.body = raw[REPLY.size:]
        self.raw = raw

    def __repr__(self):
        err = errno.errorcode.get(-self.status, self.status) if self.status < 0 else 0
        return (f"Reply(type={self.type} seq={self.seq} status={self.status}({err}) "
                f"len={self.len}/{len(self.raw)} msg={self.msg!r})")


class Client:
    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def raw(self, data):
        """Sends one datagram and returns the one reply."""
        self.sock.send(data)
        return Reply(self.sock.recv(MSG_MAX + 4096))

    def call(self, type_, body=b"", seq=7):
        return self.raw(message(type_, body, seq))

    def hello(self):
        r = self.call(HELLO, HELLO_REQ.pack(VERSION, 0, b"rpaft raw client"))
        assert r.status == 0, r
        version, pid, boot_id, uptime_ms, build = HELLO_REPLY.unpack_from(r.body)
        return {"version": version, "pid": pid, "boot_id": boot_id, "uptime_ms": uptime_ms}

    def stream_count(self):
        r = self.call(STATS)
        assert r.status == 0, r
        _, streams = struct.unpack_from("<QQ", r.body)
        return streams

    def close(self):
        self.sock.close()
