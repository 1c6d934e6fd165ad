#!/usr/bin/env bash
# Rewrites Sources/OppsCore/DefaultWorkspace.swift from docs/default-workspace.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/OppsCore/DefaultWorkspace.swift
{
  echo '// Generated from docs/default-workspace.json by Tools/embed-default-workspace.sh; a test'
  echo '// checks the two are identical. Edit the JSON, then rerun the script.'
  echo ''
  echo 'extension Workspace {'
  echo '    /// The text of the built-in default workspace (DOMAIN.md), as the operator would write it.'
  echo '    public static let defaultDocument: String = #"""'
  cat docs/default-workspace.json
  echo '"""#'
  echo ''
  echo '    /// The built-in default workspace, decoded.'
  echo '    public static let `default`: Workspace = {'
  echo '        do { return try Workspace.decode(defaultDocument) } catch { fatalError("built-in workspace is invalid: \(error)") }'
  echo '    }()'
  echo '}'
} > "$out"
echo "wrote $out"
