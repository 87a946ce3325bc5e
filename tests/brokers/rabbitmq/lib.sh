# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# RabbitMQ (Debian's rabbitmq-server, with its MQTT and Web MQTT plugins) as
# a test broker, run as root on 127.0.0.1 with ports, configuration, data and
# logs of its own, for scripts that run inside the test kernel, sourced after
# tests/integration/common.sh (or tests/uml/lib.sh):
#   . "$(dirname "$0")/../brokers/rabbitmq/lib.sh"
#
# The root file system is read-only there, so nothing may go to /etc/rabbitmq,
# /var/lib/rabbitmq or /var/log/rabbitmq: every path the broker writes is
# pointed at RABBIT_DIR (configuration and logs, under LOG_DIR so that the
# host keeps them after a failure) or RABBIT_DATA (its database, on the
# kernel's tmpfs). tests/brokers/rabbitmq/install-deps.sh installs it.
#
# rabbit_start sets and exports RABBIT_MQTT_PORT, RABBIT_WS_PORT (Web MQTT,
# path /ws), RABBIT_AMQP_PORT, RABBIT_PID (the Erlang VM) and RABBIT_START_S
# (seconds the start took), and BROKER_PORT = RABBIT_MQTT_PORT for the
# helpers of tests/uml/lib.sh. The broker's log is RABBIT_LOG.
#
# rabbit_cluster_start starts two nodes instead, A and B, B in A's cluster;
# see there.

RABBIT_HOME=${RABBIT_HOME:-/usr/lib/rabbitmq}
RABBIT_DIR=$LOG_DIR/rabbitmq
RABBIT_DATA=${TMPDIR:-/tmp}/rabbitmq.$$
RABBIT_LOG=$RABBIT_DIR/rabbit.log
RABBIT_NODENAME=rabbit@localhost
# Seconds allowed for a start. In the test kernel one took 20 to 45 s on an
# idle host and up to 75 on a busy one (a restart, the code in the page cache,
# 15 to 50 s); 5 to 10 s on the host itself. Two starts and the rest of a
# test stay within run-all.sh's 300 s.
RABBIT_START_TIMEOUT=${RABBIT_START_TIMEOUT:-100}
# The guest account, which RabbitMQ also gives anonymous MQTT clients.
RABBIT_USER=guest
RABBIT_PASS=guest
mkdir -p "$RABBIT_DIR" "$RABBIT_DATA"

# True when the broker's files are installed.
rabbit_installed() {
	[ -x "$RABBIT_HOME/bin/rabbitmq-server" ] &&
		[ -d "$(echo "$RABBIT_HOME"/lib/rabbitmq_server-*/plugins/rabbitmq_web_mqtt-*)" ]
}

# A free port of 127.0.0.1 that none of the broker's other ports uses.
_rabbit_free_port() {
	local p try
	for ((try = 0; try < 50; try++)); do
		p=$((20000 + RANDOM % 40000))
		_port_free "$p" || continue
		case " ${RABBIT_MQTT_PORT:-} ${RABBIT_WS_PORT:-} ${RABBIT_AMQP_PORT:-} \
			${RABBIT_DIST_PORT:-} ${RABBIT_EPMD_PORT:-} ${_rabbit_ports_taken:-} " in
		*" $p "*) continue ;;
		esac
		echo "$p"
		return 0
	done
	return 1
}

# The broker's ports. epmd keeps its own across tries and restarts: it runs
# on as long as the test does.
_rabbit_pick_ports() {
	RABBIT_MQTT_PORT='' RABBIT_WS_PORT='' RABBIT_AMQP_PORT='' RABBIT_DIST_PORT=''
	[ -n "${RABBIT_EPMD_PORT:-}" ] || RABBIT_EPMD_PORT=$(_rabbit_free_port) || return 1
	RABBIT_MQTT_PORT=$(_rabbit_free_port) && RABBIT_WS_PORT=$(_rabbit_free_port) &&
		RABBIT_AMQP_PORT=$(_rabbit_free_port) && RABBIT_DIST_PORT=$(_rabbit_free_port)
}

