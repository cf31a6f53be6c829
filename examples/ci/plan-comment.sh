#!/bin/sh
# Plans every stack a change affects, in each environment of $AIRLOCK_PLAN_ENVIRONMENTS, and writes
# a Markdown summary (counts, risks, policy warnings and failures) to $AIRLOCK_CI_OUT/plan-comment.md
# for a pull or merge request comment. Used by github-actions.yml and gitlab-ci.yml; needs airlock,
# git and jq. Its files go outside the checkout: a dirty tree cannot be planned where approvals
# are needed (approvals bind to a commit).
#
#   plan-comment.sh BASE_REF      e.g. origin/main
#
# Exit 0 when every plan was made and policy allows it, 3 when policy denies one (or refuses to
# plan), 1 when a plan failed. Environments that roll out in waves need one plan per region
# (airlock plan --region R): extend the loop before listing such an environment.
set -eu

base="$1"
environments="${AIRLOCK_PLAN_ENVIRONMENTS:-dev}"
dir="${AIRLOCK_CI_OUT:-$(mktemp -d)}"
mkdir -p "$dir"
out="$dir/plan-comment.md"
status=0

printf '### Airlock plan for %s (compared with %s)\n\n' "$(git rev-parse --short HEAD)" "$base" > "$out"
for env in $environments; do
  stacks=$(airlock graph --env "$env" --base "$base" --format json | jq -r '.affected[].stack')
  if [ -z "$stacks" ]; then
    printf -- '- **%s**: no stack affected\n\n' "$env" >> "$out"
    continue
  fi

  for stack in $stacks; do
    json="$dir/plan-$stack-$env.json"
    log="$dir/plan-$stack-$env.log"
    rc=0
    airlock plan "$stack" --env "$env" --json > "$json" 2> "$log" || rc=$?
    if [ -s "$json" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; }; then
      jq -r '
        "#### \(.stack) in \(.environment): policy \(.policy.decision)\n",
        "create \(.summary.counts.create) · update \(.summary.counts.update) · replace \(.summary.counts.replace) · delete \(.summary.counts.delete) · plan `\(.plan_id)`\n",
        (.summary.risks[] | "- risk `\(.kind)` on `\(.address)`: \(.detail)"),
        (.policy.rules[] | select(.result != "pass") | "- \(.result) `\(.id)`: \(.message)"),
        ""' "$json" >> "$out"
    else
      printf -- '#### %s in %s: no plan (exit %s)\n\n    %s\n\n' "$stack" "$env" "$rc" "$(tail -n 1 "$log")" >> "$out"
    fi

    case "$rc" in
      0) ;;
      3) if [ "$status" -eq 0 ]; then status=3; fi ;;
      *) status=1 ;;
    esac
  done
done

cat "$out"
exit "$status"
