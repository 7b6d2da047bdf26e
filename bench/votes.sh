#!/usr/bin/env bash
# `synod bench votes` on a 5-node loopback cluster (issue 6, item 10).
#
#   bench/votes.sh            # plaintext
#   TLS=1 bench/votes.sh      # mTLS: each participant votes with its node certificate
#
# Builds synod (release), starts `synod dev cluster` on 127.0.0.1 in a
# fresh directory, runs the latency and the throughput measurement RUNS
# times each, reads every node's storage metrics (/metrics) and CPU time
# around every run, prints a summary, then stops the cluster and deletes
# its directory.
# Knobs (environment):
RUNS=${RUNS:-3}                 # runs of each measurement (1-20)
NODES=${NODES:-5}               # nodes of the cluster (1-9); participants n1..nN
BASE_PORT=${BASE_PORT:-27301}   # node i: gRPC base+i-1, HTTP base+100+i-1
TLS=${TLS:-0}                   # 1: mTLS cluster
ROUNDS=${ROUNDS:-500}           # latency rounds per run
IN_FLIGHT=${IN_FLIGHT:-100}     # proposals open at once in the throughput runs
DECISIONS=${DECISIONS:-2000}    # decisions per throughput run
MAX_TIME=${MAX_TIME:-60s}       # each run stops after this long
BENCH_ARGS=${BENCH_ARGS:-}      # more flags for `synod bench votes` (word-split)
# SYNOD_SNAPSHOT_EVERY and other SYNOD_* node settings pass through to the nodes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[votes %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 20)) || die "RUNS must be 1-20"
[[ $NODES =~ ^[0-9]+$ ]] && ((NODES >= 1 && NODES <= 9)) || die "NODES must be 1-9"
command -v curl >/dev/null || die "curl is needed to read /metrics"

if [ -n "${SYNOD_BIN:-}" ]; then
  SYNOD=$SYNOD_BIN
else
  log "building synod (cargo build --release -p synod-cli)"
  (cd "$ROOT" && cargo build --release -q -p synod-cli)
  SYNOD=${CARGO_TARGET_DIR:-$ROOT/target}/release/synod
fi
[ -x "$SYNOD" ] || die "no synod binary at $SYNOD"