# The configuration (new-style rabbitmq.conf) and the list of plugins. Only
# 127.0.0.1; anonymous MQTT clients log in as guest, which RabbitMQ allows
# from the loopback interface only, as it is here. The memory alarm would
# block every publisher in a small test kernel, and the disk alarm could
# on a full host: both set out of the way.
_rabbit_write_conf() {
	cat >"$RABBIT_DIR/rabbitmq.conf" <<-EOF
		listeners.tcp.1 = 127.0.0.1:$RABBIT_AMQP_PORT
		default_user = $RABBIT_USER
		default_pass = $RABBIT_PASS
		vm_memory_high_watermark.relative = 0.9
		disk_free_limit.absolute = 1MB
		log.file = $(basename "$RABBIT_LOG")
		log.file.level = info
		log.console = false
		mqtt.listeners.tcp.1 = 127.0.0.1:$RABBIT_MQTT_PORT
		mqtt.allow_anonymous = true
		mqtt.default_user = $RABBIT_USER
		mqtt.default_pass = $RABBIT_PASS
		mqtt.vhost = /
		mqtt.exchange = amq.topic
		web_mqtt.tcp.ip = 127.0.0.1
		web_mqtt.tcp.port = $RABBIT_WS_PORT
		${RABBIT_EXTRA_CONF:-}
	EOF
	echo '[rabbitmq_mqtt,rabbitmq_web_mqtt].' >"$RABBIT_DIR/enabled_plugins"
	# Read by rabbitmq-env instead of /etc/rabbitmq/rabbitmq-env.conf.
	: >"$RABBIT_DIR/rabbitmq-env.conf"
}

# Both listeners answer: an MQTT 3.1.1 client gets through, and the Web MQTT
# port is open.
_rabbit_up() {
	alive "$RABBIT_PID" &&
		mosquitto_pub -h 127.0.0.1 -p "$RABBIT_MQTT_PORT" -V mqttv311 -q 0 \
			-t g2m-test/probe -n 2>/dev/null &&
		! _port_free "$RABBIT_WS_PORT"
}

# epmd, the Erlang port mapper, on a port of our own and started here: the VM
# would otherwise start one of its own that outlives the test.
_rabbit_epmd() {
	[ -n "${RABBIT_EPMD_PID:-}" ] && alive "$RABBIT_EPMD_PID" && return 0
	ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$RABBIT_EPMD_PORT" >>"$RABBIT_DIR/epmd.log" 2>&1 &
	RABBIT_EPMD_PID=$!
	track "$RABBIT_EPMD_PID"
	wait_for 5 not _port_free "$RABBIT_EPMD_PORT"
}

# The Erlang VM, a child of rabbitmq-server's script (erl execs into
# beam.smp, which keeps its PID; the script's other children come and go).
_rabbit_vm() {
	local pid
	pid=$(pgrep -x -P "$RABBIT_SCRIPT_PID" beam.smp 2>/dev/null | head -n 1)
	[ -n "$pid" ] && RABBIT_PID=$pid
}

