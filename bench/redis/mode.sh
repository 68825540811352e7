# scripts/bench --redis: the Redis rate-limit store against the in-memory one, in the same
# run. Sourced by scripts/bench once its origins are up (it provides serve, wrk, $bb, $bbup,
# $work, $rounds, $duration, median, col, ratio, ms, cpu_ticks, clk_tck); prints its own
# report and goals and exits.
#
# Targets, each balancebeam --threads 1 with --rate-limit gcra, keep-alive wrk -t1 -c64:
#   memory        --max-requests-per-minute 60000000: limited, never reached (the most whose
#                 GCRA interval, 1 us, the Redis scripts can count)
#   redis         the same with --rate-limit-store redis://127.0.0.1:PORT (redis-server on
#                 this machine, --save '' --appendonly no)
#   memory, 429s  --max-requests-per-minute 60: after the first 60, every request refused
#   redis, 429s   the same through Redis (refusals are cached until their Retry-After)
# Figures: req/s, p50, p99, balancebeam's CPU per request, Redis's CPU per decision (its
# CPU time over the scripts it ran) and Redis round trips per request (EVALSHA + EVAL calls,
# from INFO commandstats, over the requests wrk counted).

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

redis_bin=$(command -v redis-server)
redis_cli=$(command -v redis-cli)
start_redis() {
  "$redis_bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --dir "$work" --logfile "" >"$work/$1.log" 2>&1 &
  last_pid=$!
}
serve redis start_redis
redis_port=$port redis_pid=$last_pid

bb_limited() {  # name limit [store flags...]
  local name=$1 limit=$2
  shift 2
  "$bb" -b "127.0.0.1:$port" "${bbup[@]}" --threads 1 --log-level warn --active-health-check-interval 0 \
    --rate-limit gcra --max-requests-per-minute "$limit" "$@" >"$work/$name.log" 2>&1 &
  last_pid=$!
}
start_mem() { bb_limited "$1" 60000000; }
start_redis_store() { bb_limited "$1" 60000000 --rate-limit-store "redis://127.0.0.1:$redis_port"; }
start_memref() { bb_limited "$1" 60; }
start_redisref() { bb_limited "$1" 60 --rate-limit-store "redis://127.0.0.1:$redis_port"; }

rtargets=(mem redis memref redisref)
declare -A rlabel=([mem]="memory" [redis]="redis" [memref]="memory, 429s" [redisref]="redis, 429s")
declare -A rport rpid
serve mem start_mem; rport[mem]=$port rpid[mem]=$last_pid
serve redis_store start_redis_store; rport[redis]=$port rpid[redis]=$last_pid
serve memref start_memref; rport[memref]=$port rpid[memref]=$last_pid
serve redisref start_redisref; rport[redisref]=$port rpid[redisref]=$last_pid
sleep 0.5  # every Redis connection up

script_calls() {  # EVALSHA + EVAL calls Redis has served so far
  "$redis_cli" -p "$redis_port" info commandstats |
    awk -F'[:=,]' '/^cmdstat_(evalsha|eval):/ { s += $3 } END { print s + 0 }'
}

redis_wrk_run() {  # port pid -> "rps p50_us p99_us non2xx cpu_us_per_req redis_cpu_us_per_call calls_per_req"
  local line c0 c1 r0 r1 k0 k1
  c0=$(cpu_ticks "$2") r0=$(cpu_ticks "$redis_pid") k0=$(script_calls)
  line=$(wrk -t1 -c64 -d"${duration}s" -s bench/proxy/report.lua "http://127.0.0.1:$1/" 2>&1 | grep '^BENCH' || true)
  c1=$(cpu_ticks "$2") r1=$(cpu_ticks "$redis_pid") k1=$(script_calls)
  [ -n "$line" ] || { echo "0 0 0 0 0 0 0"; return; }
  awk -v ticks=$((c1 - c0)) -v rticks=$((r1 - r0)) -v calls=$((k1 - k0)) -v hz="$clk_tck" '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      n = v["requests"]
      printf "%.0f %d %d %d %.1f %.2f %.3f\n", n / v["seconds"], v["p50_us"], v["p99_us"], v["non2xx"],
        (n > 0 ? ticks * 1e6 / hz / n : 0), (calls > 0 ? rticks * 1e6 / hz / calls : 0), (n > 0 ? calls / n : 0) }' <<<"$line"
}

