#!/usr/bin/env bash
# The Flex plugin, as CI checks it: a clean install from package-lock.json, the type check, the bundle that
# `twilio flex:plugins:deploy` uploads (build/plugin-conversation-transfers.js) and the unit tests.
# Offline but for the npm registry: the plugin tooling's build and test make no network call (its telemetry belongs
# to the Twilio CLI plugin, which is not used here).
#
# The bundle is built with FLEX_APP_TRANSFER_FUNCTIONS_URL=http://localhost:3001 (the local default of .env.example);
# the root suite's examples/flex-plugin/plugin-browser.test.ts loads it in Chromium and points it at its own
# functions, so run this script before the root tests. `twilio flex:plugins:deploy` builds again with your .env.
set -euo pipefail
cd "$(dirname "$0")"

export CI=true
export npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
# The tooling records the plugin in ~/.twilio-cli/flex/plugins.json (for the Twilio CLI): keep that out of the real
# home, and keep npm's cache where it was.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
HOME="$(mktemp -d)"
export HOME
trap 'rm -rf "$HOME"' EXIT
# The template's postinstall (`flex-plugin pre-script-check`) compares the plugin's tooling with the Twilio CLI's Flex
# plugin and reads ~/.twilio-cli/package.json to do so; CI has no Twilio CLI: an empty one says "no CLI plugin".
mkdir -p "$HOME/.twilio-cli"
echo '{ "private": true, "dependencies": {} }' >"$HOME/.twilio-cli/package.json"

step() {
  local name=$1
  shift
  local started=$SECONDS
  echo "== flex-plugin: $name"
  "$@"
  echo "== flex-plugin: $name took $((SECONDS - started)) s"
}

if [ -f .env ]; then echo "note: flex-plugin/.env is read by the build and overrides the URL above"; fi

step 'npm ci' npm ci
step 'typecheck' npm run typecheck
step 'build' env FLEX_APP_TRANSFER_FUNCTIONS_URL=http://localhost:3001 npm run build
test -s build/plugin-conversation-transfers.js
step 'test' npm test
