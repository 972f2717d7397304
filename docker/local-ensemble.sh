#!/usr/bin/env bash
# A 3-node (or ZK_NODES-node) Apache ZooKeeper 3.8 ensemble from the Debian jars (/usr/share/java) on loopback,
# no docker.
#
#   local-ensemble.sh start          pick free ports, start the nodes, wait for 1 leader + all others following,
#                                    print the connect string
#   local-ensemble.sh status         pid / ruok / mode of each node (exit 0 only when 1 leader + all others follow)
#   local-ensemble.sh stop           stop the nodes this state dir started (PID file + command-line check)
#   local-ensemble.sh connect        print the connect string
# Used by the test matrix (zk-matrix) for faults:
#   local-ensemble.sh leader         print the node number (1-N) whose srvr says Mode: leader
#   local-ensemble.sh follower       print the number of one follower
#   local-ensemble.sh node-of PORT   print the node number serving client port PORT
#   local-ensemble.sh kill N         SIGKILL node N
#   local-ensemble.sh start-node N   start node N again (keeps its data)
#   local-ensemble.sh wait [quorum]  wait until 1 leader + all others follow again (quorum: a leader and enough
#                                    followers for a majority)
#
# Environment: ZK_NODES [3] how many nodes (2-9; an odd number is what ZooKeeper advises), read at start and kept;
# SHEPHERD_ENSEMBLE_DIR [/tmp/shepherd-ensemble-$UID] state dir (ports, node1..N/{zoo.cfg,data,log,zk.pid});
# ZK_TICK [1000] tickTime ms; ZK_HEAP [192m]; ZK_START_TIMEOUT [60] seconds.
# Shepherd nodes: ZK_SERVER=<path to zk-server> with ZK_SHEPHERD_NODES="1 2 3" (all ours) or e.g. "1" (a mixed
# ensemble: node 1 ours, 2 and 3 Apache's). Read at start and kept in the state dir for later commands.
# ZK_EXTRA_CONFIG: space-separated key=value lines appended to every zoo.cfg (e.g. extendedTypesEnabled=true);
# ZK_JAVA_OPTS: extra JVM options for Apache nodes (e.g. -Dznode.container.checkIntervalMs=100). Both kept like above.
# Peer links through fault proxies (TestSupport's PeerPartitions): ZK_PORTS="c1 q1 e1 c2 q2 e2 …" (three per node)
# fixes the ports instead of picking free ones, and ZK_SERVERS_N (N=1..nodes, space-separated server.M=host:q:e
# lines) replaces node N's server lines, so it can keep its own line and reach the others at proxy addresses.
set -euo pipefail

ROOT="${SHEPHERD_ENSEMBLE_DIR:-/tmp/shepherd-ensemble-$(id -u)}"
TICK="${ZK_TICK:-1000}"
HEAP="${ZK_HEAP:-192m}"
START_TIMEOUT="${ZK_START_TIMEOUT:-60}"
J=/usr/share/java
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-log4j12.jar:$J/log4j-1.2.jar"

log() { echo "local-ensemble: $*" >&2; }
die() { log "$*"; exit 1; }

fourlw() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "%s" "$1" >&3 && cat <&3' "$1" "$2" 2>/dev/null || true
}
mode_of() { fourlw "$1" srvr | sed -n 's/^Mode: //p'; }

