#!/usr/bin/env bash
# npm run test:e2e — the extension tested inside a real VS Code (code-server) with headless Chromium.
#
#  1. installs Chromium, Node 24 and code-server when missing (scripts/e2e/tools.sh, cached in
#     ~/.cache/heat-lens-e2e or $HEAT_E2E_CACHE)
#  2. builds, packages the linux-x64 VSIX and checks its contents (test/e2e/node)
#  3. installs the VSIX into code-server bound to 127.0.0.1 with a throw-away profile
#  4. runs the extension-host suite (test/e2e/suite, mocha inside the extension host)
#  5. runs the UI suite (test/e2e/ui, playwright-core driving Chromium)
# Screenshots and logs go to e2e-artifacts/. HEAT_E2E_KEEP=1 keeps the temporary folder;
# HEAT_E2E_GREP=text runs only the tests whose title matches; HEAT_E2E_PORT picks the port.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tools.sh
source scripts/e2e/tools.sh

ARTIFACTS=${HEAT_E2E_ARTIFACTS:-$ROOT/e2e-artifacts}
STATE=$(mktemp -d -t heat-e2e.XXXXXX)
# the extension-host bundle lives in the checkout (mocha resolves from its node_modules), one folder per run
TESTS_DIR=$ROOT/dist/test/e2e-runs/$(basename "$STATE")
CS_PID=
T0=$SECONDS
TIMINGS=()
lap() { TIMINGS+=("$1=$(( SECONDS - $2 ))s"); e2e_log "$1 took $(( SECONDS - $2 ))s"; }

stop_code_server() {
  if [ -n "$CS_PID" ]; then
    kill "$CS_PID" 2>/dev/null || true
    wait "$CS_PID" 2>/dev/null || true
    CS_PID=
  fi
}
cleanup() {
  stop_code_server
  if [ -d "$STATE/user/logs" ]; then cp -r "$STATE/user/logs" "$ARTIFACTS/vscode-logs" 2>/dev/null || true; fi
  if [ -z "${HEAT_E2E_KEEP:-}" ]; then rm -rf "$STATE" "$TESTS_DIR"; else e2e_log "kept $STATE and $TESTS_DIR"; fi
}
trap cleanup EXIT

rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "e2e: runs on linux-x64 only (code-server and Node 24 come from linux-x64 npm packages)" >&2; exit 1; }

# 1. tools ---------------------------------------------------------------------------------------------
s=$SECONDS; install_e2e_tools; lap tools $s
TSX=$ROOT/node_modules/.bin/tsx

# 2. build, package, check the VSIX -------------------------------------------------------------------
s=$SECONDS
npm run -s build
node scripts/e2e/build-tests.mjs "$TESTS_DIR"
"$TSX" scripts/package/main.ts --target linux-x64 --no-build --out-dir "$STATE/vsix" | grep -v '^\s*[├└│]' || true
VSIX=$(ls "$STATE"/vsix/heat-lens-linux-x64-*.vsix 2>/dev/null | head -1)
[ -n "$VSIX" ] || { echo "e2e: packaging produced no linux-x64 VSIX" >&2; exit 1; }
lap package $s

