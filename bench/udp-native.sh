#!/bin/bash
# udp-native.sh: the native datagram path (sockkit-udp-batch) against the plain dgram path and the
# C reference, for docs/performance.md. Run from the repository root after `npm run build`.
#   bench/udp-native.sh echo    ROUNDS SECS  # echo udp:// 64 B ping-pong x50: native and plain vs C (compare.sh)
#   bench/udp-native.sh cpu     ROUNDS SECS  # server CPU time per datagram echoed: native, plain, C (alternating)
#   bench/udp-native.sh strace  SECS         # system calls per datagram of echo udp://, native and plain
#   bench/udp-native.sh perf    SECS RATES   # perf -u: loss at each bitrate (e.g. "50M 100M 200M"), native and plain
#   bench/udp-native.sh bench   ROUNDS SECS [CONNS SIZE DEPTH]  # bench udp:// (native, plain) vs echo_load udp,
#                                            # against the C echo server: msgs/s and load CPU per datagram
#     with SOCKKIT_OLD_TREE=DIR (a built worktree of older code): echo_load, bench of DIR ("old"), bench
#     of this tree ("new"), both on the native path, alternating: an A B of a change to the bench's UDP path
# SOCKKIT_REF_DIR: the C reference kit (default ../shared/bench).
set -u
cd "$(dirname "$0")/.." || exit 2
ref=${SOCKKIT_REF_DIR:-../shared/bench}
[[ -x $ref/compare.sh ]] || { echo "udp-native.sh: no C reference kit in $ref (set SOCKKIT_REF_DIR)" >&2; exit 2; }
cli="node dist/src/cli/main.js"
what=${1:-echo}

case $what in
echo)
  rounds=${2:-5} secs=${3:-3}
  for path in 1 0; do
    echo "== SOCKKIT_NATIVE=$path: sockkit echo udp:// vs the C reference, 64 B ping-pong x50"
    "$ref/compare.sh" "env SOCKKIT_NATIVE=$path $cli echo udp://127.0.0.1:PORT" "REF udp PORT" udp 50 64 1 "$secs" "$rounds" 2>&1 |
      grep -E "^round|^median"
  done
  ;;
cpu)
  rounds=${2:-3} secs=${3:-3}
  "$ref/compare.sh" "REF udp PORT" "REF udp PORT" udp 1 64 1 1 1 >/dev/null 2>&1 # builds the kit
  load=${TMPDIR:-/tmp}/sockkit-ref/echo_load tick=$(getconf CLK_TCK)
  for round in $(seq "$rounds"); do
    for server in native plain C; do
      port=$((10000 + RANDOM % 20000))
      case $server in
      native) SOCKKIT_NATIVE=1 taskset -c 0 $cli echo "udp://127.0.0.1:$port" 2>/dev/null & ;;
      plain) SOCKKIT_NATIVE=0 taskset -c 0 $cli echo "udp://127.0.0.1:$port" 2>/dev/null & ;;
      C) taskset -c 0 "${load%echo_load}echo_server" udp "$port" 2>/dev/null & ;;
      esac
      pid=$!
      for _ in $(seq 100); do ss -uln | grep -q ":$port " && break; sleep 0.1; done
      before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
      out=$(taskset -c 1 "$load" udp 127.0.0.1 "$port" 50 64 1 "$secs")
      after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
      kill -TERM $pid; wait $pid 2>/dev/null # TERM: a background job of a script ignores SIGINT
      msgs=$(echo "$out" | sed 's/.*"msgs":\([0-9]*\).*/\1/') rate=$(echo "$out" | sed 's/.*"msgs_per_s":\([0-9]*\).*/\1/')
      awk -v r="$round" -v s="$server" -v c=$((after - before)) -v t="$tick" -v m="$msgs" -v q="$rate" \
        'BEGIN { printf "round %d %-6s %8d msgs/s  %.2f us server CPU per datagram\n", r, s, q, c / t * 1e6 / m }'
    done
  done
  ;;
strace)
  secs=${2:-3}
  "$ref/compare.sh" "REF udp PORT" "REF udp PORT" udp 1 64 1 1 1 >/dev/null 2>&1 # builds the kit
  load=${TMPDIR:-/tmp}/sockkit-ref/echo_load
  for path in 1 0; do
    port=$((10000 + RANDOM % 20000)) out=$(mktemp)
    SOCKKIT_NATIVE=$path strace -c -f -o "$out" $cli echo "udp://127.0.0.1:$port" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do ss -uln | grep -q ":$port " && break; sleep 0.1; done
    msgs=$("$load" udp 127.0.0.1 "$port" 50 64 1 "$secs" | sed 's/.*"msgs":\([0-9]*\).*/\1/')
    kill -INT "$(pgrep -P $pid)"; wait $pid # the server under strace stops cleanly on SIGINT
    echo "== SOCKKIT_NATIVE=$path: $msgs datagrams echoed; system calls per datagram:"
    awk -v n="$msgs" '$NF ~ /^(recvmmsg|sendmmsg|recvmsg|sendmsg|sendto|recvfrom|epoll_wait|epoll_pwait|epoll_ctl|write|read|futex|ioctl)$/ {
      calls = ($4 ~ /^[0-9]+$/) ? $4 : $3; total += calls; printf "  %-12s %10d  %.3f\n", $NF, calls, calls / n }
      END { printf "  %-12s %10d  %.3f\n", "(these)", total, total / n }' "$out"
    rm -f "$out"
  done
  ;;
