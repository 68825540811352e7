# Shared by scripts/demo, scripts/bench and scripts/soak (sourced, not run): background
# processes that are stopped on exit, a work directory that is removed on exit, free
# loopback ports from the kernel, and waiting until a port accepts connections.
#
#   source scripts/lib.sh
#   bb_work_dir soak            # sets $work to a fresh /tmp/bb-soak.XXXXXX
#   some-server ... &  bb_track $!
#   bb_wait_port "$port" "$pid" || exit 1
#
# Everything tracked is sent SIGTERM on exit, then SIGKILL if it is still there 5 s later.

bb_pids=()
work=""

# Records a background process to stop on exit.
bb_track() { bb_pids+=("$1"); }

# Creates the work directory $work, named after the script.
bb_work_dir() { work=$(mktemp -d "/tmp/bb-$1.XXXXXX"); }

# Stops one tracked process (TERM, then KILL after 5 s) and forgets it.
bb_stop_pid() {
  local p=$1 i keep=()
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  for i in "${bb_pids[@]}"; do [ "$i" != "$p" ] && keep+=("$i"); done
  bb_pids=("${keep[@]}")
}

bb_cleanup() {
  local p i alive
  for p in "${bb_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0
    for p in "${bb_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${bb_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$work" ] && rm -rf "$work"
}
trap bb_cleanup EXIT
trap 'exit 130' INT TERM

# A port the kernel says is free on 127.0.0.1 (another program may still take it before
# we bind: callers that start servers retry on another).
bb_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    shuf -i 20000-60000 -n 1
}

# 0 once something accepts on 127.0.0.1:PORT; 1 if PID (when given) died first or 10 s
# passed. Opens and closes a connection without sending a byte (a stray newline would be
# answered 400 and logged).
bb_wait_port() {
  local port=$1 pid=${2:-} i
  for i in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}
