#!/bin/sh
# Configures (once) and builds rtpanchor into build/ (or $BUILD_DIR) with warnings as
# errors, as CI does. Extra arguments go to `meson setup` on first configuration.
set -eu
. "$(dirname -- "$0")/lib.sh"

command -v meson >/dev/null || rpa_die "meson is missing: run scripts/deps.sh first"
if [ ! -f "$RPA_BUILD/build.ninja" ]; then
	rpa_log "meson setup $RPA_BUILD"
	meson setup "$RPA_BUILD" "$RPA_ROOT" --werror "$@"
elif [ "$(meson introspect --buildoptions "$RPA_BUILD" |
	"$RPA_PYTHON" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"][0])')" != True ]; then
	# A build dir configured by hand without --werror must not let warnings through CI.
	meson configure "$RPA_BUILD" -Dwerror=true
fi
rpa_log "ninja -C $RPA_BUILD"
ninja -C "$RPA_BUILD"