s=$SECONDS
HEAT_E2E_VSIX=$VSIX HEAT_E2E_NODE24=$NODE24/bin/node HEAT_E2E_STATE=$STATE \
  "$TSX" scripts/e2e/mocha.ts "$STATE/results-vsix.json" test/e2e/node/*.e2e.ts || true
lap vsix-checks $s

# 3. code-server profile, VSIX install, workspaces ---------------------------------------------------
# code-server and Chromium write under $HOME whatever their data-dir flags say: keep them in $STATE
export XDG_CONFIG_HOME=$STATE/xdg/config XDG_DATA_HOME=$STATE/xdg/data XDG_CACHE_HOME=$STATE/xdg/cache
# no extension gallery: neither the server nor the page may query one
export EXTENSIONS_GALLERY='{}'

PORT=${HEAT_E2E_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "e2e: 127.0.0.1:$PORT is already in use (a stale code-server?); free it or set HEAT_E2E_PORT" >&2
  exit 1
fi
URL=http://127.0.0.1:$PORT

mkdir -p "$STATE/user/User" "$STATE/extensions"
cat > "$STATE/user/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "npm.autoDetect": "off",
  "typescript.tsserver.experimental.enableProjectDiagnostics": false
}
JSON
cat > "$STATE/config.yaml" <<YAML
bind-addr: 127.0.0.1:$PORT
auth: none
cert: false
disable-telemetry: true
disable-update-check: true
disable-workspace-trust: true
disable-getting-started-override: true
YAML
CODE_SERVER=("$NODE24/bin/node" "$CODE_SERVER_JS" --config "$STATE/config.yaml" --user-data-dir "$STATE/user" --extensions-dir "$STATE/extensions")

s=$SECONDS
"${CODE_SERVER[@]}" --install-extension "$VSIX" > "$STATE/install.log" 2>&1 || { cat "$STATE/install.log"; exit 1; }
EXTENSION=$(ls -d "$STATE"/extensions/heat-lens.heat-lens-* 2>/dev/null | head -1)
[ -n "$EXTENSION" ] || { cat "$STATE/install.log"; echo "e2e: the VSIX did not install" >&2; exit 1; }
lap install-vsix $s

# one workspace per suite, so that what one suite writes (settings, statistics) never reaches the other
make_workspace() {
  local dir=$STATE/$1
  cp -r samples/street "$dir"
  # outputs of earlier runs in the checkout's sample are not part of the sample
  rm -rf "$dir"/*.safetensors "$dir/.heat-lens"
  cp test/e2e/fixtures/checklist.md "$dir/checklist.md"
  # the user's guide is read from ../shared when present and only ever copied into this temporary folder
  if [ -f "$ROOT/../shared/seed/HEAT-implementation-guide.md" ]; then
    mkdir -p "$dir/guide" && cp "$ROOT/../shared/seed/HEAT-implementation-guide.md" "$dir/guide/"
  fi
  echo "$dir"
}

start_code_server() {
  local workspace=$1 log=$2
  "${CODE_SERVER[@]}" --vscode-option enable-smoke-test-driver "$workspace" > "$log" 2>&1 &
  CS_PID=$!
  for _ in $(seq 1 300); do
    if curl -sf -o /dev/null "$URL/healthz"; then return 0; fi
    kill -0 "$CS_PID" 2>/dev/null || break
    sleep 0.2
  done
  cat "$log" >&2
  echo "e2e: code-server did not come up on $URL" >&2
  return 1
}

# 4. extension-host suite ------------------------------------------------------------------------------
# HEAT_E2E_ONLY=ui or =ext-host runs one suite (while working on it); CI runs both
if [ "${HEAT_E2E_ONLY:-ext-host}" = ext-host ]; then
s=$SECONDS
WS_HOST=$(make_workspace ws-host)
# config.json beside the bundle tells the suite where things are (the extension host's environment is code-server's)
TESTS_DIR=$TESTS_DIR RESULTS=$STATE/results-ext-host.json LOGS=$STATE/user/logs WS=$WS_HOST HEAT_E2E_ARTIFACTS_DIR=$ARTIFACTS node -e '
  const fs = require("fs");
  const guide = "guide/HEAT-implementation-guide.md";
  fs.writeFileSync(process.env.TESTS_DIR + "/config.json", JSON.stringify({
    resultsFile: process.env.RESULTS, artifactsDir: process.env.HEAT_E2E_ARTIFACTS_DIR, repoRoot: process.cwd(), logsDir: process.env.LOGS,
    guidePath: fs.existsSync(process.env.WS + "/" + guide) ? guide : undefined, grep: process.env.HEAT_E2E_GREP || undefined,
  }, null, 2));'
start_code_server "$WS_HOST" "$ARTIFACTS/code-server-ext-host.log"
HEAT_E2E_URL=$URL HEAT_E2E_WORKSPACE=$WS_HOST HEAT_E2E_EXTENSION=$EXTENSION HEAT_E2E_TESTS=$TESTS_DIR/index.js \
  HEAT_E2E_ARTIFACTS=$ARTIFACTS timeout 1800 "$TSX" scripts/e2e/ext-host.ts || true
stop_code_server
# each suite's VS Code logs (with the extension's log channel) apart, so the next suite starts a fresh set
mv "$STATE/user/logs" "$ARTIFACTS/vscode-logs-ext-host" 2>/dev/null || true
lap ext-host-suite $s
fi

# 5. UI suite -------------------------------------------------------------------------------------------
if [ "${HEAT_E2E_ONLY:-ui}" = ui ]; then
s=$SECONDS
WS_UI=$(make_workspace ws-ui)
start_code_server "$WS_UI" "$ARTIFACTS/code-server-ui.log"
HEAT_E2E_URL=$URL HEAT_E2E_WORKSPACE=$WS_UI HEAT_E2E_EXTENSION=$EXTENSION HEAT_E2E_ARTIFACTS=$ARTIFACTS HEAT_E2E_LOGS=$STATE/user/logs HEAT_E2E_STATE=$STATE \
  timeout 1800 "$TSX" scripts/e2e/mocha.ts "$STATE/results-ui.json" test/e2e/ui/*.e2e.ts || true
stop_code_server
mv "$STATE/user/logs" "$ARTIFACTS/vscode-logs-ui" 2>/dev/null || true
lap ui-suite $s
fi

# closing line: every phase added up; a phase without results counts as one failure
node - "$STATE" "$((SECONDS - T0))" "${TIMINGS[*]}" <<'NODE'
const [state, total, timings] = process.argv.slice(2);
const fs = require('fs');
let passed = 0, failed = 0, skipped = 0;
const only = process.env.HEAT_E2E_ONLY;
for (const phase of ['vsix', 'ext-host', 'ui'].filter((p) => !only || p === 'vsix' || p === only)) {
  const file = `${state}/results-${phase}.json`;
  if (!fs.existsSync(file)) { console.log(`e2e ${phase}: no results (the suite did not finish)`); failed++; continue; }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  console.log(`e2e ${phase}: ${r.passes} passed, ${r.failures} failed, ${r.pending} skipped`);
  passed += r.passes; failed += r.failures; skipped += r.pending;
}
console.log(`e2e timings: ${timings} total=${total}s`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
NODE
