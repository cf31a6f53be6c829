// A plan that widens IAM privileges needs two approvals at apply time, even in an environment
// that normally needs fewer. At plan time it warns, so reviewers know before they approve.
function evaluate(input) {
  var iam = input.plan.risks.filter(function (r) { return r.kind === "iam_privilege_expansion"; });
  if (iam.length === 0) {
    return "pass";
  }

  if (input.phase === "plan") {
    return { result: "warn", message: iam.length + " IAM privilege expansion(s): applying will need two approvals" };
  }

  var approvers = {};
  input.approvals.forEach(function (a) { approvers[a.approver] = true; });
  var count = Object.keys(approvers).length;
  return count >= 2
    ? { result: "pass", message: "IAM expansion approved by " + Object.keys(approvers).join(", ") }
    : { result: "fail", message: "IAM privilege expansion (" + iam[0].address + ") needs two approvals, has " + count };
}
