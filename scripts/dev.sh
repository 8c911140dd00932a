#!/usr/bin/env bash
# make dev: run swarmctl dev in the background (SQLite under .swarm/, the
# plugins of bin/plugins, a local token issuer), apply the quickstart to the
# local Docker Engine through the API, and end with the URL it answers on.
# Running it again restarts the server and re-applies (a no-op when nothing
# changed). "make dev-stop" destroys the example and stops the server.
set -euo pipefail
umask 077 # the log and env.sh hold an all-permissions token
cd "$(dirname "$0")/.."
dev=.swarm/dev
pidfile=$dev/server.pid
log=$dev/server.log
mkdir -p "$dev"

stop_server() {
	if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		kill "$(cat "$pidfile")"
		for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$pidfile"
}

if [ "${1:-}" = "stop" ]; then
	if [ -f "$dev/env.sh" ] && [ -f "$pidfile" ]; then
		. "$dev/env.sh"
		bin/swarmctl destroy -auto-approve demo/hello || true
	fi
	stop_server
	echo "dev server stopped"
	exit 0
fi

stop_server
rm -f "$dev/env.sh" "$log"
nohup bin/swarmctl dev >"$log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 150); do
	if [ -f "$dev/env.sh" ] && curl -fsS http://127.0.0.1:7373/readyz >/dev/null 2>&1; then break; fi
	kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$log"; echo "swarmctl dev exited" >&2; exit 1; }
	sleep 0.2
done
. "$dev/env.sh"

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
