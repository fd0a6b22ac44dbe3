#!/usr/bin/env bash
# A private nginx-rtmp on loopback for .ci/run and `make demo-live`, in a folder of its own (config, logs, pid).
#   scripts/nginx-rtmp.sh start DIR [PORT]   starts it (PORT 0 or absent: a free port), prints 127.0.0.1:PORT
#   scripts/nginx-rtmp.sh stop DIR           stops it
# The same server the tests' NginxRtmp fixture writes: application `live`, players wait for publishers and are
# told when a publisher goes (play_restart), playback starts on a keyframe.
set -euo pipefail
cmd=${1:?usage: nginx-rtmp.sh start|stop DIR [PORT]}
dir=${2:?usage: nginx-rtmp.sh start|stop DIR [PORT]}

case $cmd in
  start)
    port=${3:-0}
    if [ "$port" = 0 ]; then
      # A port nobody answers on; nginx fails to start if another process takes it meanwhile.
      for _ in $(seq 50); do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
      done
    fi
    module=""
    for m in /usr/lib/nginx/modules/ngx_rtmp_module.so /usr/lib64/nginx/modules/ngx_rtmp_module.so /usr/local/lib/nginx/modules/ngx_rtmp_module.so; do
      [ -f "$m" ] && { module=$m; break; }
    done
    [ -n "$module" ] || { echo "nginx-rtmp: the RTMP module is not installed; run scripts/install-deps.sh" >&2; exit 1; }
    mkdir -p "$dir/logs"
    dir=$(cd "$dir" && pwd)
    cat > "$dir/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:$port;
        chunk_size 4096;
        application live {
            live on;
            record off;
            wait_key on;
            play_restart on;
        }
    }
}
CONF
    nginx -e "$dir/logs/error.log" -c "$dir/nginx.conf" -p "$dir/" -g 'daemon off;' >"$dir/logs/stdout.log" 2>&1 &
    echo $! >"$dir/master.pid"
    for _ in $(seq 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "127.0.0.1:$port"; exit 0; fi
      kill -0 "$(cat "$dir/master.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "nginx-rtmp: not listening on 127.0.0.1:$port" >&2
    cat "$dir/logs/error.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -f "$dir/master.pid" ] || exit 0
    pid=$(cat "$dir/master.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/master.pid"
    ;;
  *)
    echo "usage: nginx-rtmp.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
