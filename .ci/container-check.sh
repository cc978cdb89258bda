#!/usr/bin/env bash
# Builds the Dockerfile with a real Docker daemon and runs the image in every role, in private
# loopback-only network namespaces: web, worker and sandbox side by side (read-only, non-root, no
# capabilities) with one event end to end; each role judged by the image's own HEALTHCHECK,
# a worker alone too, and unhealthy once its health key is gone; the console's pages (/ui) from
# the read-only web container, signed in with curl and a cookie jar; `run` all in one with its
# embedded Redis under /tmp (and one clear line without a writable /tmp); no pip or setuptools.
# For a Debian machine where we are root, with no Docker daemon and no access to the public image
# registry: it installs docker.io and debootstrap from Debian, starts dockerd without bridge or
# iptables, and builds a stand-in for the Dockerfile's python base image from Debian's own python3
# (same tag, so FROM resolves; an image of that name already present is used as it is).
# Usage: .ci/container-check.sh [REPO]    (builds REPO's committed HEAD). Leaves nothing running.
set -euo pipefail
REPO=$(readlink -f "${1:-.}"); W=${W:-$(mktemp -d)}; mkdir -p "$W"; cd "$W"
IMG=expbridge:ci
NAMES="eb-net eb-web eb-worker eb-sandbox eb-net2 eb-worker2 eb-net3 eb-run"
step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }
export DEBIAN_FRONTEND=noninteractive
step "docker.io, debootstrap, redis-server from Debian"
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker.io debootstrap redis-server curl >/dev/null
docker() { /usr/bin/docker "$@"; }  # Debian's client (with its BuildKit), whatever else is on PATH
dockerd --iptables=false --ip6tables=false --bridge=none >"$W/dockerd.log" 2>&1 & echo $! >"$W/dockerd.pid"
cleanup() {
  # shellcheck disable=SC2086
  docker rm -f $NAMES >/dev/null 2>&1 || true
  for pid in "$W"/redis*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
  kill "$(cat "$W/dockerd.pid")" 2>/dev/null || true; sleep 3
}
trap cleanup EXIT
for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done

step "stand-in base image"
BASE=$(python3 - "$REPO/Dockerfile" <<'PY'
import re, sys
args, base = {}, None
for line in open(sys.argv[1]):
    if m := re.match(r"ARG\s+(\w+)=(\S+)", line):
        args[m[1]] = m[2]
    if (m := re.match(r"FROM\s+(\S+)", line)) and base is None:
        base = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v[1], ""), m[1])
