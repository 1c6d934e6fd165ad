#!/usr/bin/env bash
# A first look: builds the tools and shows the workspace rules and how conflicts resolve.
# (The hub + replica demo arrives with the hub and replica issues.)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
bin=.build/debug
echo
echo "== The default workspace validates =="
$bin/opps-hub workspace show > /tmp/opps-demo-workspace.json
$bin/opps-hub workspace check /tmp/opps-demo-workspace.json
echo
echo "== A broken one is reported line by line =="
sed 's/"group": "postsale"}/"group": "post-sale"}/' /tmp/opps-demo-workspace.json > /tmp/opps-demo-broken.json
$bin/opps-hub workspace check /tmp/opps-demo-broken.json || true
echo
echo "== What an expert on the team may do in the solution stage =="
$bin/opps rules --role expert --stage solution --relations team
echo
echo "== What the owning rep may do in proposal =="
$bin/opps rules --role sales --stage proposal --relations owner
