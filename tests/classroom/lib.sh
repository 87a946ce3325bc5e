# SPDX-License-Identifier: MIT
# Classroom broker helpers for tests/integration/test-classroom*.sh, sourced
# after tests/integration/common.sh:
#   . "$(dirname "$0")/../classroom/lib.sh"
#
# classroom_certs makes a throw-away CA and server certificates, classroom_start
# a broker from tests/classroom/mosquitto.conf on random ports, classroom_conf
# a mapping from mappings/classroom-*.conf pointed at that broker. BOARD is
# this board's name, the %h of those mappings (public/$BOARD/led...).

CLASSROOM=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CLASSROOM/../.." && pwd)
CR_DIR=$LOG_DIR/classroom
TEACHER_PASSWORD=teacher-secret
BOARD_PASSWORD=board-secret
# The board's name as %h gives it in the classroom mappings (the test kernel's
# init.sh sets the host name).
BOARD=$(hostname -s)
export BOARD
mkdir -p "$CR_DIR"

# --- certificates --------------------------------------------------------

_ec_csr() { # NAME CN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$CR_DIR/$1.key" -out "$CR_DIR/$1.csr" -subj "/CN=$2" 2>/dev/null
}

_ca() { # NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$CR_DIR/$1.key" -out "$CR_DIR/$1.crt" -subj "/CN=gpio2mqtt test $1" \
		2>/dev/null
}

# _server NAME SAN START END: a server certificate signed by "ca", valid from
# START to END (YYYYMMDDhhmmssZ), for the subjectAltName SAN.
_server() {
	local ca=$CR_DIR/ca-db
	mkdir -p "$ca/new"
	[ -e "$ca/index.txt" ] || { : >"$ca/index.txt"; echo 01 >"$ca/serial"; }
	cat >"$ca/$1.cnf" <<-CNF
		[ca]
		default_ca = test
		[test]
		database = $ca/index.txt
		new_certs_dir = $ca/new
		serial = $ca/serial
		default_md = sha256
		policy = anything
		unique_subject = no
		x509_extensions = server
		[anything]
		commonName = supplied
		[server]
		basicConstraints = CA:FALSE
		extendedKeyUsage = serverAuth
		subjectAltName = $2
	CNF
	_ec_csr "$1" "gpio2mqtt test $1" &&
		openssl ca -batch -notext -config "$ca/$1.cnf" -cert "$CR_DIR/ca.crt" \
			-keyfile "$CR_DIR/ca.key" -in "$CR_DIR/$1.csr" -out "$CR_DIR/$1.crt" \
			-startdate "$3" -enddate "$4" 2>"$ca/$1.err"
}

# classroom_certs: ca (the classroom's CA), other-ca (a CA nobody uses), and
# server certificates signed by ca: server (127.0.0.1, valid), expired
# (127.0.0.1, ended yesterday), wrong-host (another host, valid).
classroom_certs() {
	local past future yesterday
	past=$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)
	yesterday=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
	future=$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)
	_ca ca && _ca other-ca &&
		_server server "IP:127.0.0.1" "$past" "$future" &&
		_server expired "IP:127.0.0.1" "$past" "$yesterday" &&
		_server wrong-host "DNS:other.example, IP:10.9.8.7" "$past" "$future"
}

# --- broker --------------------------------------------------------------

