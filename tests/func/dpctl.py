# A raw client for the dataplane control socket (include/rtpanchor/dp_proto.h), written
# from the header and independent of the C client, so tests can send what the CLI never
# would: truncated, lying, wrong-magic and wrong-version messages.
import errno
import socket
import struct

MAGIC = 0x52504144
VERSION = 2
MSG_MAX = 65536
HELLO, STREAM_ADD, STREAM_DEL, STREAM_GET, STREAM_LIST, STATS, NEIGH_LIST, FLUSH, BATCH = range(1, 10)
TYPE_MAX = 10
BATCH_MAX = 128
F_LATCH, F_STRICT, F_RTCP, F_MUX = 0x1, 0x2, 0x4, 0x8
(SRTP_NONE, AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80,
 AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM, SRTP_SUITE_MAX) = range(8)
SRTP_KEY_SALT = {AES_CM_128_HMAC_SHA1_80: (16, 14), AES_CM_128_HMAC_SHA1_32: (16, 14),
                 AES_256_CM_HMAC_SHA1_80: (32, 14), AES_256_CM_HMAC_SHA1_32: (32, 14),
                 AEAD_AES_128_GCM: (16, 12), AEAD_AES_256_GCM: (32, 12)}
AF_NONE, AF_INET = 0, 4

HDR = struct.Struct("<IHHII")                  # magic version type len seq
REPLY = struct.Struct("<IHHIIiI128s")          # hdr + status pad msg
HELLO_REQ = struct.Struct("<II32s")
HELLO_REPLY = struct.Struct("<IIQQ32s")
ENDPOINT = struct.Struct("<B3x16sHH")          # rpa_addr{family pad[3] union[16]} port pad
STREAM_TAIL = struct.Struct("<IIQ")            # flags latch_window_ms tag
SRTP = struct.Struct("<BBBB4s32s14s2x")        # suite key_len salt_len mki_len mki key salt
STREAM_SRTP_TAIL = struct.Struct("<II")        # replay_window pad
STREAM_INFO_TAIL = struct.Struct("<QQQQIIQQQ")  # packets bytes drops idle_ms owner latched
#                                                 srtp_auth_fail srtp_replay srtp_other
STREAM_SIZE = 4 * 24 + STREAM_TAIL.size + 2 * SRTP.size + STREAM_SRTP_TAIL.size
PAGE = struct.Struct("<II")
FLUSH_REQ = struct.Struct("<QII")
assert HDR.size == 16 and REPLY.size == 152 and HELLO_REQ.size == 40
assert HELLO_REPLY.size == 56 and ENDPOINT.size == 24 and PAGE.size == 8
assert SRTP.size == 56 and STREAM_SIZE == 232
assert STREAM_SIZE + STREAM_INFO_TAIL.size == 296


def endpoint(text=None):
    if text is None:
        return ENDPOINT.pack(AF_NONE, b"", 0, 0)
    host, port = text.rsplit(":", 1)
    return ENDPOINT.pack(AF_INET, socket.inet_aton(host).ljust(16, b"\0"), int(port), 0)


def srtp(suite=SRTP_NONE, key=b"", salt=b"", mki=b"", key_len=None, salt_len=None,
         mki_len=None):
    """One side's rpa_dp_srtp; lengths default to those of the bytes given."""
    return SRTP.pack(suite, len(key) if key_len is None else key_len,
                     len(salt) if salt_len is None else salt_len,
                     len(mki) if mki_len is None else mki_len, mki, key, salt)


def stream(local, src, dst=None, expect=None, flags=F_LATCH, window=0, tag=0, rx=None,
           tx=None, replay_window=0):
    return (endpoint(local) + endpoint(src) + endpoint(dst) + endpoint(expect)
            + STREAM_TAIL.pack(flags, window, tag) + (rx or srtp()) + (tx or srtp())
            + STREAM_SRTP_TAIL.pack(replay_window, 0))


def stream_info(body):
    """Decodes an rpa_dp_stream_info: the raw stream bytes, the SRTP sides and counters."""
    off = 4 * 24 + STREAM_TAIL.size
    rx = SRTP.unpack_from(body, off)
    tx = SRTP.unpack_from(body, off + SRTP.size)
    replay_window, _ = STREAM_SRTP_TAIL.unpack_from(body, off + 2 * SRTP.size)
    (packets, bytes_, drops, idle_ms, owner, latched, auth, replay,
     other) = STREAM_INFO_TAIL.unpack_from(body, STREAM_SIZE)
    side = ("suite", "key_len", "salt_len", "mki_len", "mki", "key", "salt")
    return {"stream": body[:STREAM_SIZE], "rx": dict(zip(side, rx)), "tx": dict(zip(side, tx)),
            "replay_window": replay_window, "packets": packets, "bytes": bytes_,
            "drops": drops, "idle_ms": idle_ms, "owner": owner, "latched": latched,
            "srtp_auth_fail": auth, "srtp_replay": replay, "srtp_other": other}


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
