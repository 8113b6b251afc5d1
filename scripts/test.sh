#!/bin/sh
# The test command (README, .ci/run): installs what is missing, builds with warnings as
# errors, runs the unit tests (meson), the SDP fuzzer (60 s) and the functional tests
# (pytest, real dataplane in network namespaces), then prints `rtpanchor: N passed,
# M failed`. Root only.
# Extra arguments go to pytest (e.g. -k latch).
set -u
. "$(dirname -- "$0")/lib.sh"
rpa_need_root
cd "$RPA_ROOT" || exit 1

passed=0
failed=0
summary() {
	echo "rtpanchor: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}

if ! "$RPA_ROOT/scripts/deps.sh"; then
	echo "dependency installation failed" >&2
	failed=1
	summary
fi
if ! "$RPA_ROOT/scripts/build.sh"; then
	echo "build failed" >&2
	failed=1
	summary
fi

# Unit tests. Counts come from meson's own log, not from scraping its console output.
rpa_log "unit tests: meson test -C $RPA_BUILD"
rm -f "$RPA_BUILD/meson-logs/testlog.json"
timeout 600 meson test -C "$RPA_BUILD" --print-errorlogs
unit_rc=$?
counts=$("$RPA_PYTHON" - "$RPA_BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            if t.get("result") in ("OK", "EXPECTEDFAIL"):
                ok += 1
            else:
                # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS, and SKIP: a fresh clone must run
                # every test, so a skipped one is not a pass.
                print(f"unit: {t.get('name')}: {t.get('result')}", file=sys.stderr)
                bad += 1
except FileNotFoundError:
    pass
print(ok, bad)
PY
)
ok=${counts% *} bad=${counts#* }
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$unit_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	echo "meson test exited $unit_rc without a failing test in its log" >&2
	failed=$((failed + 1))
fi

# Fuzzing: the SDP parser and rewriter under libFuzzer for 60 s; one test (a crash, a
# broken invariant or a build failure is a failure).
rpa_log "fuzz: scripts/fuzz.sh 60"
if timeout -k 10 300 "$RPA_ROOT/scripts/fuzz.sh" 60 </dev/null; then
	passed=$((passed + 1))
else
	echo "fuzz: sdp failed" >&2
	failed=$((failed + 1))
fi

# Functional tests: real processes, bounded in time as a whole as well as per wait.
rpa_log "functional tests: pytest tests/func"
junit=$(mktemp /tmp/rtpanchor-junit.XXXXXX)
PYTHONDONTWRITEBYTECODE=1 BUILD_DIR=$RPA_BUILD timeout -k 10 900 \
	"$RPA_PYTHON" -m pytest -v -p no:cacheprovider --junitxml="$junit" tests/func "$@" </dev/null
func_rc=$?
counts=$("$RPA_PYTHON" - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    sys.exit()
ok = bad = 0
for case in root.iter("testcase"):
    # skipped counts as failed for the same reason as in the unit tests.
    if any(c.tag in ("failure", "error", "skipped") for c in case):
        bad += 1
    else:
        ok += 1
# A teardown error is reported as a second testcase entry with the same name by some
# pytest versions; the totals above count it as a failure, which is what it is.
print(ok, bad)
PY
)
rm -f "$junit"
ok=${counts% *} bad=${counts#* }
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$func_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	echo "pytest exited $func_rc without a failing test in its report" >&2
	failed=$((failed + 1))
fi
summary