for i in $(seq "$NODES"); do
  for port in $((BASE_PORT + i - 1)) $((BASE_PORT + 100 + i - 1)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port on 127.0.0.1 is in use (set BASE_PORT)"
    fi
  done
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/synod-bench-votes.XXXXXX")
DATA=$WORK/cluster
CLUSTER_PID=""
NODE_PIDS=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CLUSTER_PID" ] && kill -0 "$CLUSTER_PID" 2>/dev/null; then
    log "stopping the cluster"
    kill -TERM "$CLUSTER_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CLUSTER_PID" 2>/dev/null || true
  fi
  for p in $NODE_PIDS; do kill -KILL "$p" 2>/dev/null || true; done
  if ((rc != 0)) && [ -d "$DATA" ]; then
    local keep
    keep=$(mktemp -d "${TMPDIR:-/tmp}/synod-bench-votes-logs.XXXXXX")
    cp "$DATA"/*.log "$WORK"/*.out "$keep"/ 2>/dev/null || true
    log "failed; node logs kept in $keep"
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

insecure=(--insecure)
participant_certs=()
if [ "$TLS" = 1 ]; then
  insecure=()
  participant_certs=(--participant-certs "$DATA/certs")
fi
: >"$WORK/cluster.out"
log "starting a $NODES-node dev cluster (TLS $([ "$TLS" = 1 ] && echo on || echo off)) in $DATA"
env -u SYNOD_CONFIG SYNOD_DEV_DIR="$DATA" "$SYNOD" dev cluster --nodes "$NODES" \
  --data-dir "$DATA" --base-port "$BASE_PORT" "${insecure[@]}" \
  </dev/null >>"$WORK/cluster.out" 2>&1 &
CLUSTER_PID=$!
for _ in $(seq 600); do
  grep -q 'Ctrl-C stops the cluster' "$WORK/cluster.out" && break
  kill -0 "$CLUSTER_PID" 2>/dev/null || die "synod dev cluster exited: $(cat "$WORK/cluster.out")"
  sleep 0.1
done
grep -q 'Ctrl-C stops the cluster' "$WORK/cluster.out" || die "no leader within 60 s"
NODE_PIDS=$(pgrep -P "$CLUSTER_PID" | tr '\n' ' ')
grep -E '^  n[0-9]' "$WORK/cluster.out" >&2

participants=$(seq -s, -f 'n%g' 1 "$NODES")
export SYNOD_DEV_DIR=$DATA

# The value of metric $2 in the /metrics text of node $1 (summed over labels).
metric() {
  curl -sf "http://127.0.0.1:$((BASE_PORT + 100 + $1 - 1))/metrics" |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.6f\n", s }'
}
METRICS="synod_fsync_seconds_count synod_fsync_seconds_sum synod_persisted_entries_total synod_vote_decisions_total"
snapshot() { # node -> "count sum entries decisions"
  local out="" m
  for m in $METRICS; do out+="$(metric "$1" "$m") "; done
  echo "$out"
}

# CPU time (user + system) of the nodes, in ms.
TICK_MS=$((1000 / $(getconf CLK_TCK)))
node_cpu_ms() {
  local sum=0 p t
  for p in $NODE_PIDS; do
    t=$(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')
    sum=$((sum + t))
  done
  echo $((sum * TICK_MS))
}
timed=()
if [ -x /usr/bin/time ]; then timed=(/usr/bin/time -o "$WORK/client_cpu.txt" -f '%U %S'); fi

RESULTS=$WORK/results.txt
: >"$RESULTS"
declare -A before=()
for run in $(seq "$RUNS"); do
  for mode in latency throughput; do
    before=()
    for i in $(seq "$NODES"); do before[$i]=$(snapshot "$i"); done
    cpu0=$(node_cpu_ms)
    log "run $run: $mode (load average $(cut -d' ' -f1 /proc/loadavg))"
    # shellcheck disable=SC2086
    out=$("${timed[@]}" "$SYNOD" bench votes --mode "$mode" --participants "$participants" \
      --rounds "$ROUNDS" --in-flight "$IN_FLIGHT" --decisions "$DECISIONS" --max-time "$MAX_TIME" \
      "${participant_certs[@]}" $BENCH_ARGS 2>&1) || die "synod bench votes failed: $out"
    grep -v -e '^RESULT ' -e '^LEADER ' <<<"$out" >&2 || true
    cpu_nodes=$(($(node_cpu_ms) - cpu0))
    cpu_client=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$WORK/client_cpu.txt" 2>/dev/null || echo 0)
    leader=$(sed -n 's/^LEADER id=\([0-9]*\) .*/\1/p' <<<"$out")
    [ -n "$leader" ] || die "no LEADER line in: $out"
    # Storage work per decision: the leader's, and the followers' mean.
    for i in $(seq "$NODES"); do echo "$i ${before[$i]} $(snapshot "$i")"; done >"$WORK/metrics.txt"
    storage=$(awk -v leader="$leader" -v cn="$cpu_nodes" -v cc="$cpu_client" '
      { c = $6 - $2; s = $7 - $3; e = $8 - $4; d = $9 - $5 }
      $1 == leader { lc = c; ls = s; le = e; ld = d; next }
      { fc += c; fs += s }
      END {
        printf "leader_fsyncs=%d leader_fsync_mean_ms=%.3f decisions=%d entries_per_decision=%.2f fsyncs_per_decision=%.2f follower_fsync_mean_ms=%.3f",
          lc, (lc > 0 ? ls * 1000 / lc : 0), ld, (ld > 0 ? le / ld : 0), (ld > 0 ? lc / ld : 0), (fc > 0 ? fs * 1000 / fc : 0)
        printf " nodes_cpu_ms=%d client_cpu_ms=%d nodes_cpu_us_per_decision=%.0f client_cpu_us_per_decision=%.0f",
          cn, cc, (ld > 0 ? cn * 1000 / ld : 0), (ld > 0 ? cc * 1000 / ld : 0)
      }' "$WORK/metrics.txt")
    echo "$(grep '^RESULT ' <<<"$out") run=$run $storage" | tee -a "$RESULTS" >&2
  done
done

awk '
function kv(line, key,   n, parts, i, p) {
  n = split(line, parts, " ")
  for (i = 1; i <= n; i++) { split(parts[i], p, "="); if (p[1] == key) return p[2] }
  return ""
}
BEGIN {
  printf "\n%-10s %3s %6s %9s %8s %8s %8s %8s %9s %8s %9s %9s %9s %9s\n", "mode", "run", "n", "dec/s", "p50 ms", "p90 ms", "p99 ms",
    "max ms", "srv p50", "fsync/d", "entries/f", "fsync ms", "nodes us", "client us"
}
/^RESULT / {
  m = kv($0, "mode"); e = kv($0, "entries_per_decision"); f = kv($0, "fsyncs_per_decision")
  printf "%-10s %3s %6s %9.0f %8.2f %8.2f %8.2f %8.2f %9s %8s %9.1f %9s %9s %9s\n", m, kv($0, "run"), kv($0, "n"),
    kv($0, "decisions_per_s"), kv($0, "p50_ms"), kv($0, "p90_ms"), kv($0, "p99_ms"), kv($0, "max_ms"),
    kv($0, "server_p50_ms"), f, (f > 0 ? e / f : 0), kv($0, "leader_fsync_mean_ms"),
    kv($0, "nodes_cpu_us_per_decision"), kv($0, "client_cpu_us_per_decision")
  if (m == "latency") {
    if (kv($0, "p50_ms") + 0 > p50max) p50max = kv($0, "p50_ms") + 0
    if (kv($0, "p99_ms") + 0 > p99max) p99max = kv($0, "p99_ms") + 0
  }
}
END {
  printf "\n(srv p50: the leader'"'"'s duration_ms, proposal -> deciding vote stamped; fsync/d: leader fsyncs per decision;\n"
  printf " entries/f: log entries per leader fsync; fsync ms: the leader'"'"'s mean persist time;\n"
  printf " nodes us / client us: CPU time per decision of the five nodes together / of the benchmark client)\n"
  printf "target latency p50 < 5 ms: worst run %.2f ms  %s\n", p50max, (p50max < 5 ? "MET" : "MISSED")
  printf "target latency p99 < 20 ms: worst run %.2f ms  %s\n", p99max, (p99max < 20 ? "MET" : "MISSED")
}' "$RESULTS"
