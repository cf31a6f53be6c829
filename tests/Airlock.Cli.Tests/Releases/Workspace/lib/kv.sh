#!/bin/sh
# A command-engine stack over real local files, shared by every stack of this test workspace.
# The stack's resource is world/<env>/<region>/<stack>.json: the stack's `desired` file plus the
# inputs Airlock passes ($AIRLOCK_INPUTS). Its state is <stack>.state ("serial=N", "sha=<sha256>").
# Usage (from the stack directory): ../../lib/kv.sh plan|apply|serial|outputs
#
# Test knobs (clearly test-only): KV_FAIL=<stack> makes that stack's apply fail before changing
# anything; KV_DELAY=<seconds> waits before every apply. Every apply appends one line to
# world/apply.log, so tests can count applies.
set -eu
export LC_ALL=C
stack=$(basename "$(pwd)")
region=${AIRLOCK_REGION:-_}
[ -n "$region" ] || region=_
# The "real resources" live outside any checkout, as real infrastructure does: a revert worktree
# of an earlier commit must act on the same world.
world=${RELEASE_WORLD:?the test sets RELEASE_WORLD}
dir="$world/$AIRLOCK_ENVIRONMENT/$region"
resource="$dir/$stack.json"
state="$dir/$stack.state"
fail() { echo "$stack: $*" >&2; exit 1; }

serial() { if [ -f "$state" ]; then sed -n 's/^serial=//p' "$state"; else echo 0; fi; }
have() { if [ -f "$state" ]; then sed -n 's/^sha=//p' "$state"; else echo -; fi; }
content() { printf '{"stack":"%s","desired":"%s","inputs":%s}\n' "$stack" "$(tr -d '\n"\\' < desired)" "${AIRLOCK_INPUTS:-{\}}"; }

case "$1" in
  plan)
    want=$(content | sha256sum | cut -d' ' -f1)
    now=$(have)
    if [ "$now" = - ]; then action=create; before=null
    elif [ "$now" = "$want" ]; then action=no-op; before="{\"sha\":\"$now\"}"
    else action=update; before="{\"sha\":\"$now\"}"; fi
    content > "$AIRLOCK_PLAN_FILE.content"
    printf 'kv-plan %s %s %s\n' "$now" "$want" "$AIRLOCK_ENVIRONMENT/$region" > "$AIRLOCK_PLAN_FILE"
    printf '{"format_version":"1.2","resource_changes":[{"address":"local_file.%s","mode":"managed","type":"local_file","name":"%s","provider_name":"test/kv","change":{"actions":["%s"],"before":%s,"after":{"sha":"%s"},"after_unknown":{}}}]}\n' \
      "$stack" "$stack" "$action" "$before" "$want" > "$AIRLOCK_PLAN_JSON"
    echo "$stack in $AIRLOCK_ENVIRONMENT/$region: $action"
    ;;
  apply)
    read -r magic planned_have want target < "$AIRLOCK_PLAN_FILE"
    [ "$magic" = kv-plan ] || fail "not a kv plan"
    [ "$target" = "$AIRLOCK_ENVIRONMENT/$region" ] || fail "plan for $target applied to $AIRLOCK_ENVIRONMENT/$region"
    [ "$(have)" = "$planned_have" ] || fail "Saved plan is stale: state changed since the plan"
    if [ -n "${KV_DELAY:-}" ]; then sleep "$KV_DELAY"; fi
    [ "${KV_FAIL:-}" != "$stack" ] || fail "Error: apply failed (KV_FAIL=$stack test knob); nothing changed"
    mkdir -p "$dir"
    cp "$AIRLOCK_PLAN_FILE.content" "$resource.new" && mv "$resource.new" "$resource"
    next=$(( $(serial) + 1 ))
    printf 'serial=%s\nsha=%s\n' "$next" "$want" > "$state.new" && mv "$state.new" "$state"
    echo "$AIRLOCK_ENVIRONMENT $region $stack $next" >> "$world/apply.log"
    echo "local_file.$stack: Creation complete after 0s"
    echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
    ;;
  serial) serial ;;
  outputs)
    if [ -f "$state" ]; then
      printf '{"id":"%s-%s-%s-%s","path":"%s"}\n' "$stack" "$AIRLOCK_ENVIRONMENT" "$region" "$(have | cut -c1-8)" "world/$AIRLOCK_ENVIRONMENT/$region/$stack.json"
    else
      echo '{}'
    fi
    ;;
  *) fail "unknown command $1" ;;
esac
