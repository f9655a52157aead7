#!/bin/bash
# memcheck-udp-batch.sh: runs native/udp-batch/test/exercise.cjs (every entry point of the
# sockkit-udp-batch addon, on loopback) under valgrind's memcheck, and fails on any invalid read
# or write, use of uninitialised memory, or memory lost from the addon's own allocations.
# Usage: scripts/memcheck-udp-batch.sh   (builds the addon first if needed; takes about a minute)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
addon=$here/native/udp-batch
command -v valgrind >/dev/null || { echo "memcheck-udp-batch: valgrind is not installed" >&2; exit 2; }
if [[ ! -f $addon/build/Release/udp_batch.node ]]; then
  (cd "$addon" && npm run install >/dev/null) # node-gyp rebuild, with npm's own node-gyp
fi
log=$(mktemp /tmp/memcheck-udp-batch.XXXXXX)
trap 'rm -f "$log"' EXIT
# V8 rewrites its own code at run time: --smc-check keeps valgrind correct under it. Leaks are
# reported only where the addon allocated (udp_batch in the stack); V8's and Node's own
# process-lifetime allocations are not this addon's business.
set +e
valgrind --tool=memcheck --smc-check=all-non-file --error-exitcode=9 --leak-check=full \
  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite --num-callers=30 \
  --log-file="$log" node "$addon/test/exercise.cjs"
status=$?
set -e
errors=$(grep -E "ERROR SUMMARY" "$log" | tail -1)
ours=$(grep -c "udp_batch" "$log" || true)
echo "$errors"
echo "frames in udp_batch.node named in valgrind's report: $ours"
if (( ours > 0 )); then grep -B3 -A25 "udp_batch" "$log" | head -80; exit 1; fi
exit "$status"
