#!/usr/bin/env bash
# Refresh the vendored front-end assets from package-lock.json (exact versions).
# Installs into a temp dir, copies only the minified dist files and each LICENSE into
# static/vendor/<package>/, and never leaves node_modules in the tree.
# To upgrade: edit the versions in package.json, run `npm install --package-lock-only`
# here, then run this script and commit the result.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

nm="$tmp/node_modules"
# package  source file  (relative to node_modules/<package>/)
files=(
  "htmx.org dist/htmx.min.js"
  "htmx.org LICENSE"
  "bootstrap dist/css/bootstrap.min.css"
  "bootstrap dist/js/bootstrap.bundle.min.js"
  "bootstrap LICENSE"
  "chart.js dist/chart.umd.min.js"
  "chart.js LICENSE.md"
)

for pkg in htmx.org bootstrap chart.js; do
  rm -rf "${here:?}/$pkg"
  mkdir -p "$here/$pkg"
done

for entry in "${files[@]}"; do
  read -r pkg src <<<"$entry"
  dest="$here/$pkg/$(basename "$src")"
  cp "$nm/$pkg/$src" "$dest"
  # Source maps are not vendored; drop the comment that points at them, otherwise the
  # manifest storage used in production fails on the missing .map file in collectstatic.
  case "$dest" in
    *.js | *.css) sed -i -e '/sourceMappingURL=/d' "$dest" ;;
  esac
done

for pkg in htmx.org bootstrap chart.js; do
  version="$(node -p "require('$nm/$pkg/package.json').version")"
  echo "$pkg $version -> static/vendor/$pkg/"
done
