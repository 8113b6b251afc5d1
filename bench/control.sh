#!/bin/bash
# Control-plane benchmark: a private redis-server on a free loopback port, the real
# rtpanchor-dataplane on a net_null port (so that every call really programs streams) and
# the real rtpanchor-control; rtpanchor-bench-ctl then runs offer+answer(+delete) pairs
# with 1, 4 and 16 clients, several runs each, and the medians are printed.
# Everything started here is stopped by PID on exit (Ctrl-C included).
set -euo pipefail

usage() {
	cat <<EOF
usage: bench/control.sh [--build DIR] [--clients N[,N...]] [--runs N] [--duration S]
                        [--no-dataplane] [--no-aof] [--video] [--dp-nap-us US]
                        [--pin] [--redis-stats] [--keep-log] [--json] [--bench PATH]
                        [--bench-args "ARGS"]
  --clients       client counts to measure (default 1,4,16)
  --runs          runs per client count; medians are reported (default 3)
  --duration      seconds per run (default 5)
  --no-dataplane  no dataplane: control keeps state and answers with a warning (the
                  figures then leave out the stream programming)
  --no-aof        Redis without its append-only file (default: appendonly yes,
                  appendfsync everysec, as a deployment that must not lose calls runs it)
  --video         audio and video m= lines in every SDP (default audio only)
  --dp-nap-us     the dataplane worker's nap when idle, in us (default 1000)
  --pin           Redis on the last CPU, control and the clients on the others (the
                  dataplane's lcores are pinned by its -l 0,1 as always), as a small box
                  is deployed; default: the scheduler places every process
  --redis-stats   after each client count, Redis's INFO commandstats for its runs (calls
                  and usec_per_call of every command)
  --keep-log      keep the logs in /tmp/rpabench-ctl-*.log (kept on failure)
  --json          one JSON object per client count on stdout instead of the table
  --build         build directory (default \$BUILD_DIR or build/)
  --bench         the rtpanchor-bench-ctl binary to run (default the build's), e.g. an
                  older one to compare clients against the same Redis and control
  --bench-args    extra rtpanchor-bench-ctl options (e.g. "--threads 2")
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
CLIENTS=1,4,16
RUNS=3
DURATION=5
DATAPLANE=1
AOF=1
VIDEO=
KEEP_LOG=0
JSON=0
RSTATS=0
DP_NAP_US=1000
BENCH=
BENCH_ARGS=
PIN=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--bench) BENCH=$2; shift ;;
	--bench-args) BENCH_ARGS=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--no-dataplane) DATAPLANE=0 ;;
	--no-aof) AOF=0 ;;
	--video) VIDEO=--video ;;
	--redis-stats) RSTATS=1 ;;
	--pin) PIN=1 ;;
	--dp-nap-us) DP_NAP_US=$2; shift ;;
	--keep-log) KEEP_LOG=1 ;;
	--json) JSON=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "control.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[[ $CLIENTS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "control.sh: --clients '$CLIENTS' is not N[,N...]" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "control.sh: --runs '$RUNS' is not a positive number" >&2; exit 2; }
[[ $DP_NAP_US =~ ^[1-9][0-9]*$ ]] || { echo "control.sh: --dp-nap-us '$DP_NAP_US' is not a positive number" >&2; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "control.sh: --duration '$DURATION' is not a positive number" >&2; exit 2; }
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# --pin: taskset prefixes (empty arrays when not pinning).
PIN_REDIS=() PIN_REST=()
if [ "$PIN" = 1 ]; then
	NCPU=$(nproc)
	[ "$NCPU" -ge 2 ] || { echo "control.sh: --pin needs at least 2 CPUs, this machine has $NCPU" >&2; exit 2; }
	PIN_REDIS=(taskset -c $((NCPU - 1)))
	PIN_REST=(taskset -c "0-$((NCPU - 2))")
	[ "$NCPU" -gt 2 ] || PIN_REST=(taskset -c 0)
