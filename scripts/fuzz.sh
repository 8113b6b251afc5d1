#!/bin/sh
# Builds the SDP fuzzer (tests/fuzz/fuzz_sdp.c) with clang, libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and runs it for a bounded time over the committed seed
# corpus: scripts/fuzz.sh [seconds] (default 60). Exit 0 = no crash, leak, timeout or
# broken invariant. New inputs go to a scratch directory; a crashing input is kept in
# $BUILD_DIR/fuzz/ (crash-*) and can be replayed with: build/fuzz/fuzz_sdp <file>.
set -eu
. "$(dirname -- "$0")/lib.sh"
cd "$RPA_ROOT"

secs=${1:-60}
case $secs in '' | *[!0-9]*) rpa_die "usage: $0 [seconds]" ;; esac
CLANG=${CLANG:-$(command -v clang-14 || command -v clang || true)}
[ -n "$CLANG" ] || rpa_die "clang is missing: run scripts/deps.sh first"

dir=$RPA_BUILD/fuzz
mkdir -p "$dir"
rpa_log "fuzz: building $dir/fuzz_sdp with $CLANG"
# The normal build uses gcc; libFuzzer needs clang, so the fuzzer is compiled here from
# the same sources the control plane links.
"$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Icontrol \
	tests/fuzz/fuzz_sdp.c control/sdp.c control/sdp_rewrite.c common/addr.c \
	-o "$dir/fuzz_sdp"

work=$(mktemp -d /tmp/rtpanchor-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
rpa_log "fuzz: sdp for ${secs}s over tests/fuzz/corpus"
# -max_len above SDP_MAX_SIZE so the size limit itself is exercised.
rc=0
"$dir/fuzz_sdp" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=70000 \
	-dict=tests/fuzz/sdp.dict -artifact_prefix="$dir/" -print_final_stats=1 \
	"$work" tests/fuzz/corpus </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
	printf 'fuzz: sdp failed (exit %s); reproducer in %s/\n' "$rc" "$dir" >&2
	exit 1
fi
rpa_log "fuzz: sdp passed"
