#!/usr/bin/env bash
# Regenerates the reference pages into a temporary directory and compares them with the
# checked-in copies. Exits non-zero (and shows the diff) when they differ, so a change to a
# declaration cannot land without its documentation.
# Usage: tools/check_docs.sh [path/to/gen_docs] [docs/user]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
gen_docs=${1:-$root/build/dev/tools/gen_docs}
docs_dir=${2:-$root/docs/user}

if [[ ! -x "$gen_docs" ]]; then
  echo "check_docs: $gen_docs not found; build the gen_docs target first" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen_docs" --out "$tmp"

status=0
for page in config.md metrics.md; do
  if ! diff -u "$docs_dir/$page" "$tmp/$page"; then
    echo "check_docs: docs/user/$page is stale; regenerate with: $gen_docs --out $docs_dir" >&2
    status=1
  fi
done
exit $status