echo "warming up ..."
for t in "${rtargets[@]}"; do wrk -t1 -c64 -d1s "http://127.0.0.1:${rport[$t]}/" >/dev/null 2>&1 || true; done
mkdir -p "$work/rres"
for r in $(seq "$rounds"); do
  order=()
  for i in "${!rtargets[@]}"; do order+=("${rtargets[$(((i + r - 1) % ${#rtargets[@]}))]}"); done
  echo "round $r/$rounds: ${order[*]}"
  for t in "${order[@]}"; do redis_wrk_run "${rport[$t]}" "${rpid[$t]}" >>"$work/rres/$t"; done
done

declare -A rrps rp50 rp99 rnon rcpu rredis rcalls
for t in "${rtargets[@]}"; do
  f=$work/rres/$t
  rrps[$t]=$(col 1 "$f" | median) rp50[$t]=$(col 2 "$f" | median) rp99[$t]=$(col 3 "$f" | median)
  rnon[$t]=$(col 4 "$f" | median) rcpu[$t]=$(col 5 "$f" | median) rredis[$t]=$(col 6 "$f" | median)
  rcalls[$t]=$(col 7 "$f" | median)
done

echo
echo "== balancebeam benchmark: the Redis rate-limit store"
echo "command:  $command_line   (rounds $rounds x ${duration}s per target)"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), nproc $(nproc), kernel $(uname -r)"
echo "versions: $("$redis_bin" --version | awk '{ print $1, $2, $3 }'), $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'), balancebeam $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ -z "$(git status --porcelain -- include apps 2>/dev/null)" ] || echo ' with uncommitted changes') (Release)"
echo "load avg: $load_before at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (anything else running skews the figures)"
echo "layout:   loopback; 3 nginx origins; balancebeam --threads 1 --rate-limit gcra; redis-server on the same 2 cores"
echo
echo "== keep-alive clients: wrk -t1 -c64 -d${duration}s, median of $rounds rounds"
printf '%-16s %10s %9s %9s %10s %12s %18s %18s\n' store req/s "p50 ms" "p99 ms" "429s/run" "CPU us/req" "Redis CPU us/call" "round trips/req"
for t in "${rtargets[@]}"; do
  printf '%-16s %10.0f %9s %9s %10s %12s %18s %18s\n' "${rlabel[$t]}" "${rrps[$t]}" "$(ms "${rp50[$t]}")" \
    "$(ms "${rp99[$t]}")" "${rnon[$t]}" "${rcpu[$t]}" "${rredis[$t]}" "${rcalls[$t]}"
done
echo
echo "== goals (issue 16)"
rgoal() {
  local ok
  ok=$(awk "BEGIN { print ($3) ? \"met   \" : \"missed\" }")
  printf '[%s] %-58s %s\n' "$ok" "$1" "$2"
}
r=$(ratio "${rrps[redis]}" "${rrps[mem]}")
rgoal "limit never reached: redis req/s >= 0.7x memory" "${r}x" "$r >= 0.7"
rgoal "limit never reached: redis p99 <= memory p99 + 1 ms" "$(ms "${rp99[redis]}") vs $(ms "${rp99[mem]}") ms" \
  "${rp99[redis]} <= ${rp99[mem]} + 1000"
r=$(ratio "${rrps[redisref]}" "${rrps[memref]}")
rgoal "most refused: redis req/s >= 0.7x memory" "${r}x" "$r >= 0.7"
rgoal "most refused: redis p99 <= memory p99 + 1 ms" "$(ms "${rp99[redisref]}") vs $(ms "${rp99[memref]}") ms" \
  "${rp99[redisref]} <= ${rp99[memref]} + 1000"
exit 0
