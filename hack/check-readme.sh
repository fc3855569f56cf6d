#!/usr/bin/env bash
# The README's "Using it" section, run verbatim as a new user pastes it right after
# `make demo`: every ```bash block of that section, in order, in one fresh bash (a clean
# environment: HOME, a plain PATH, TERM; what the blocks need comes from their own
# `source .cluster/env`), from the repository root, with `set -euo pipefail`. The first
# command that fails ends the check, named with its exit status.
#
#   hack/check-readme.sh        (make readme-check; make test runs it after the demo)
#
# The jobs those blocks create (README_JOBS) are deleted first, with their stored models,
# so every run is a new user's first paste; the check fails when the blocks did not leave
# each of them Succeeded, so the list cannot drift from the README either.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

README="$REPO_ROOT/README.md"
SECTION="## Using it"
README_JOBS=(default/iris-forest demo/wine-boosting demo/iris-forest-cli)
ARTIFACTS_DIR=/var/lib/aijob/artifacts
TIMEOUT_SECONDS="${AIJOB_README_TIMEOUT:-900}"
SCRIPT="$CLUSTER_DIR/readme-check.sh"
CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[[ -f $CLUSTER_DIR/env ]] || die "no $CLUSTER_DIR/env: the README's blocks run after 'make demo'"

# The ```bash blocks between the section's heading and the next `## ` heading.
blocks=$(awk -v section="$SECTION" '
  $0 == section { inside = 1; next }
  inside && /^## / { exit }
  inside && /^```bash[[:space:]]*$/ { block = 1; blocks++; printf "# README block %d\n", blocks; next }
  inside && block && /^```[[:space:]]*$/ { block = 0; next }
  inside && block { print }
' "$README")
count=$(grep -c '^# README block ' <<<"$blocks" || true)
((count > 0)) || die "no \`\`\`bash block under \"$SECTION\" in README.md"
# A command that never ends (a watch, a followed log) belongs in the prose, not in a block.
if grep -nE 'kubectl[[:space:]].*[[:space:]](-w|--watch)([[:space:]]|$)|[[:space:]]logs[[:space:]].*[[:space:]](-f|--follow)([[:space:]]|$)' <<<"$blocks"; then
  die "the line above never ends: say it in the README's prose, keep the blocks finite"
fi

say "deleting the jobs the README creates (${README_JOBS[*]}), as before a first paste"
for job in "${README_JOBS[@]}"; do
  namespace=${job%/*} name=${job#*/}
  kc -n "$namespace" delete aijob "$name" --ignore-not-found --wait=true --timeout=120s >/dev/null
  rm -rf "${ARTIFACTS_DIR:?}/$namespace/$name" 2>/dev/null || true
done

emit_block() {  # emit_block NUMBER TEXT: show the block as the user pastes it, then run it
  printf 'printf "\\n[check-readme] README block %d of %d\\n%%s\\n" %q\n' "$1" "$count" "$(sed 's/^/$ /' <<<"$2")"
  printf '%s\n' "$2"
}
{
  echo "set -euo pipefail"
  # shellcheck disable=SC2016 # expanded by the check's bash, not here
  echo 'trap '\''echo "[check-readme] FAILED (exit $?): $BASH_COMMAND" >&2'\'' ERR'
  number=0 text=""
  while IFS= read -r line; do
    if [[ $line == "# README block "* ]]; then
      ((number == 0)) || emit_block "$number" "$text"
      number=${line#\# README block } text=""
    else
      text+="${text:+$'\n'}$line"
    fi
  done <<<"$blocks"
  emit_block "$number" "$text"
} >"$SCRIPT"

say "running $count blocks of README.md \"$SECTION\" in a fresh bash (script: $SCRIPT)"
cd "$REPO_ROOT"
env -i HOME="$HOME" PATH="$CLEAN_PATH" TERM="${TERM:-dumb}" LANG=C.UTF-8 \
  timeout --kill-after=10 "$TIMEOUT_SECONDS" bash --noprofile --norc "$SCRIPT" \
  || die "a README command failed (above); the blocks are in $SCRIPT"

for job in "${README_JOBS[@]}"; do
  namespace=${job%/*} name=${job#*/}
  phase=$(kc -n "$namespace" get aijob "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ $phase == Succeeded ]] \
    || die "aijob $name in $namespace is '${phase:-missing}', not Succeeded: README_JOBS in $0 must list the jobs the README's blocks create"
done
say "README.md \"$SECTION\": every command succeeded; ${README_JOBS[*]} Succeeded"