_free_port() {
	local p try
	for ((try = 0; try < 50; try++)); do
		p=$((20000 + RANDOM % 40000))
		_port_free "$p" && [ "$p" != "${PLAIN_PORT:-}" ] && [ "$p" != "${TLS_PORT:-}" ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}

_classroom_up() {
	alive "$BROKER_PID" &&
		mosquitto_pub -h 127.0.0.1 -p "$PLAIN_PORT" -q 1 -t public/probe -n 2>/dev/null &&
		mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$CR_DIR/ca.crt" \
			-u teacher -P "$TEACHER_PASSWORD" -q 1 -t probe -n 2>/dev/null
}

# classroom_start [CERT]: the classroom broker serving CERT (default server)
# on its TLS listener. Sets PLAIN_PORT, TLS_PORT, WS_PORT, BROKER_PID and
# BROKER_PORT (= PLAIN_PORT, for the helpers of lib.sh); the password file
# has the accounts teacher and gpio2mqtt.
classroom_start() {
	local cert=${1:-server} conf=$CR_DIR/mosquitto-${1:-server}.conf try
	if [ ! -e "$CR_DIR/passwd" ]; then
		# One file per account: adding to a file needs a writable /tmp.
		mosquitto_passwd -c -b "$CR_DIR/passwd.teacher" teacher "$TEACHER_PASSWORD" &&
			mosquitto_passwd -c -b "$CR_DIR/passwd.board" gpio2mqtt "$BOARD_PASSWORD" &&
			cat "$CR_DIR/passwd.teacher" "$CR_DIR/passwd.board" >"$CR_DIR/passwd" ||
			return 1
		printf '%s\n' "$BOARD_PASSWORD" >"$CR_DIR/board.password"
	fi
	for ((try = 0; try < 10; try++)); do
		PLAIN_PORT= TLS_PORT=
		PLAIN_PORT=$(_free_port) && TLS_PORT=$(_free_port) && WS_PORT=$(_free_port) || return 1
		[ "$WS_PORT" != "$PLAIN_PORT" ] && [ "$WS_PORT" != "$TLS_PORT" ] || continue
		sed -e "s|@PLAIN_PORT@|$PLAIN_PORT|" -e "s|@TLS_PORT@|$TLS_PORT|" \
			-e "s|@WS_PORT@|$WS_PORT|" -e "s|@CLASSROOM@|$CLASSROOM|" \
			-e "s|@DIR@|$CR_DIR|g" -e "s|@CERT@|$cert|g" \
			"$CLASSROOM/mosquitto.conf" >"$conf"
		mosquitto -c "$conf" >>"$CR_DIR/mosquitto-$cert.log" 2>&1 &
		BROKER_PID=$!
		track "$BROKER_PID"
		# With a bad certificate only the plain listener can answer.
		if [ "$cert" = server ]; then
			wait_for 10 _classroom_up && break
		else
			wait_for 10 mosquitto_pub -h 127.0.0.1 -p "$PLAIN_PORT" -q 1 \
				-t public/probe -n 2>/dev/null && break
		fi
		stop_pid "$BROKER_PID" 2
	done
	BROKER_PORT=$PLAIN_PORT
	export PLAIN_PORT TLS_PORT WS_PORT BROKER_PID BROKER_PORT
	alive "$BROKER_PID"
}

# dynsec_start: a broker whose access rules come from mosquitto's dynamic
# security plugin (tests/classroom/dynsec.json: anonymous clients may use
# public/#, and under literal/ subscribe only to two exact topics), which,
# unlike an acl_file, refuses subscriptions in the SUBACK. Sets DYNSEC_PORT
# and DYNSEC_PID.
dynsec_start() {
	local plugin conf=$CR_DIR/mosquitto-dynsec.conf try
	plugin=$(ls /usr/lib/*/mosquitto_dynamic_security.so 2>/dev/null | head -n 1)
	[ -n "$plugin" ] || return 1
	# The plugin writes its file back: a copy of our own.
	cp "$CLASSROOM/dynsec.json" "$CR_DIR/dynsec.json" || return 1
	for ((try = 0; try < 10; try++)); do
		DYNSEC_PORT=$(_free_port) || return 1
		cat >"$conf" <<-CONF
			user root
			persistence false
			log_dest stderr
			log_type all
			listener $DYNSEC_PORT 127.0.0.1
			allow_anonymous true
			plugin $plugin
			plugin_opt_config_file $CR_DIR/dynsec.json
		CONF
		mosquitto -c "$conf" >>"$CR_DIR/mosquitto-dynsec.log" 2>&1 &
		DYNSEC_PID=$!
		track "$DYNSEC_PID"
		wait_for 10 mosquitto_pub -h 127.0.0.1 -p "$DYNSEC_PORT" -q 1 -t public/probe -n \
			2>/dev/null && return 0
		stop_pid "$DYNSEC_PID" 2
	done
	return 1
}

# --- clients -------------------------------------------------------------

# teacher_sub FILE TOPIC...: like sub_start, through TLS as the teacher, who
# may read every topic. Sets SUB_PID.
teacher_sub() {
	local file=$1 probe try args=()
	shift
	probe=probe/$$/$RANDOM
	for t in "$@"; do args+=(-t "$t"); done
	: >>"$file"
	mosquitto_sub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$CR_DIR/ca.crt" \
		-u teacher -P "$TEACHER_PASSWORD" -q 1 -v -t "$probe" "${args[@]}" \
		>>"$file" 2>>"$file.err" &
	SUB_PID=$!
	track "$SUB_PID"
	for ((try = 0; try < 25; try++)); do
		mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$CR_DIR/ca.crt" \
			-u teacher -P "$TEACHER_PASSWORD" -t "$probe" -m ready 2>/dev/null
		wait_for 0.3 grep -qxF "$probe ready" "$file" && return 0
	done
	return 1
}

# classroom_conf NAME OUT [SED_EXPR...]: mappings/classroom-NAME.conf pointed at
# the test broker (host, port, CA and password file), with more sed
# expressions applied, written to OUT.
classroom_conf() {
	local name=$1 out=$2 port=$PLAIN_PORT args=()
	shift 2
	[ "$name" = tls ] && port=$TLS_PORT
	for e in "$@"; do args+=(-e "$e"); done
	sed -e 's|^\( *host *= *\)"[^"]*";|\1"127.0.0.1";|' \
		-e "s|^\( *port *= *\)[0-9]*;|\1$port;|" \
		-e "s|^\( *ca_file *= *\)\"[^\"]*\";|\1\"$CR_DIR/ca.crt\";|" \
		-e "s|^\( *password_file *= *\)\"[^\"]*\";|\1\"$CR_DIR/board.password\";|" \
		"${args[@]}" "$REPO/mappings/classroom-$name.conf" >"$out"
}

# classroom_rig: what every classroom test starts from: a gpio-sim chip with
# lines LED and BUTTON (offsets $LED and $BUTTON; sets CHIP), the throw-away
# certificates, the classroom broker, and a teacher's subscriber on '#' that
# writes to $msgs. Ends the test when a part is missing.
classroom_rig() {
	sim_chip classroom classroom-board 8 "$LED:LED" "$BUTTON:BUTTON" || {
		not_ok "gpio-sim chip"
		finish
	}
	CHIP=$SIM_CHIP
	check "throw-away CA and server certificates" classroom_certs
	check "classroom broker with three listeners" classroom_start
	dump_on_fail "$CR_DIR/mosquitto-server.log"
	msgs=$LOG_DIR/msgs.txt
	teacher_sub "$msgs" '#' || {
		not_ok "teacher's subscriber"
		finish
	}
}