# _rabbit_app_deps PLUGINS_DIR APP...: the applications of PLUGINS_DIR that
# the APPs need, themselves included (the applications and
# included_applications of their .app files, recursively), one a line.
_rabbit_app_deps() {
	local plugins=$1 todo=("${@:2}") seen=" " app dir
	while [ ${#todo[@]} -gt 0 ]; do
		app=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $app "*) continue ;; esac
		seen="$seen$app "
		for dir in "$plugins/$app"-*/; do
			[ -r "$dir/ebin/$app.app" ] || continue
			echo "$app"
			# shellcheck disable=SC2207 # application names: no spaces, no globs
			todo+=($(tr -d '\n' <"$dir/ebin/$app.app" |
				grep -o '{\(included_\)\?applications, *\[[^]]*\]' |
				sed 's/.*\[//; s/\]//; s/[,'"'"']/ /g'))
		done
	done
}

# A RabbitMQ home of links to the real one, whose plugins directory has only
# what the broker and its two plugins need (25 of the package's 70
# applications). The point is time: the VM looks for each module it loads in
# the directories of its code path in turn, and each look-up that fails is
# system calls, which are slow in the test kernel: loading the rabbit
# application's modules took 4.4 s there with the whole directory, 2.8 s with
# this one.
_rabbit_home() {
	local real home=$RABBIT_DATA/home app dir
	[ -d "$home/plugins" ] && return 0
	real=$(cd "$RABBIT_HOME/bin" && cd "$(dirname "$(readlink -f rabbitmq-server)")/.." && pwd) ||
		return 1
	mkdir -p "$home/sbin" "$home/plugins" || return 1
	ln -s "$real"/sbin/* "$home/sbin/" && ln -s "$real/escript" "$home/escript" || return 1
	for app in $(_rabbit_app_deps "$real/plugins" rabbit rabbitmq_prelaunch rabbitmq_mqtt \
		rabbitmq_web_mqtt); do
		for dir in "$real/plugins/$app"-*/; do
			ln -s "${dir%/}" "$home/plugins/" || return 1
		done
	done
}

# Starts the broker on the ports chosen and waits for it.
_rabbit_launch() {
	local t0
	_rabbit_home && _rabbit_write_conf && _rabbit_epmd || return 1
	echo "=== $(date +%T) rabbitmq-server, MQTT on $RABBIT_MQTT_PORT" >>"$RABBIT_DIR/startup.log"
	t0=$(_now_us)
	# HOME for the Erlang cookie; the node name by "localhost", which
	# /etc/hosts resolves (the test kernel's host name does not).
	(
		export HOME=$RABBIT_DATA
		export RABBITMQ_CONF_ENV_FILE=$RABBIT_DIR/rabbitmq-env.conf
		export RABBITMQ_CONFIG_FILE=$RABBIT_DIR/rabbitmq.conf
		export RABBITMQ_ADVANCED_CONFIG_FILE=$RABBIT_DIR/advanced.config
		export RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/enabled_plugins
		export RABBITMQ_LOG_BASE=$RABBIT_DIR
		export RABBITMQ_MNESIA_BASE=$RABBIT_DATA/mnesia
		export RABBITMQ_PLUGINS_EXPAND_DIR=$RABBIT_DATA/${RABBIT_NODENAME%@*}-plugins-expand
		export RABBITMQ_PID_FILE=$RABBIT_DATA/${RABBIT_NODENAME%@*}.pid
		export RABBITMQ_NODENAME=$RABBIT_NODENAME
		export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		export RABBITMQ_NODE_PORT=$RABBIT_AMQP_PORT
		export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT
		export ERL_EPMD_PORT=$RABBIT_EPMD_PORT
		export ERL_EPMD_ADDRESS=127.0.0.1
		export ERL_CRASH_DUMP=$RABBIT_DIR/erl_crash.dump
		# Distribution (rabbitmqctl's way in) on the loopback address too.
		export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		# rabbitmq-env takes the home and the plugins from here.
		export RABBITMQ_SCRIPTS_DIR=$RABBIT_DATA/home/sbin
		export RABBITMQ_PLUGINS_DIR=$RABBIT_DATA/home/plugins
		cd "$RABBIT_DATA" && exec "$RABBITMQ_SCRIPTS_DIR/rabbitmq-server"
	) >>"$RABBIT_DIR/startup.log" 2>&1 &
	RABBIT_SCRIPT_PID=$!
	RABBIT_PID=$RABBIT_SCRIPT_PID
	track "$RABBIT_SCRIPT_PID"
	wait_for 10 _rabbit_vm || return 1
	track "$RABBIT_PID"
	wait_for "$RABBIT_START_TIMEOUT" _rabbit_up || return 1
	RABBIT_START_S=$((($(_now_us) - t0) / 100000))
	RABBIT_START_S=$((RABBIT_START_S / 10)).$((RABBIT_START_S % 10))
	BROKER_PORT=$RABBIT_MQTT_PORT BROKER_PID=$RABBIT_PID
	export RABBIT_MQTT_PORT RABBIT_WS_PORT RABBIT_AMQP_PORT RABBIT_PID RABBIT_START_S \
		BROKER_PORT BROKER_PID
}

# rabbit_start: a fresh broker on free random ports (see the top). A try
# whose broker died (a port taken meanwhile) is repeated on other ports; one
# that is still starting when the time is up is not.
rabbit_start() {
	local try
	for ((try = 0; try < 3; try++)); do
		_rabbit_pick_ports || return 1
		_rabbit_launch && return 0
		alive "$RABBIT_PID" && break
		rabbit_stop
	done
	rabbit_stop
	echo "rabbit_start: no broker (see $RABBIT_DIR)" >&2
	return 1
}

# rabbit_stop: SIGTERM to the VM, which then shuts the broker down in order
# (its clients see the connection close); SIGKILL when that takes too long.
rabbit_stop() {
	stop_pid "$RABBIT_PID" 30
	stop_pid "$RABBIT_SCRIPT_PID" 5
}

# rabbit_restart: stops the broker and starts it again on the same ports and
# with the same database (retained messages survive, as on a real server).
rabbit_restart() {
	rabbit_stop || return 1
	_rabbit_launch
}

# --- a cluster of two nodes ------------------------------------------------

# The variables of one node. rabbit_node ID makes node ID's the RABBIT_*
# ones (RABBIT_MQTT_PORT, RABBIT_PID, ...), after it has kept the ones in use
# as RABBIT_<ID in use>_* (RABBIT_A_MQTT_PORT, ...): both sets are right
# after each call.
_rabbit_node_vars=(NODENAME DIR LOG MQTT_PORT WS_PORT AMQP_PORT DIST_PORT PID SCRIPT_PID
	START_S EXTRA_CONF)
_rabbit_node=''
rabbit_node() {
	local v from
	for v in "${_rabbit_node_vars[@]}"; do
		from=RABBIT_$v
		[ -z "$_rabbit_node" ] || printf -v "RABBIT_${_rabbit_node}_$v" '%s' "${!from:-}"
		from=RABBIT_${1}_$v
		printf -v "RABBIT_$v" '%s' "${!from:-}"
	done
	_rabbit_node=$1
}

# What node A loads on its first start: a policy that mirrors the MQTT
# plugin's subscription queues on every node. A QoS 1 subscription is a
# durable queue on the node the client was connected to; without a mirror it
# is lost with that node, and a SUBSCRIBE of the same client id through
# another node fails ("home node ... of durable queue ... is down"), which
# the broker answers by closing the connection. A node that loads
# definitions makes no default virtual host and user: they are here too, the
# user's password hash being that of RABBIT_PASS (base64 of a 4-byte salt,
# then the SHA-256 of salt and password).
_rabbit_cluster_definitions() {
	local salt='\x90\x8d\x6a\x2b' hash
	# shellcheck disable=SC2059 # the formats are bytes as \xHH
	hash=$(printf "$salt%s" "$RABBIT_PASS" | sha256sum | sed 's/ .*//; s/../\\x&/g') &&
		hash=$(printf "$salt$hash" | base64 -w 0) || return 1
	cat <<-EOF
		{"vhosts": [{"name": "/"}],
		 "users": [{"name": "$RABBIT_USER", "password_hash": "$hash",
		   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
		 "permissions": [{"user": "$RABBIT_USER", "vhost": "/", "configure": ".*",
		   "write": ".*", "read": ".*"}],
		 "policies": [{"vhost": "/", "name": "mqtt-subscriptions-everywhere",
		   "pattern": "^mqtt-subscription-", "apply-to": "queues", "priority": 0,
		   "definition": {"ha-mode": "all"}}]}
	EOF
}

# _rabbit_cluster_launch ID: node ID (A or B) with a name, directory and
# ports of its own, started and waited for; A loads the definitions above,
# B finds A (peer discovery from its configuration file) and joins A's
# cluster as it starts. Tries again on other ports as rabbit_start does.
_rabbit_cluster_launch() {
	local id=$1 lower try
	lower=$(echo "$id" | tr '[:upper:]' '[:lower:]')
	rabbit_node "$id"
	RABBIT_NODENAME=rabbit-$lower@localhost
	RABBIT_DIR=$LOG_DIR/rabbitmq-$lower
	RABBIT_LOG=$RABBIT_DIR/rabbit.log
	mkdir -p "$RABBIT_DIR" || return 1
	if [ "$id" = A ]; then
		_rabbit_cluster_definitions >"$RABBIT_DIR/definitions.json" || return 1
		RABBIT_EXTRA_CONF="load_definitions = $RABBIT_DIR/definitions.json"
	else
		RABBIT_EXTRA_CONF="cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = rabbit-a@localhost
cluster_formation.classic_config.nodes.2 = rabbit-b@localhost"
	fi
	for ((try = 0; try < 3; try++)); do
		_rabbit_pick_ports || break
		_rabbit_ports_taken="${_rabbit_ports_taken:-} $RABBIT_MQTT_PORT $RABBIT_WS_PORT \
$RABBIT_AMQP_PORT $RABBIT_DIST_PORT"
		_rabbit_launch && rabbit_node "$id" && return 0
		alive "$RABBIT_PID" && break
		rabbit_stop
	done
	rabbit_node "$id"
	return 1
}

# Node B's log says it joined A's cluster.
# shellcheck disable=SC2153 # RABBIT_B_LOG: set by rabbit_node
rabbit_cluster_joined() {
	grep -q "Node 'rabbit-a@localhost' selected for auto-clustering" "$RABBIT_B_LOG"
}

# rabbit_cluster_start: nodes A and B (rabbit-a@localhost and
# rabbit-b@localhost), each with ports, configuration and logs of its own
# (RABBIT_A_DIR, RABBIT_A_LOG, ...), and one epmd, database directory and
# Erlang cookie; B joined to A's cluster. Sets RABBIT_A_MQTT_PORT,
# RABBIT_B_MQTT_PORT, RABBIT_A_PID, RABBIT_A_START_S and so on, as
# rabbit_start sets RABBIT_* for its one broker; leaves node B's in use
# (rabbit_node A switches). B starts once A is up: started together, B
# joined A's database while A was still filling it, and put in a user of
# its own that clashed with A's (its boot failed, "user_already_exists");
# one after the other took 46 s in the test kernel, together 36 to 40.
rabbit_cluster_start() {
	local cookie=$RABBIT_DATA/.erlang.cookie
	# One cookie, there before either VM would make one of its own.
	[ -s "$cookie" ] || {
		echo "G2M$RANDOM$RANDOM$RANDOM" >"$cookie" && chmod 400 "$cookie"
	} || return 1
	if _rabbit_cluster_launch A && _rabbit_cluster_launch B && rabbit_cluster_joined; then
		export RABBIT_A_MQTT_PORT RABBIT_B_MQTT_PORT RABBIT_A_PID RABBIT_B_PID \
			RABBIT_A_START_S RABBIT_B_START_S
		return 0
	fi
	echo "rabbit_cluster_start: no cluster (see $LOG_DIR/rabbitmq-[ab])" >&2
	return 1
}

# rabbit_kill ID: SIGKILL to node ID's VM, as in a crash: no goodbye to its
# clients or to the other node.
rabbit_kill() {
	local pid=RABBIT_${1}_PID
	kill -KILL "${!pid}" 2>/dev/null
	wait_for 5 dead "${!pid}"
}