fi
DP=$BUILD/dataplane/rtpanchor-dataplane
CONTROL=$BUILD/control/rtpanchor-control
CLI=$BUILD/tools/rtpanchor
BENCH=${BENCH:-$BUILD/bench/rtpanchor-bench-ctl}
for b in "$CONTROL" "$CLI" "$BENCH"; do
	[ -x "$b" ] || { echo "control.sh: $b not built (ninja -C $BUILD)" >&2; exit 2; }
done
[ "$DATAPLANE" = 0 ] || [ -x "$DP" ] || { echo "control.sh: $DP not built" >&2; exit 2; }
for t in redis-server python3; do
	command -v $t >/dev/null || { echo "control.sh: '$t' missing (scripts/deps.sh)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/rpabench-ctl.XXXXXX)
PIDS=()

cleanup() {
	local rc=$? p f i
	trap - EXIT INT TERM
	# In reverse order of starting (control, dataplane, Redis), each gone before the
	# next: control then finishes its last transaction while Redis is still there.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		p=${PIDS[i]}
		kill -TERM "$p" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$KEEP_LOG" = 1 ] || [ $rc -ne 0 ]; then
		for f in redis control dataplane; do
			[ -f "$TMP/$f.log" ] && cp "$TMP/$f.log" "/tmp/rpabench-ctl-$f.log" &&
				echo "$f log: /tmp/rpabench-ctl-$f.log" >&2
		done
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "control.sh: $*" >&2
	local f
	for f in control dataplane redis; do
		[ -f "$TMP/$f.log" ] && { echo "---- $f log ----" >&2; tail -n 15 "$TMP/$f.log" >&2; }
	done
	exit 1
}

# utime + stime of a process in clock ticks.
ticks() {
	local f
	read -r -a f <"/proc/$1/stat" || { echo 0; return; }
	# Fields 14 and 15 (1-based), after a "(comm)" without spaces (ours have none).
	echo $((f[13] + f[14]))
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Redis: private, loopback only, its data in $TMP.
PORT=$(free_port)
if [ "$AOF" = 1 ]; then
	PERSIST=(--appendonly yes --appendfsync everysec)
else
	PERSIST=(--appendonly no)
fi
"${PIN_REDIS[@]}" redis-server --port "$PORT" --bind 127.0.0.1 --save '' "${PERSIST[@]}" --dir "$TMP" \
	--daemonize no --logfile "$TMP/redis.log" &
PIDS+=($!)
REDIS=127.0.0.1:$PORT
REDIS_PID=${PIDS[0]}
DP_PID=
for i in $(seq 100); do
	redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
	kill -0 "${PIDS[0]}" 2>/dev/null || die "redis-server exited while starting"
	[ "$i" -lt 100 ] || die "redis-server did not answer within 10 s"
	sleep 0.1
done

# The dataplane: one net_null port that receives nothing (no-rx), worker on lcore 1 with
# idle back-off so it leaves the CPU to Redis and control on a small machine: 1 ms naps
# (measured idle: 100 us naps cost 14% of a CPU, 1 ms 5%, which is no per-command cost;
# with media a worker owns its core and never naps). The bench's
# peers (192.0.2.0/24 callers, 198.51.100.0/24 callees) are reached through a gateway, so
# every stream is accepted as in a deployment (its next hop simply never answers ARP).
MEDIA=192.0.2.1
SOCK=$TMP/dp.sock
if [ "$DATAPLANE" = 1 ]; then
	"$DP" -l 0,1 --no-pci --no-huge -m 512 --no-shconf --vdev net_null0,no-rx=1 -- \
		--addr "net_null0=$MEDIA/24" --gateway net_null0=192.0.2.254 --socket "$SOCK" \
		--max-streams 262144 --idle-backoff --idle-sleep-us "$DP_NAP_US" >"$TMP/dataplane.log" 2>&1 &
	PIDS+=($!)
	DP_PID=$!
	for i in $(seq 150); do
		"$CLI" --socket "$SOCK" dataplane hello >/dev/null 2>&1 && break
		kill -0 "${PIDS[-1]}" 2>/dev/null || die "rtpanchor-dataplane exited while starting"
		[ "$i" -lt 150 ] || die "rtpanchor-dataplane did not answer hello within 15 s"
		sleep 0.1
	done
fi

# Control: the whole port range, and a quarantine short enough that the deleted calls'
# ports come back within a run (at 5,000 calls/s and two pairs per call, the default
# 5 s quarantine would need 50,000 pairs; 1024-65535 holds 32,256).
"${PIN_REST[@]}" "$CONTROL" --redis "$REDIS" --node bench --dataplane-socket "$SOCK" \
	--interface "pub=$MEDIA" --port-min 1024 --port-max 65535 --port-quarantine-ms 1000 \
	--metrics-listen off --log-level warning >"$TMP/control.log" 2>&1 &
PIDS+=($!)
CTL_PID=$!
for i in $(seq 150); do
	"$CLI" --redis "$REDIS" --timeout 200 ping >/dev/null 2>&1 && break
	kill -0 "${PIDS[-1]}" 2>/dev/null || die "rtpanchor-control exited while starting"
	[ "$i" -lt 150 ] || die "rtpanchor-control did not answer ping within 15 s"
	sleep 0.1
done

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ "$JSON" = 1 ] || {
	echo "machine: $(nproc) x $CPU, $(uname -r); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $REDIS" \
		"($([ "$AOF" = 1 ] && echo 'appendonly everysec' || echo 'no persistence'))," \
		"dataplane $([ "$DATAPLANE" = 1 ] && echo 'net_null' || echo 'none')," \
		"$RUNS runs x ${DURATION}s per client count; medians"
	[ "$PIN" = 0 ] || echo "pinned: redis-server on CPU ${PIN_REDIS[2]}, control and clients on CPU ${PIN_REST[2]}"
}

IFS=, read -r -a COUNTS <<<"$CLIENTS"
for c in "${COUNTS[@]}"; do
	: >"$TMP/runs-$c"
	: >"$TMP/cpu-$c"
	redis-cli -p "$PORT" config resetstat >/dev/null
	for ((r = 1; r <= RUNS; r++)); do
		rc=0
		r0=$(ticks "$REDIS_PID") c0=$(ticks "$CTL_PID") d0=0
		[ -z "$DP_PID" ] || d0=$(ticks "$DP_PID")
		# shellcheck disable=SC2086 # the extra options are split on purpose
		"${PIN_REST[@]}" "$BENCH" --redis "$REDIS" --clients "$c" --duration "$DURATION" $VIDEO \
			$BENCH_ARGS --json \
			>>"$TMP/runs-$c" 2>"$TMP/bench.err" || rc=$?
		r1=$(ticks "$REDIS_PID") c1=$(ticks "$CTL_PID") d1=0
		[ -z "$DP_PID" ] || d1=$(ticks "$DP_PID")
		echo "$((r1 - r0)) $((c1 - c0)) $((d1 - d0))" >>"$TMP/cpu-$c"
		[ "$rc" -le 1 ] || die "rtpanchor-bench-ctl failed ($rc): $(cat "$TMP/bench.err")"
	done
	if [ "$RSTATS" = 1 ]; then
		redis-cli -p "$PORT" info commandstats >"$TMP/cmdstats-$c"
	else
		: >"$TMP/cmdstats-$c"
	fi
	python3 - "$c" "$JSON" "$TMP/runs-$c" "$TMP/cpu-$c" "$(getconf CLK_TCK)" "$TMP/cmdstats-$c" <<'EOF'
import json, statistics, sys
clients, as_json, path = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
cpu_path, hz, stats_path = sys.argv[4], int(sys.argv[5]), sys.argv[6]
runs = [json.loads(l) for l in open(path) if l.strip()]
cpus = [list(map(int, l.split())) for l in open(cpu_path) if l.strip()]
# Process CPU over each whole bench run, per command the bench sent in it (its warm-up of
# 20 pairs per client, 3 commands each, and the ping included).
def per_cmd(i):
    return [c[i] / hz * 1e6 / (r["commands"] + clients * 20 * 3 + 1) for c, r in zip(cpus, runs)]
med = lambda f: statistics.median(f(r) for r in runs)
out = {
    "clients": clients, "runs": len(runs),
    "pairs_per_s": med(lambda r: r["pairs_per_s"]),
    "pair_p50_ms": med(lambda r: r["pair_latency_ms"]["p50"]),
    "pair_p90_ms": med(lambda r: r["pair_latency_ms"]["p90"]),
    "pair_p99_ms": med(lambda r: r["pair_latency_ms"]["p99"]),
    "pair_max_ms": max(r["pair_latency_ms"]["max"] for r in runs),
    "offer_p99_ms": med(lambda r: r["command_latency_ms"].get("offer", {}).get("p99", 0)),
    "answer_p99_ms": med(lambda r: r["command_latency_ms"].get("answer", {}).get("p99", 0)),
    "errors": sum(r["errors"]["total"] for r in runs),
    "warnings": sum(r["warnings"] for r in runs),
    "first_error": next((r["first_error"] for r in runs if r["first_error"]), ""),
    "first_warning": next((r["first_warning"] for r in runs if r["first_warning"]), ""),
    "each_run_pairs_per_s": [round(r["pairs_per_s"], 1) for r in runs],
    "cpu_us_per_command": {
        "redis": statistics.median(per_cmd(0)),
        "control": statistics.median(per_cmd(1)),
        "dataplane": statistics.median(per_cmd(2)),
        "clients": med(lambda r: r["client_cpu_us_per_command"]),
    },
}
stats = {}
for l in open(stats_path):
    if l.startswith("cmdstat_"):
        name, _, kv = l.strip()[8:].partition(":")
        f = dict(x.split("=", 1) for x in kv.split(","))
        stats[name] = {"calls": int(f["calls"]), "usec_per_call": float(f["usec_per_call"])}
if stats:
    out["redis_commandstats"] = stats
if as_json:
    print(json.dumps(out))
else:
    print(f"clients {clients:3d}: {out['pairs_per_s']:8.1f} pairs/s  "
          f"pair p50 {out['pair_p50_ms']:.3f} ms  p90 {out['pair_p90_ms']:.3f} ms  "
          f"p99 {out['pair_p99_ms']:.3f} ms  max {out['pair_max_ms']:.3f} ms  "
          f"(offer p99 {out['offer_p99_ms']:.3f}, answer p99 {out['answer_p99_ms']:.3f}; "
          f"runs {out['each_run_pairs_per_s']})")
    cu = out["cpu_us_per_command"]
    print(f"            CPU us per command: redis {cu['redis']:.1f}  control {cu['control']:.1f}  "
          f"dataplane {cu['dataplane']:.1f}  clients {cu['clients']:.1f}  "
          f"(sum {sum(cu.values()):.1f})")
    if stats:
        total = sum(v["calls"] * v["usec_per_call"] for v in stats.values())
        ncmd = sum(r["commands"] for r in runs)
        print(f"            redis commandstats (us of command execution per bench command: "
              f"{total / max(ncmd, 1):.1f}):")
        for k, v in sorted(stats.items(), key=lambda kv: -kv[1]["calls"] * kv[1]["usec_per_call"]):
            print(f"              {k:12s} {v['calls'] / max(ncmd, 1):6.2f} per command  "
                  f"{v['usec_per_call']:7.2f} us/call")
    if out["errors"]:
        print(f"            {out['errors']} errors; first: {out['first_error']}")
    if out["warnings"]:
        print(f"            {out['warnings']} warnings; first: {out['first_warning']}")
EOF
done
for p in "${PIDS[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a process (pid $p) died during the benchmark"
done