print(base)
PY
)
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$W/rootfs" "$MIRROR" >"$W/debootstrap.log"
  rm -rf "$W"/rootfs/var/cache/apt/archives/*.deb "$W"/rootfs/var/lib/apt/lists/*
  cp /usr/local/share/ca-certificates/*.crt "$W/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$W/rootfs" update-ca-certificates >/dev/null
  tar --numeric-owner -C "$W/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$BASE"
  rm -rf "$W/rootfs"
fi

step "build (the committed tree, host network: there is no bridge)"
rm -rf "$W/build" && mkdir "$W/build" && git -C "$REPO" archive HEAD | tar -x -C "$W/build"
DOCKER_BUILDKIT=1 docker build --network=host -t $IMG "$W/build"
docker image inspect $IMG --format 'image size: {{.Size}} bytes, user {{.Config.User}}'
test "$(docker run --rm --network=none --entrypoint id $IMG -u)" = 10001
docker run --rm --network=none --read-only $IMG --help >/dev/null

step "no pip, setuptools or pkg_resources in the image"
docker run --rm --network=none --entrypoint python $IMG -c '
import importlib.util, sys
found = [m for m in ("pip", "setuptools", "pkg_resources") if importlib.util.find_spec(m)]
sys.exit(f"importable at run time: {found}" if found else 0)'
left=$(docker run --rm --network=none --user 0 --entrypoint find $IMG / -xdev -maxdepth 7 -path '*-packages/*' \
  \( -name pip -o -name setuptools -o -name pkg_resources \) -print)
[ -z "$left" ] || { echo "left in the image: $left"; exit 1; }

# A container in a private network namespace holding only loopback; redis-server runs in it
# from the host (nsenter), and containers join it with --network=container:NAME.
netns() {
  docker run -d --name "$1" --network=none --entrypoint sleep "$BASE" infinity >/dev/null
  echo "nsenter --net=/proc/$(docker inspect -f '{{.State.Pid}}' "$1")/ns/net"
}
start_redis() {  # NSENTER NAME
  $1 redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no >"$W/$2.log" 2>&1 &
  echo $! >"$W/$2.pid"
}
wait_health() {  # CONTAINER WANTED
  local hs=none
  for _ in $(seq 40); do
    hs=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1")
    [ "$hs" = "$2" ] && { echo "$1: $hs by the image's health check"; return 0; }
    sleep 1
  done
  echo "$1 is '$hs' by the image's health check, not $2"; docker logs "$1" 2>&1 | tail -20; return 1
}
HC="--health-interval=2s --health-start-period=2s --health-retries=2"
SAFE="--read-only --cap-drop=ALL --security-opt=no-new-privileges"
REDIS_ENV="-e EXPBRIDGE_REDIS_URL=redis://127.0.0.1:6379/0"

step "web, worker and sandbox side by side; one event end to end"
IN=$(netns eb-net); start_redis "$IN" redis
C="--network=container:eb-net $SAFE $HC $REDIS_ENV"
# shellcheck disable=SC2086
docker run -d --name eb-sandbox $C $IMG sandbox >/dev/null
# shellcheck disable=SC2086
ADMIN_TOKEN=ci-admin-token-0123456789
# shellcheck disable=SC2086
docker run -d --name eb-web $C -e EXPBRIDGE_SOURCES='{"ci":{"token":"ci-token-123"}}' \
  -e EXPBRIDGE_ADMIN_TOKEN="$ADMIN_TOKEN" $IMG >/dev/null
# shellcheck disable=SC2086
docker run -d --name eb-worker $C $IMG worker >/dev/null
for _ in $(seq 30); do $IN curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break; sleep 1; done
$IN curl -fsS http://127.0.0.1:8080/healthz; echo
$IN curl -fsS http://127.0.0.1:8080/readyz; echo
# The worker starts on its own time (its imports, then Redis): wait for its metrics port too.
for _ in $(seq 30); do $IN curl -fsS -o /dev/null http://127.0.0.1:9091/metrics 2>/dev/null && break; sleep 1; done
$IN curl -fsS -o /dev/null http://127.0.0.1:9091/metrics || { docker logs eb-worker 2>&1 | tail -20; exit 1; }
for c in eb-web eb-worker eb-sandbox; do wait_health $c healthy; done
docker exec eb-worker expbridge worker --check
$IN curl -fsS -o /dev/null -H 'Content-Type: application/json' http://127.0.0.1:8090/_sandbox/seed \
  -d '{"qonversion":{"experiments":[{"id":"exp_demo","name":"Demo","alias_id":"demo_paywall","status":"draft"}]}}'
sent=$(docker run --rm --network=container:eb-net --read-only $IMG send experiment.start \
  --target qonversion:exp_demo --token ci-token-123 --wait --timeout 30)
grep -q '"status": "succeeded"' <<<"$sent"
EVENT_ID=$(sed -n 's/.*"id": "\(evt_[0-9a-f]*\)".*/\1/p' <<<"$sent" | head -1)
[ -n "$EVENT_ID" ]
echo "event $EVENT_ID succeeded"

