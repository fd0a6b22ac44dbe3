#!/bin/sh
# `make bin`: puts sei-inject and latency-probe of the plain build (`make build`, CONFIG=Release by default) on one
# known path, artifacts/bin (or the folder given), as two small launchers that run the built programs with `dotnet`.
# A Native AOT sei-inject that `make publish` left there is kept. Add the folder to PATH to type the README's commands.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
config=${CONFIG:-Release}
out=${1:-"$root/artifacts/bin"}
mkdir -p "$out"
for pair in "sei-inject SeiInjector" "latency-probe LatencyProbe"; do
  set -- $pair
  dll="$root/src/$2/bin/$config/net10.0/$1.dll"
  if [ ! -f "$dll" ]; then
    echo "make-bin: $dll is missing: run make build (CONFIG=$config) first" >&2
    exit 1
  fi
  if [ -f "$out/$1" ] && ! grep -q "launcher made by scripts/make-bin.sh" "$out/$1" 2>/dev/null; then
    echo "make-bin: keeping $out/$1 (the Native AOT binary of make publish)"
    continue
  fi
  printf '#!/bin/sh\n# launcher made by scripts/make-bin.sh: the %s build of %s\nexec dotnet "%s" "$@"\n' "$config" "$1" "$dll" > "$out/$1"
  chmod +x "$out/$1"
done
echo "make-bin: $out/sei-inject and $out/latency-probe (export PATH=\"$out:\$PATH\")"
