#!/usr/bin/env bash
# synod vs etcd, side by side, on one machine, everything on 127.0.0.1.
#
#   bench/vs-etcd.sh
#
# Installs Debian's etcd-server and protobuf-compiler if missing, builds
# synod and the load generator (bench/loadgen, outside the workspace),
# starts a 3-member etcd and a 3-node synod (both fsync every commit, both
# plaintext), drives both with the same load generator, measures failover
# and idle memory, prints a table with synod/etcd ratios and stops
# everything it started. See bench/README.md for the knobs below.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OPS_1=${OPS_1:-20000}             # operations of a 1-client run, at most
OPS_N=${OPS_N:-300000}            # operations of a many-client run, at most
MAX_SECS=${MAX_SECS:-10}          # a run stops issuing operations after this long
CLIENTS_N=${CLIENTS_N:-100}       # the "many" in many clients
CONNS_N=${CONNS_N:-}              # connections shared by the many clients (default: one each)
ETCD_TARGET=${ETCD_TARGET:-all}   # etcd client endpoints: all | leader
FAILOVER_ROUNDS=${FAILOVER_ROUNDS:-5}
LOAD=${LOAD:-1}                   # 0: skip the throughput/latency runs
FAILOVER_PROBE=${FAILOVER_PROBE:-race}  # race | client (see loadgen failover --help)
IDLE_SECS=${IDLE_SECS:-10}
SYSTEMS=${SYSTEMS:-"etcd synod"}
ELECTION_MS=${ELECTION_MS:-}     # both systems' election timeout (default: each one's own, 1000 ms)
SYNOD_ARGS=${SYNOD_ARGS:-}       # extra flags for `synod node start` (word-split)
ETCD_CLIENT_BASE=${ETCD_CLIENT_BASE:-23790}   # member i: client port base+i, peer port base+100+i
SYNOD_BASE=${SYNOD_BASE:-27000}               # node i: gRPC port base+i, HTTP port base+100+i

