// No prod applies from Friday 15:00 UTC to the end of the weekend. The clock is the evaluation
// time Airlock passes in (Date and input.now agree), never the host's, so a test can pin it
// with "now" and plan-time and apply-time answers are reproducible. Plan time only warns.
function evaluate(input) {
  if (input.environment.name !== "prod") {
    return "pass";
  }

  var now = new Date();
  var day = now.getUTCDay(); // 0 Sunday ... 5 Friday, 6 Saturday
  var blocked = day === 6 || day === 0 || (day === 5 && now.getUTCHours() >= 15);
  if (!blocked) {
    return "pass";
  }

  var message = "no prod changes from Friday 15:00 UTC until Monday (now " + now.toISOString() + ")";
  return { result: input.phase === "plan" ? "warn" : "fail", message: message };
}
