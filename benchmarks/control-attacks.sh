#!/usr/bin/env bash
# Issue 12's attacks on the control API, whole process, all on loopback: `sei-inject run --listen` (waiting for a
# publisher that never comes, so only the control API works) with an audit log. Measures and prints:
#   1. a POST with invalid UTF-8 in the id: time to its 400 (target: within 1 s);
#   2. IDLE (default 2000) silent connections held open, then the operator's GET /v1/status: time to its 200
#      (target: within 1 s) and how long until the server closed the idle ones (the 5 s idle timeout);
#   3. FLOOD (default 10000) unauthenticated requests with 4 KB paths: their rate, the 401/429 split, and how much the
#      audit log grew (target: under 100 KB).
# Exits non-zero when a target is missed. Needs python3 (sockets) and curl.
#   benchmarks/control-attacks.sh [IDLE] [FLOOD]        (build first: make build)
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-2000}
flood=${2:-10000}
if [ -n "${SEI_INJECT:-}" ]; then SEI=("$SEI_INJECT"); else SEI=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll); fi
work=$(mktemp -d /tmp/catevening-control-attacks.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port() { local p; for _ in $(seq 50); do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; return 1; }

"${SEI[@]}" keygen --private "$work/k.pem" --public "$work/k.pub" >/dev/null 2>&1
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/token"
chmod 600 "$work/token"   # the injector refuses a token file others can read (exit 3)
listen=127.0.0.1:$(port); control=127.0.0.1:$(port)
"${SEI[@]}" run -i "rtmp://$listen/live/show" --listen -o "$work/out.flv" --output-format flv --key "$work/k.pem" \
  --control "$control" --token-file "$work/token" --audit "$work/audit.jsonl" 2>"$work/run.log" &
pids+=($!)
for _ in $(seq 600); do
  curl -s -m 1 -o /dev/null "http://$control/" && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "sei-inject run exited: $(cat "$work/run.log")"; exit 1; }
  sleep 0.1
done

rc=0
(python3 -u - "$control" "$(cat "$work/token")" "$idle" "$flood" "$work/audit.jsonl" <<'PY'
import http.client, os, socket, sys, time, concurrent.futures as cf
host, port = sys.argv[1].rsplit(':', 1); port = int(port)
token, idle, flood, audit = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
failed = []

def request(method, path, body=None, auth=True, timeout=60):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {'Authorization': 'Bearer ' + token} if auth else {}
    if body is not None: headers['Content-Type'] = 'application/json'
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse(); r.read(); c.close()
    return r.status

t = time.monotonic()
status = request('POST', '/v1/cues', body=b'{"id":"a\xffb"}')
ms = (time.monotonic() - t) * 1000
print(f"invalid UTF-8 in the id: {status} in {ms:.1f} ms (target: 400 within 1000 ms)")
if status != 400 or ms > 1000: failed.append('invalid UTF-8')

sockets = []
for _ in range(idle):
    s = socket.create_connection((host, port), timeout=60); sockets.append(s)
opened = time.monotonic()
t = time.monotonic(); answered = None; attempts = 0
while answered is None and time.monotonic() - t < 60:
    attempts += 1
    try: answered = request('GET', '/v1/status', timeout=10)
    except OSError: time.sleep(0.2)
ms = (time.monotonic() - t) * 1000
print(f"{idle} idle connections open: operator's GET /v1/status answered {answered} in {ms:.1f} ms, {attempts} attempt(s) (target: within 1000 ms)")
if answered != 200 or ms > 1000: failed.append('operator under idle connections')
closed = 0
for s in sockets:
    s.settimeout(max(0.1, 60 - (time.monotonic() - opened)))
    try:
        closed += s.recv(1) == b''
    except socket.timeout:
        pass
    except OSError:
        closed += 1
    s.close()
print(f"idle connections closed by the server: {closed}/{idle}, all within {time.monotonic() - opened:.1f} s of opening")
if closed != idle: failed.append('idle connections not closed')

before = os.path.getsize(audit)
path = '/v1/' + 'a' * 4096
counts = {}
def worker(n):
    c = http.client.HTTPConnection(host, port, timeout=60); local = {}
    for _ in range(n):
        c.request('GET', path); r = c.getresponse(); r.read()
        local[r.status] = local.get(r.status, 0) + 1
    c.close(); return local
t = time.monotonic()
with cf.ThreadPoolExecutor(8) as pool:
    for local in pool.map(worker, [flood // 8] * 8):
        for k, v in local.items(): counts[k] = counts.get(k, 0) + v
secs = time.monotonic() - t
print(f"{sum(counts.values())} unauthenticated requests in {secs:.1f} s ({sum(counts.values()) / secs:.0f}/s): " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
print(f"  operator's request right after: {request('GET', '/v1/status')}")
open(audit + '.before', 'w').write(str(before))
if failed: print('missed: ' + ', '.join(failed))
sys.exit(1 if failed else 0)
PY
) || rc=$?
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true
# The summary of refused requests is written once a minute and when the injector stops: measure after the stop.
grew=$(( $(stat -c %s "$work/audit.jsonl") - $(cat "$work/audit.jsonl.before") ))
echo "audit log grew by $grew bytes during the flood and the stop (target: under 102400): $(grep '"unauthorized_summary"' "$work/audit.jsonl" | head -c 300)"
echo "injector's stderr: $(wc -l < "$work/run.log") lines in all"
[ "$grew" -lt 102400 ] || rc=1
exit $rc
