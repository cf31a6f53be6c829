// Caps how many resources one plan may delete or replace, so a mistaken refactor that would
// destroy half a stack is stopped before anyone approves it. Counts come from the plan summary.
var LIMIT = 5;

function evaluate(input) {
  var destroyed = input.plan.counts["delete"] + input.plan.counts["replace"];
  if (destroyed <= LIMIT) {
    return { result: "pass", message: destroyed + " delete(s)/replacement(s), limit " + LIMIT };
  }

  return {
    result: "fail",
    message: "the plan deletes or replaces " + destroyed + " resources (limit " + LIMIT + "): split the change or raise the limit in review",
  };
}