# Three free loopback ports per node (client, quorum, election; $1 nodes), below the kernel's ephemeral range
# (32768-): a port from that range could be given to some outgoing connection before its node binds it (or
# re-binds it after a restart). From 21384 up: TestSupport's own choices stay below, so a test never takes the
# port of a node that is down for a restart.
free_ports() {
  if command -v python3 > /dev/null; then
    python3 - "$1" <<'PY'
import random, socket, sys
socks = []
while len(socks) < 3 * int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(21384, 32768)))
        socks.append(s)
    except OSError:
        s.close()
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
  else # bash fallback: probe random high ports with /dev/tcp (a refused connect = free)
    local out=() p
    while ((${#out[@]} < 3 * $1)); do
      p=$((21384 + RANDOM % 11384))
      if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null && [[ " ${out[*]} " != *" $p "* ]]; then out+=("$p"); fi
    done
    echo "${out[*]}"
  fi
}

ports() { [[ -f $ROOT/ports ]] || die "no ensemble state in $ROOT (run start)"; cat "$ROOT/ports"; }
# The node numbers, 1..N (N from the ports recorded at start: three per node).
nodes() { local p; read -ra p < <(ports); seq $((${#p[@]} / 3)); }
node_count() { nodes | wc -l; }
client_port() { local p; read -ra p < <(ports); echo "${p[$((($1 - 1) * 3))]}"; }

live_pid() { # node number
  local dir=$ROOT/node$1 pid
  [[ -f $dir/zk.pid ]] || return 0
  pid=$(cat "$dir/zk.pid")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$dir/zoo.cfg"; then echo "$pid"; fi
}

is_shepherd() { # node number: whether it runs zk-server (recorded at start)
  [[ -f $ROOT/shepherd-nodes ]] && [[ " $(cat "$ROOT/shepherd-nodes") " == *" $1 "* ]]
}

launch() { # node number
  local i=$1 dir=$ROOT/node$1
  [[ -z $(live_pid "$i") ]] || die "node$i already running (pid $(live_pid "$i"))"
  if is_shepherd "$i"; then
    nohup setsid bash -c 'echo $$ > "$0/zk.pid"; exec "$@"' "$dir" \
      "$(cat "$ROOT/zk-server")" "$dir/zoo.cfg" >> "$dir/log/zookeeper.out" 2>&1 < /dev/null &
    local n
    for n in $(seq 50); do [[ -s $dir/zk.pid ]] && break; sleep 0.1; done
    log "started node$i (zk-server) pid $(cat "$dir/zk.pid") client port $(client_port "$i")"
    return 0
  fi
  # setsid: the JVM gets a session and process group of its own, so whoever ran this script (and
  # signals its process group) does not take the node down with it.
  nohup setsid bash -c 'echo $$ > "$0/zk.pid"; exec "$@"' "$dir" \
    java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
    -Dlog4j.configuration="file:$ROOT/log4j.properties" \
    -Dzookeeper.admin.enableServer=false -Dzookeeper.4lw.commands.whitelist='*' $(cat "$ROOT/java-opts" 2> /dev/null) \
    -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >> "$dir/log/zookeeper.out" 2>&1 < /dev/null &
  local n
  for n in $(seq 50); do [[ -s $dir/zk.pid ]] && break; sleep 0.1; done
  log "started node$i pid $(cat "$dir/zk.pid") client port $(client_port "$i")"
}

healthy() { # [min followers, default all but the leader] prints the modes; exit 0 when one leader and that many followers
  local i m modes=() leaders=0 followers=0 want=${1:-$(($(node_count) - 1))}
  for i in $(nodes); do
    m=$(mode_of "$(client_port "$i")"); modes+=("${m:-down}")
    [[ $m == leader ]] && leaders=$((leaders + 1))
    [[ $m == follower ]] && followers=$((followers + 1))
  done
  echo "${modes[*]}"
  ((leaders == 1 && followers >= want))
}

wait_ready() { # [min followers]
  local deadline=$((SECONDS + START_TIMEOUT)) modes want=${1:-$(($(node_count) - 1))}
  while ((SECONDS < deadline)); do
    if modes=$(healthy "$want"); then log "ready: $modes"; return 0; fi
    sleep 0.2
  done
  die "not ready after ${START_TIMEOUT}s ($(healthy || true)); logs under $ROOT/node*/log"
}

connect_string() {
  local i out=()
  for i in $(nodes); do out+=("127.0.0.1:$(client_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}

start() {
  local i running=0 count=${ZK_NODES:-3}
  [[ $count =~ ^[2-9]$ ]] || die "ZK_NODES: a number of nodes from 2 to 9 expected, got '$count'"
  if [[ -f $ROOT/ports ]]; then for i in $(nodes); do [[ -z $(live_pid "$i") ]] || running=1; done; fi
  ((running == 0)) || die "an ensemble from $ROOT is running; stop it first"
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  if [[ -n ${ZK_PORTS:-} ]]; then
    local fixed; read -ra fixed <<< "$ZK_PORTS"
    ((${#fixed[@]} == 3 * count)) || die "ZK_PORTS: $((3 * count)) ports expected for $count nodes, got ${#fixed[@]}"
    echo "$ZK_PORTS" > "$ROOT/ports"
  else
    free_ports "$count" > "$ROOT/ports"
  fi
  echo "${ZK_JAVA_OPTS:-}" > "$ROOT/java-opts"
  if [[ -n ${ZK_SHEPHERD_NODES:-} ]]; then
    [[ -x ${ZK_SERVER:-} ]] || die "ZK_SHEPHERD_NODES needs ZK_SERVER, the path to a built zk-server"
    echo "$ZK_SHEPHERD_NODES" > "$ROOT/shepherd-nodes"
    echo "$ZK_SERVER" > "$ROOT/zk-server"
  fi
  local p; read -ra p < "$ROOT/ports"
  cat > "$ROOT/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n
L4J
  local servers=()
  for i in $(nodes); do servers+=("server.$i=127.0.0.1:${p[$(((i - 1) * 3 + 1))]}:${p[$(((i - 1) * 3 + 2))]}"); done
  for i in $(nodes); do
    local dir=$ROOT/node$i
    mkdir -p "$dir/data" "$dir/log"
    echo "$i" > "$dir/data/myid"
    cat > "$dir/zoo.cfg" <<CFG
tickTime=$TICK
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=${p[$(((i - 1) * 3))]}
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=no
CFG
    local servers_var="ZK_SERVERS_$i" line
    if [[ -n ${!servers_var:-} ]]; then
      for line in ${!servers_var}; do echo "$line" >> "$dir/zoo.cfg"; done
    else
      printf '%s\n' "${servers[@]}" >> "$dir/zoo.cfg"
    fi
    local extra
    for extra in ${ZK_EXTRA_CONFIG:-}; do echo "$extra" >> "$dir/zoo.cfg"; done
  done
  for i in $(nodes); do launch "$i"; done
  wait_ready
  connect_string
}

stop() {
  local i pid n stopped=0
  [[ -f $ROOT/ports ]] || { log "nothing under $ROOT"; return 0; }
  for i in $(nodes); do
    pid=$(live_pid "$i")
    if [[ -n $pid ]]; then
      kill -TERM "$pid" 2> /dev/null || true
      for n in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2> /dev/null; then kill -KILL "$pid" 2> /dev/null || true; fi
      log "stopped node$i pid $pid"; stopped=$((stopped + 1))
    fi
    rm -f "$ROOT/node$i/zk.pid"
  done
  ((stopped > 0)) || log "nothing running under $ROOT"
}

status() {
  local i pid port
  for i in $(nodes); do
    pid=$(live_pid "$i"); port=$(client_port "$i")
    if [[ -n $pid ]]; then echo "node$i pid=$pid port=$port ruok=$(fourlw "$port" ruok) mode=$(mode_of "$port")"
    else echo "node$i stopped port=$port"; fi
  done
  healthy > /dev/null
}

node_with_mode() {
  local i
  for i in $(nodes); do [[ $(mode_of "$(client_port "$i")") == "$1" ]] && { echo "$i"; return 0; }; done
  die "no node is $1"
}

node_of() {
  local i
  for i in $(nodes); do [[ $(client_port "$i") == "$1" ]] && { echo "$i"; return 0; }; done
  die "no node has client port $1"
}

kill_node() {
  local pid; pid=$(live_pid "$1")
  [[ -n $pid ]] || die "node$1 is not running"
  kill -KILL "$pid"; rm -f "$ROOT/node$1/zk.pid"; log "killed node$1 pid $pid"
}

need_node() { [[ ${1:-} =~ ^[1-9]$ ]] && (($1 <= $(node_count))) || die "node number 1-$(node_count) expected"; }

case ${1:-} in
  start) start ;;
  status) status ;;
  stop) stop ;;
  connect) connect_string ;;
  leader) node_with_mode leader ;;
  follower) node_with_mode follower ;;
  node-of) node_of "${2:?port}" ;;
  kill) need_node "${2:-}"; kill_node "$2" ;;
  start-node) need_node "${2:-}"; launch "$2" ;;
  wait) if [[ ${2:-} == quorum ]]; then wait_ready $(($(node_count) / 2)); else wait_ready; fi ;;
  *) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