step "the console (/ui) from the read-only image: sign in with a cookie jar, every page"
UI=http://127.0.0.1:8080/ui
JAR="$W/console.jar"
ui_get() {  # PATH MARKER: 200 and the marker in the page
  local body code
  body=$($IN curl -sS -b "$JAR" -c "$JAR" -o - -w '\n%{http_code}' "$UI$1")
  code=${body##*$'\n'}; body=${body%$'\n'*}
  [ "$code" = 200 ] || { echo "GET /ui$1: $code"; docker logs eb-web 2>&1 | tail -20; exit 1; }
  grep -qF -- "$2" <<<"$body" || { echo "GET /ui$1: no '$2' in the page"; exit 1; }
  echo "GET /ui$1: 200, '$2'"
}
form_token() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
signin=$($IN curl -sS -c "$JAR" "$UI/signin")
code=$($IN curl -sS -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" "$UI/signin" \
  --data-urlencode "csrf=$(form_token <<<"$signin")" --data-urlencode token=not-the-token)
[ "$code" = 401 ] || { echo "a wrong token: $code, not 401"; exit 1; }
signin=$($IN curl -sS -b "$JAR" -c "$JAR" "$UI/signin")
location=$($IN curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -b "$JAR" -c "$JAR" \
  "$UI/signin" --data-urlencode "csrf=$(form_token <<<"$signin")" \
  --data-urlencode "token=$ADMIN_TOKEN")
[ "$location" = "303 $UI/events" ] || { echo "signing in: '$location'"; exit 1; }
ui_get /events '<h1>Events</h1>'
ui_get "/events?status=succeeded" "$EVENT_ID"
ui_get "/events/$EVENT_ID" 'step qonversion.set_status'
ui_get /dead-letters '<h1>Dead letters</h1>'
ui_get /rules '<h1>Rules in force</h1>'
ui_get /providers '<h1>Providers and queue</h1>'
ui_get /static/console.css 'body'
ui_get /static/console.js 'addEventListener'
# Signed out: the pages lead to the sign-in form again.
csrf=$($IN curl -sS -b "$JAR" "$UI/events" | form_token)
$IN curl -sS -o /dev/null -b "$JAR" -c "$JAR" "$UI/signout" --data-urlencode "csrf=$csrf"
code=$($IN curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -b "$JAR" "$UI/events")
[ "$code" = "303 $UI/signin" ] || { echo "signed out, /ui/events: '$code'"; exit 1; }
echo "console: every page served from the read-only image"

step "a worker alone: healthy by the image's health check, unhealthy without its own health key"
IN2=$(netns eb-net2); start_redis "$IN2" redis2
# It refreshes its key once a minute here, so the key deleted below stays gone meanwhile.
# shellcheck disable=SC2086
docker run -d --name eb-worker2 --network=container:eb-net2 $SAFE $HC $REDIS_ENV \
  -e EXPBRIDGE_WORKER__HEALTH_CHECK_INTERVAL_S=60 $IMG worker >/dev/null
wait_health eb-worker2 healthy
key=$($IN2 redis-cli --scan --pattern '*:health-check:*')
[ -n "$key" ] && $IN2 redis-cli del "$key" >/dev/null
wait_health eb-worker2 unhealthy
docker inspect -f '{{.State.Running}}' eb-worker2 | grep -qx true  # judged while running

step "run: all in one with the embedded Redis under /tmp"
msg=$(docker run --rm --network=none --read-only $IMG run 2>&1 >/dev/null) && exit 1
echo "read-only without a writable /tmp: $msg"
[ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] && grep -q 'tmpfs /tmp' <<<"$msg"
netns eb-net3 >/dev/null
# shellcheck disable=SC2086
docker run -d --name eb-run --network=container:eb-net3 $SAFE $HC --tmpfs /tmp $IMG run >/dev/null
wait_health eb-run healthy
docker exec eb-run expbridge send experiment.start --target qonversion:exp_demo --wait --timeout 30 \
  | grep -q '"status": "succeeded"'
docker exec eb-run sh -c 'ls /tmp/expbridge/redis/'
echo "ALL CONTAINER CHECKS PASSED in ${SECONDS}s"
