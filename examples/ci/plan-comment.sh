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
#
# GitHub refuses a comment over 65,536 characters: each plan lists its first
# $AIRLOCK_COMMENT_MAX_ITEMS risks and policy findings (default 25), and a comment still longer
# than $AIRLOCK_COMMENT_MAX_BYTES (default 60000) is cut at a line, saying so at the top. The
# whole text stays in plan-comment-full.md, every risk in each plan's JSON, both in $AIRLOCK_CI_OUT.
set -eu

base="$1"
environments="${AIRLOCK_PLAN_ENVIRONMENTS:-dev}"
dir="${AIRLOCK_CI_OUT:-$(mktemp -d)}"
mkdir -p "$dir"
out="$dir/plan-comment.md"
full="$dir/plan-comment-full.md"
max_items="${AIRLOCK_COMMENT_MAX_ITEMS:-25}"
max_bytes="${AIRLOCK_COMMENT_MAX_BYTES:-60000}"
status=0

heading=$(printf '### Airlock plan for %s (compared with %s)' "$(git rev-parse --short HEAD)" "$base")
printf '%s\n\n' "$heading" > "$full"
for env in $environments; do
  stacks=$(airlock graph --env "$env" --base "$base" --format json | jq -r '.affected[].stack')
  if [ -z "$stacks" ]; then
    printf -- '- **%s**: no stack affected\n\n' "$env" >> "$full"
    continue
  fi

  for stack in $stacks; do
    json="$dir/plan-$stack-$env.json"
    log="$dir/plan-$stack-$env.log"
    rc=0
    airlock plan "$stack" --env "$env" --json > "$json" 2> "$log" || rc=$?
    if [ -s "$json" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; }; then
      jq -r --argjson max "$max_items" --arg file "${json##*/}" '
        def capped(lines): (lines | length) as $n | lines[:$max][],
          (if $n > $max then "- … and \($n - $max) more not shown (all in \($file))" else empty end);
        "#### \(.stack) in \(.environment): policy \(.policy.decision)\n",
        "create \(.summary.counts.create) · update \(.summary.counts.update) · replace \(.summary.counts.replace) · delete \(.summary.counts.delete) · plan `\(.plan_id)`\n",
        capped([.summary.risks[] | "- risk `\(.kind)` on `\(.address)`: \(.detail)"]),
        capped([.policy.rules[] | select(.result != "pass") | "- \(.result) `\(.id)`: \(.message)"]),
        ""' "$json" >> "$full"
    else
      printf -- '#### %s in %s: no plan (exit %s)\n\n    %s\n\n' "$stack" "$env" "$rc" "$(tail -n 1 "$log")" >> "$full"
    fi

    case "$rc" in
      0) ;;
      3) if [ "$status" -eq 0 ]; then status=3; fi ;;
      *) status=1 ;;
    esac
  done
done

# Bytes, not characters (LC_ALL=C): under the limit whatever the text's alphabet.
size=$(wc -c < "$full")
if [ "$size" -le "$max_bytes" ]; then
  cp "$full" "$out"
else
  {
    printf '%s\n\n' "$heading"
    printf '> **Shortened to fit a comment** (the whole text is %s bytes): plan-comment-full.md and each plan'"'"'s JSON, in the CI job'"'"'s plan files, have everything.\n\n' "$size"
    LC_ALL=C awk -v max="$((max_bytes - 400))" 'NR > 2 { used += length($0) + 1; if (used > max) exit; print }' "$full"
  } > "$out"
fi

cat "$out"
exit "$status"
