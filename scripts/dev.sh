#!/usr/bin/env bash
# make dev: run swarmctl dev in the background (SQLite under .swarm/, the
# plugins of bin/plugins, a local token issuer), apply the quickstart to the
# local Docker Engine through the API, and end with the URL it answers on.
# Running it again restarts the server and re-applies (a no-op when nothing
# changed). "make dev-stop" destroys the example and stops the server.
#
# Both work however the last run was left: after make dev-stop, after a
# failed run, after the server was killed (a job it left running runs again
# at once), and with or without .swarm/ (containers of the example that the
# store does not know are adopted by the apply, which says so).
set -euo pipefail
umask 077 # the log and env.sh hold an all-permissions token
cd "$(dirname "$0")/.."
dev=.swarm/dev
pidfile=$dev/server.pid
log=$dev/server.log
api=http://127.0.0.1:7373
mkdir -p "$dev"

# stop_server stops the server and its plugins: the server runs in a
# process group of its own (setsid), so a server killed earlier leaves no
# plugin behind either. SIGTERM first; SIGKILL after its grace period.
stop_server() {
	[ -f "$pidfile" ] || return 0
	local pid
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 350); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

start_server() {
	if curl -fsS "$api/healthz" >/dev/null 2>&1; then
		echo "something else answers on $api (another swarmctl dev, started elsewhere?): stop it first" >&2
		exit 1
	fi
	rm -f "$dev/env.sh" "$log"
	setsid nohup bin/swarmctl dev >"$log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	for _ in $(seq 1 150); do
		if [ -f "$dev/env.sh" ] && curl -fsS "$api/readyz" >/dev/null 2>&1; then
			. "$dev/env.sh"
			return 0
		fi
		kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$log"; echo "swarmctl dev exited" >&2; exit 1; }
		sleep 0.2
	done
	cat "$log"
	echo "swarmctl dev did not get ready within 30s" >&2
	exit 1
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# example_containers lists the containers of the example on the engine, by
# the labels the compose backend gives them.
example_containers() {
	docker ps -aq --filter label=io.alphaswarm.tenant=demo --filter label=io.alphaswarm.environment=dev \
		--filter label=io.alphaswarm.deployment=hello --filter label=com.docker.compose.project=quick_demo_dev_hello 2>/dev/null || true
}

if [ "${1:-}" = "stop" ]; then
	running || start_server
	. "$dev/env.sh"
	if bin/swarmctl status demo/hello >/dev/null 2>&1; then
		bin/swarmctl destroy -auto-approve demo/hello || true
	elif [ -n "$(example_containers)" ]; then
		echo "The controller holds no record of demo/hello, but its containers run: adopting them to destroy them."
		bin/swarmctl apply -auto-approve examples/topologies/quickstart-compose || true
		bin/swarmctl destroy -auto-approve demo/hello || true
	else
		echo "demo/hello is not deployed."
	fi
	stop_server
	echo "dev server stopped"
	exit 0
fi

stop_server
start_server

bin/swarmctl apply -auto-approve examples/topologies/quickstart-compose
echo
bin/swarmctl status demo/hello
echo
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18080/healthz >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS http://127.0.0.1:18080/healthz >/dev/null
cat <<MSG
The dev server runs in the background (pid $(cat "$pidfile"), log $log).
Use the CLI against it:   . $dev/env.sh && bin/swarmctl status
Stop it:                  make dev-stop

The example answers at http://127.0.0.1:18080/
MSG