log() { printf '[vs-etcd %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- install
need_pkgs=()
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v protoc >/dev/null 2>&1 || need_pkgs+=(protobuf-compiler)
if ((${#need_pkgs[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "installing ${need_pkgs[*]} (apt-get)"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_pkgs[@]}" >&2
fi
ETCD=$(command -v etcd)
log "$("$ETCD" --version | head -1)"

# ---------------------------------------------------------------- build
if [ -n "${SYNOD_BIN:-}" ]; then
  SYNOD=$SYNOD_BIN
else
  log "building synod (cargo build --release -p synod-cli)"
  (cd "$ROOT" && cargo build --release -q -p synod-cli)
  SYNOD=${CARGO_TARGET_DIR:-$ROOT/target}/release/synod
fi
if [ -n "${LOADGEN_BIN:-}" ]; then
  LOADGEN=$LOADGEN_BIN
else
  log "building the load generator (bench/loadgen, release)"
  cargo build --release -q --manifest-path "$ROOT/bench/loadgen/Cargo.toml" \
    --target-dir "$ROOT/bench/loadgen/target"
  LOADGEN=$ROOT/bench/loadgen/target/release/loadgen
fi
[ -x "$SYNOD" ] || die "no synod binary at $SYNOD"
[ -x "$LOADGEN" ] || die "no loadgen binary at $LOADGEN"

# ---------------------------------------------------------------- processes
WORK=$(mktemp -d "${TMPDIR:-/tmp}/synod-vs-etcd.XXXXXX")
mkdir -p "$WORK/logs"
RESULTS=$WORK/results.txt
: >"$RESULTS"
declare -A PID=()   # "etcd1".."etcd3", "synod1".."synod3"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pids=()
  for name in "${!PID[@]}"; do
    kill -0 "${PID[$name]}" 2>/dev/null && pids+=("${PID[$name]}")
  done
  if ((${#pids[@]})); then
    log "stopping ${#pids[@]} processes"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      local alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  fi
  rm -rf "$WORK/etcd" "$WORK/synod"
  log "logs and results kept in $WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

etcd_client() { echo "127.0.0.1:$((ETCD_CLIENT_BASE + $1))"; }
etcd_peer() { echo "127.0.0.1:$((ETCD_CLIENT_BASE + 100 + $1))"; }
synod_grpc() { echo "127.0.0.1:$((SYNOD_BASE + $1))"; }
synod_http() { echo "127.0.0.1:$((SYNOD_BASE + 100 + $1))"; }
ETCD_EPS=$(etcd_client 1),$(etcd_client 2),$(etcd_client 3)
SYNOD_EPS=$(synod_grpc 1),$(synod_grpc 2),$(synod_grpc 3)
ETCD_CLUSTER=e1=http://$(etcd_peer 1),e2=http://$(etcd_peer 2),e3=http://$(etcd_peer 3)
SYNOD_PEERS=n1=$(synod_grpc 1),n2=$(synod_grpc 2),n3=$(synod_grpc 3)

for port in $(seq $((ETCD_CLIENT_BASE + 1)) $((ETCD_CLIENT_BASE + 3))) \
  $(seq $((ETCD_CLIENT_BASE + 101)) $((ETCD_CLIENT_BASE + 103))) \
  $(seq $((SYNOD_BASE + 1)) $((SYNOD_BASE + 3))) $(seq $((SYNOD_BASE + 101)) $((SYNOD_BASE + 103))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is in use (set ETCD_CLIENT_BASE / SYNOD_BASE)"
  fi
done

# etcd fsyncs its WAL on every commit by default (--unsafe-no-fsync is off).
start_etcd() {
  local i=$1 state=${2:-new} timing=()
  mkdir -p "$WORK/etcd"
  if [ -n "$ELECTION_MS" ]; then
    timing=(--election-timeout "$ELECTION_MS" --heartbeat-interval $((ELECTION_MS / 10)))
  fi
  "$ETCD" "${timing[@]}" --name "e$i" --data-dir "$WORK/etcd/e$i" \
    --listen-client-urls "http://$(etcd_client "$i")" --advertise-client-urls "http://$(etcd_client "$i")" \
    --listen-peer-urls "http://$(etcd_peer "$i")" --initial-advertise-peer-urls "http://$(etcd_peer "$i")" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state "$state" \
    --initial-cluster-token synod-vs-etcd \
    </dev/null >>"$WORK/logs/etcd$i.log" 2>&1 &
  PID[etcd$i]=$!
  disown "$!" # no job notices when the failover test kills it
}

# synod fsyncs each Raft group commit (synod-store); no TLS flags: plaintext.
start_synod() {
  local i=$1 config=()
  mkdir -p "$WORK/synod"
  if [ -n "$ELECTION_MS" ]; then
    printf '[consensus.protocol]\nelection_timeout = "%sms"\nheartbeat_interval = "%sms"\n' \
      "$ELECTION_MS" $((ELECTION_MS / 10)) >"$WORK/synod/config.toml"
    config=(--config "$WORK/synod/config.toml")
  fi
  env -u SYNOD_CONFIG -u SYNOD_TLS_CERT -u SYNOD_TLS_KEY -u SYNOD_TLS_CA -u SYNOD_PEERS \
    "$SYNOD" node start "${config[@]}" --node-id "n$i" \
    --bind-address "$(synod_grpc "$i")" --http-address "$(synod_http "$i")" \
    --peers "$SYNOD_PEERS" --data-dir "$WORK/synod/n$i" $SYNOD_ARGS \
    </dev/null >>"$WORK/logs/synod$i.log" 2>&1 &
  PID[synod$i]=$!
  disown "$!"
}

endpoint_of() { # system i
  if [ "$1" = etcd ]; then etcd_client "$2"; else synod_grpc "$2"; fi
}

# Every member answers and knows a leader; bounded.
wait_ready() { # system
  local sys=$1
  for _ in $(seq 120); do
    local ok=1
    for i in 1 2 3; do
      kill -0 "${PID[$sys$i]}" 2>/dev/null || die "$sys member $i exited; see $WORK/logs/$sys$i.log"
      "$LOADGEN" ready "$sys" --endpoint "$(endpoint_of "$sys" "$i")" >/dev/null 2>&1 || { ok=0; break; }
    done
    ((ok)) && return 0
    sleep 0.5
  done
  die "$sys not ready within 60 s; see $WORK/logs"
}

# CPU time (user + system) of a system's three members, in clock ticks.
cpu_ticks() { # system
  local sum=0 i t
  for i in 1 2 3; do
    t=$(sed 's/^.*) //' "/proc/${PID[$1$i]}/stat" | awk '{print $12 + $13}')
    sum=$((sum + t))
  done
  echo "$sum"
}
TICK_MS=$((1000 / $(getconf CLK_TCK)))

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

record_rss() { # phase
  for sys in $SYSTEMS; do
    for i in 1 2 3; do
      local kb
      kb=$(rss_kb "${PID[$sys$i]}")
      echo "RSS system=$sys member=$i phase=$1 kb=$kb" | tee -a "$RESULTS"
    done
  done
}

eps_for() { # system
  if [ "$1" = synod ]; then echo "$SYNOD_EPS"; return; fi
  if [ "$ETCD_TARGET" = leader ]; then "$LOADGEN" leader etcd --endpoints "$ETCD_EPS"; else echo "$ETCD_EPS"; fi
}

declare -A KEYS=()  # keys written by each write run, "system label" -> count

run_load() { # system mode clients ops offset label [keys-of-write-run-label]
  local sys=$1 mode=$2 clients=$3 ops=$4 offset=$5 label=$6 from=${7:-} extra=() out
  if [ "$clients" -gt 1 ] && [ -n "$CONNS_N" ]; then extra+=(--conns "$CONNS_N"); fi
  if [ -n "$from" ]; then extra+=(--key-space "${KEYS[$sys $from]:-$ops}"); fi
  log "$sys: $label (at most $ops ops or ${MAX_SECS}s; load average $(cut -d' ' -f1 /proc/loadavg))"
  local cpu0
  cpu0=$(cpu_ticks "$sys")
  out=$("$LOADGEN" "$sys" --endpoints "$(eps_for "$sys")" --mode "$mode" --clients "$clients" \
    "${extra[@]}" --ops "$ops" --max-secs "$MAX_SECS" --key-offset "$offset" --label "$label") ||
    log "$sys $label reported errors"
  local server_ms=$((($(cpu_ticks "$sys") - cpu0) * TICK_MS))
  out=$(sed "s/^RESULT .*/& server_cpu_ms=$server_ms/" <<<"$out")
  printf '%s\n' "$out" >&2
  grep '^RESULT ' <<<"$out" >>"$RESULTS" || true
  KEYS[$sys $label]=$(sed -n 's/^RESULT .* keys=\([0-9]*\) .*/\1/p' <<<"$out")
}

# ---------------------------------------------------------------- run
log "work dir $WORK; $(nproc) cores: $(lscpu | sed -n 's/^Model name: *//p')"
for sys in $SYSTEMS; do
  for i in 1 2 3; do "start_$sys" "$i"; done
done
for sys in $SYSTEMS; do wait_ready "$sys"; log "$sys ready"; done

log "idle for ${IDLE_SECS}s, then resident memory"
sleep "$IDLE_SECS"
record_rss fresh

# Each scenario runs on both systems back to back, so that background load
# on the machine hits both alike. Reads read back the keys of a write run.
if [ "$LOAD" != 0 ]; then
  for sys in $SYSTEMS; do run_load "$sys" write 1 "$OPS_1" 0 write-1; done
  for sys in $SYSTEMS; do run_load "$sys" write "$CLIENTS_N" "$OPS_N" 10000000 "write-$CLIENTS_N"; done
  for sys in $SYSTEMS; do run_load "$sys" read 1 "$OPS_1" 0 read-1 write-1; done
  for sys in $SYSTEMS; do run_load "$sys" read "$CLIENTS_N" "$OPS_N" 10000000 "read-$CLIENTS_N" "write-$CLIENTS_N"; done

  log "idle for ${IDLE_SECS}s after the load, then resident memory"
  sleep "$IDLE_SECS"
  record_rss loaded
fi

# Leader kill to the first acknowledged write: kill -9 the leader, probe
# with writes, restart the killed member, wait until all are ready again.
for sys in $SYSTEMS; do
  for round in $(seq "$FAILOVER_ROUNDS"); do
    pids=""
    for i in 1 2 3; do pids+="${pids:+,}$(endpoint_of "$sys" "$i")=${PID[$sys$i]}"; done
    all_eps=$(endpoint_of "$sys" 1),$(endpoint_of "$sys" 2),$(endpoint_of "$sys" 3)
    out=$("$LOADGEN" failover "$sys" --endpoints "$all_eps" --pids "$pids" \
      --probe "$FAILOVER_PROBE" --key-offset $((0xF0000000 + round * 100000))) || log "$sys failover round $round failed"
    echo "$out round=$round" | tee -a "$RESULTS" >&2
    killed=$(sed -n 's/.* killed=\([^ ]*\) .*/\1/p' <<<"$out")
    for i in 1 2 3; do
      if [ "$(endpoint_of "$sys" "$i")" = "$killed" ]; then
        for _ in $(seq 50); do kill -0 "${PID[$sys$i]}" 2>/dev/null || break; sleep 0.1; done
        if [ "$sys" = etcd ]; then start_etcd "$i" existing; else start_synod "$i"; fi
      fi
    done
    wait_ready "$sys"
    sleep 2 # let the restarted member catch up before the next kill
  done
done

# ---------------------------------------------------------------- report
awk -v systems="$SYSTEMS" '
function kv(line, key,   n, parts, i, p) {
  n = split(line, parts, " ")
  for (i = 1; i <= n; i++) { split(parts[i], p, "="); if (p[1] == key) return p[2] }
  return ""
}
/^RESULT / {
  s = kv($0, "system"); l = kv($0, "label")
  tput[s, l] = kv($0, "ops_per_s"); p50[s, l] = kv($0, "p50_ms"); p99[s, l] = kv($0, "p99_ms")
  err[s, l] = kv($0, "errors"); okn = kv($0, "ok")
  if (okn > 0) { scpu[s, l] = kv($0, "server_cpu_ms") * 1000 / okn; lcpu[s, l] = kv($0, "loadgen_cpu_ms") * 1000 / okn }
  if (!(l in seen)) { seen[l] = 1; labels[++nl] = l }
}
/^RSS / {
  s = kv($0, "system"); ph = kv($0, "phase"); mb = kv($0, "kb") / 1024
  if (mb > rssmax[s, ph]) rssmax[s, ph] = mb
  rss[s, ph] = rss[s, ph] sprintf("%s%.1f", (rss[s, ph] == "" ? "" : " / "), mb)
}
/^FAILOVER / {
  s = kv($0, "system"); ms = kv($0, "ms")
  fo[s] = fo[s] (fo[s] == "" ? "" : " ") ms
  if (ms == "timeout") fomax[s] = 1e9; else if (ms + 0 > fomax[s]) fomax[s] = ms + 0
}
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
END {
  printf "\n%-10s | %-28s | %-28s | %-22s\n", "run", "etcd ops/s  p50 ms  p99 ms", "synod ops/s  p50 ms  p99 ms", "synod/etcd tput p50 p99"
  for (i = 1; i <= nl; i++) {
    l = labels[i]
    printf "%-10s | %9.0f %8.2f %8.2f%s | %9.0f %8.2f %8.2f%s | %5s %5s %5s\n", l,
      tput["etcd", l], p50["etcd", l], p99["etcd", l], (err["etcd", l] > 0 ? "!" : " "),
      tput["synod", l], p50["synod", l], p99["synod", l], (err["synod", l] > 0 ? "!" : " "),
      ratio(tput["synod", l], tput["etcd", l]), ratio(p50["synod", l], p50["etcd", l]), ratio(p99["synod", l], p99["etcd", l])
  }
  print "(! = the run had errors; see the log above)"
  printf "\nCPU per operation (us): all three members together | the load generator\n"
  for (i = 1; i <= nl; i++) {
    l = labels[i]
    printf "%-10s | etcd %6.0f | %5.0f    synod %6.0f | %5.0f\n", l, scpu["etcd", l], lcpu["etcd", l], scpu["synod", l], lcpu["synod", l]
  }
  for (s in fo) printf "leader kill -> first acknowledged write, %s (ms): %s; max %s\n", s, fo[s], (fomax[s] >= 1e9 ? "timeout" : fomax[s])
  n = split(systems, ss, " ")
  for (j = 1; j <= n; j++) {
    s = ss[j]
    printf "idle RSS MB, %s: fresh %s%s\n", s, rss[s, "fresh"], (rss[s, "loaded"] == "" ? "" : "; after load " rss[s, "loaded"])
  }
  print ""
  # The targets of the issue.
  hi = ""; for (i = 1; i <= nl; i++) if (labels[i] ~ /^write-/ && labels[i] != "write-1") hi = labels[i]
  if (hi != "" && tput["etcd", hi] > 0) {
    r = tput["synod", hi] / tput["etcd", hi]
    printf "target %s throughput >= 2x etcd: %.2fx  %s\n", hi, r, (r >= 2 ? "MET" : "MISSED")
  }
  if (p50["etcd", "write-1"] > 0)
    printf "target write-1 latency <= etcd: p50 %.2f vs %.2f ms, p99 %.2f vs %.2f ms  %s\n",
      p50["synod", "write-1"], p50["etcd", "write-1"], p99["synod", "write-1"], p99["etcd", "write-1"],
      (p50["synod", "write-1"] <= p50["etcd", "write-1"] && p99["synod", "write-1"] <= p99["etcd", "write-1"] ? "MET" : "MISSED")
  if (("synod" in fomax))
    printf "target leader kill -> write < 1 s: max %s ms  %s\n", (fomax["synod"] >= 1e9 ? "timeout" : fomax["synod"]), (fomax["synod"] < 1000 ? "MET" : "MISSED")
  if (rssmax["synod", "fresh"] > 0)
    printf "target idle RSS < 30 MB per node: max %.1f MB fresh%s  %s\n",
      rssmax["synod", "fresh"], (rssmax["synod", "loaded"] > 0 ? sprintf(", %.1f MB after load", rssmax["synod", "loaded"]) : ""), (rssmax["synod", "fresh"] < 30 ? "MET" : "MISSED") " (judged on the fresh, idle cluster)"
}' "$RESULTS" | tee "$WORK/summary.txt"
