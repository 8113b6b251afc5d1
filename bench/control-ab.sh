#!/bin/bash
# Before/after comparison of two builds with bench/control.sh: rounds alternate build A
# and build B (each round one control.sh run per build, all client counts), so that load
# from elsewhere on the machine falls on both alike; the medians per build and client
# count are printed, with each process's CPU per command. Every control.sh run holds
# --lock FILE (flock) so timing runs of several users never overlap.
set -euo pipefail

usage() {
	cat <<EOF2
usage: bench/control-ab.sh --a DIR --b DIR [--rounds N] [--clients N[,N...]]
                           [--duration S] [--a-args "ARGS"] [--b-args "ARGS"] [--lock FILE]
  --a, --b        the two build directories (each with control, dataplane, tools, bench)
  --rounds        rounds, each running A then B (default 5)
  --clients       client counts (default 1,4,16)
  --duration      seconds per run (default 5)
  --a-args        extra bench/control.sh options for A (e.g. "--dp-nap-us 100")
  --b-args        extra bench/control.sh options for B
  --lock          lock file held during each run (default /tmp/rtpanchor-bench.lock)
EOF2
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
A= B= AARGS= BARGS= ROUNDS=5 CLIENTS=1,4,16 DURATION=5 LOCK=/tmp/rtpanchor-bench.lock
while [ $# -gt 0 ]; do
	case $1 in
	--a) A=$2; shift ;;
	--b) B=$2; shift ;;
	--a-args) AARGS=$2; shift ;;
	--b-args) BARGS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--clients) CLIENTS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--lock) LOCK=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "control-ab.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ -n "$A" ] && [ -n "$B" ] || { usage >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "control-ab.sh: --rounds '$ROUNDS' is not a positive number" >&2; exit 2; }
command -v flock >/dev/null || { echo "control-ab.sh: flock missing (util-linux)" >&2; exit 2; }

OUT=$(mktemp /tmp/rpabench-ab.XXXXXX)
trap 'rm -f "$OUT"' EXIT
for ((i = 1; i <= ROUNDS; i++)); do
	for X in A B; do
		if [ $X = A ]; then dir=$A args=$AARGS; else dir=$B args=$BARGS; fi
		# shellcheck disable=SC2086 # the extra options are split on purpose
		flock "$LOCK" "$ROOT/bench/control.sh" --build "$dir" --clients "$CLIENTS" --runs 1 \
			--duration "$DURATION" --json $args | sed "s|^|$X |" >>"$OUT"
	done
done
python3 - "$OUT" "$A" "$B" <<'PY'
import collections, json, statistics, sys
path, a, b = sys.argv[1:4]
rows = collections.defaultdict(list)
for line in open(path):
    which, j = line.split(" ", 1)
    j = json.loads(j)
    rows[(j["clients"], which)].append(j)
print(f"A = {a}\nB = {b}")
print("                 pairs/s  pair p50  pair p99   CPU us per command: redis control dataplane clients   sum")
for (c, which), rs in sorted(rows.items()):
    med = lambda f: statistics.median(f(r) for r in rs)
    cu = {k: med(lambda r: r["cpu_us_per_command"][k]) for k in ("redis", "control", "dataplane", "clients")}
    print(f"{c:3d} clients  {which}  {med(lambda r: r['pairs_per_s']):8.0f}  {med(lambda r: r['pair_p50_ms']):5.2f} ms  "
          f"{med(lambda r: r['pair_p99_ms']):5.2f} ms                       {cu['redis']:5.1f}  {cu['control']:6.1f}  "
          f"{cu['dataplane']:8.1f}  {cu['clients']:6.1f}  {sum(cu.values()):5.0f}"
          f"   (runs {len(rs)}, errors {sum(r['errors'] for r in rs)})")
PY