perf)
  secs=${2:-2} rates=${3:-"25M 50M 100M 200M 400M"}
  for path in 1 0; do
    port=$((10000 + RANDOM % 20000))
    SOCKKIT_NATIVE=$path taskset -c 0 $cli perf serve "tcp://127.0.0.1:$port" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do ss -uln | grep -q ":$port " && break; sleep 0.1; done
    echo "== SOCKKIT_NATIVE=$path: perf -u -l 1400, client and server on the same path"
    for rate in $rates; do
      SOCKKIT_NATIVE=$path taskset -c 1 $cli perf "tcp://127.0.0.1:$port" -u -b "$rate" -l 1400 -t "$secs" -i 0 --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const e=JSON.parse(s).end;const u=e.sum_received??e.sum;
          console.log(`  ${process.argv[1].padStart(5)}: received ${(u.bits_per_second/1e6).toFixed(1)} Mbit/s, lost ${u.lost_packets}/${u.packets} (${(u.lost_percent??0).toFixed(2)}%)`)})' "$rate"
    done
    kill -INT $pid; wait $pid 2>/dev/null
  done
  ;;
bench)
  rounds=${2:-3} secs=${3:-3} conns=${4:-50} size=${5:-64} depth=${6:-1}
  "$ref/compare.sh" "REF udp PORT" "REF udp PORT" udp 1 64 1 1 1 >/dev/null 2>&1 # builds the kit
  load=${TMPDIR:-/tmp}/sockkit-ref/echo_load
  echo "== load generators against the C echo server (CPU 0; load on CPU 1): udp x$conns, $size B, depth $depth, ${secs}s; $(uptime | sed 's/.*load/load/')"
  gens="C native plain"
  if [[ -n ${SOCKKIT_OLD_TREE:-} ]]; then
    [[ -f $SOCKKIT_OLD_TREE/dist/src/cli/main.js ]] || { echo "udp-native.sh: $SOCKKIT_OLD_TREE is not a built sockkit tree" >&2; exit 2; }
    gens="C old new"
  fi
  for round in $(seq "$rounds"); do
    port=$((10000 + RANDOM % 20000))
    taskset -c 0 "${load%echo_load}echo_server" udp "$port" 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do ss -uln | grep -q ":$port " && break; sleep 0.1; done
    for gen in $gens; do
      case $gen in
      C) # CPU from the shell's children times: echo_load's own, start-up included (a C program's is nil)
        out=$( (taskset -c 1 "$load" udp 127.0.0.1 "$port" "$conns" "$size" "$depth" "$secs"; times) 2>&1)
        rate=$(echo "$out" | sed -n 's/.*"msgs_per_s":\([0-9]*\).*/\1/p') msgs=$(echo "$out" | sed -n 's/.*"msgs":\([0-9]*\).*/\1/p')
        cpu=$(echo "$out" | tail -1 | awk '{ split($1, u, "m"); split($2, s, "m"); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
        bad=$(echo "$out" | sed -n 's/.*"mismatch":\([0-9]*\),"errors":\([0-9]*\),"lost":\([0-9]*\).*/\1 mismatched, \2 errors, \3 lost/p') ;;
      *) # CPU from bench's own summary: the run only, start-up excluded
        tree=. native=1
        [[ $gen == old ]] && tree=$SOCKKIT_OLD_TREE
        [[ $gen == plain ]] && native=0
        out=$(cd "$tree" && SOCKKIT_NATIVE=$native taskset -c 1 $cli bench "udp://127.0.0.1:$port" \
          -c "$conns" -s "$size" -d "$depth" -t "${secs}s" --json | tail -1)
        read -r rate msgs cpu bad < <(echo "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);
          console.log(r.messages_per_second, r.messages, r.cpu_s, `${r.mismatches}/${r.errors}/${r.lost}`.replace(/(\d+)\/(\d+)\/(\d+)/, "$1 mismatched, $2 errors, $3 lost"))})') ;;
      esac
      [[ $gen == C ]] && cref=$rate
      awk -v r="$round" -v g="$gen" -v q="$rate" -v m="$msgs" -v c="$cpu" -v ref="$cref" -v b="$bad" \
        'BEGIN { printf "round %d %-6s %8d msgs/s (%.3f of C)  %.2f us load CPU per datagram  (%s)\n", r, g, q, q / ref, c * 1e6 / m, b }'
    done
    kill -TERM $pid; wait $pid 2>/dev/null
  done
  ;;
*)
  echo "usage: bench/udp-native.sh echo|cpu|strace|perf|bench ..." >&2
  exit 2
  ;;
esac
