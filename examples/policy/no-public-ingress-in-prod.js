// Refuses plans that open a network path to the internet in prod; elsewhere it only warns,
// so reviewers still see it. Reads the plan summary's risk findings (kind public_ingress_added).
function evaluate(input) {
  var found = input.plan.risks.filter(function (r) { return r.kind === "public_ingress_added"; });
  if (found.length === 0) {
    return "pass";
  }

  var messages = found.map(function (r) { return r.address + ": " + r.detail; });
  return {
    result: input.environment.name === "prod" ? "fail" : "warn",
    messages: messages,
  };
}
