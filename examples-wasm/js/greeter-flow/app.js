// `greeter-flow`: calls the JavaScript activity component
// examples-wasm/js/greeter-activities from a JavaScript workflow.
//
// Input: {"name": "Ada", "key": "k1", "text": "...", "fail_times": 2}.
// Greets the name, remembers the text under the key in the activity's
// sandbox and recalls it, recalls a key never written (a typed failure with
// the sandbox's code), greets an empty name (a non-retryable failure), and
// calls `flaky` with a retry policy; returns every result.

import { ActivityFailed, RetryPolicy, workflow } from "../../../sdk/js/continuum.js";

/** The typed failure of an activity call, as JSON (null when it succeeded). */
function failureOf(call) {
  try {
    call();
    return null;
  } catch (e) {
    if (!(e instanceof ActivityFailed)) throw e;
    return { kind: e.kind, code: e.code ?? null, attempts: e.attempts, message: e.message };
  }
}

export const run = workflow((ctx, input) => {
  const greeting = ctx.activity("greet", { name: input.name }).call();
  const remembered = ctx.activity("remember", { key: input.key, text: input.text }).call();
  const recalled = ctx.activity("recall", { key: input.key }).call();
  const missing = failureOf(() => ctx.activity("recall", { key: `${input.key}-missing` }).retry(RetryPolicy.constant(3, 10)).call());
  const nameless = failureOf(() => ctx.activity("greet", { name: "" }).retry(RetryPolicy.constant(3, 10)).call());
  const flaky = ctx.activity("flaky", { fail_times: input.fail_times ?? 0 }).retry(RetryPolicy.constant(5, 10)).call();
  return { greeting, remembered, recalled, missing, nameless, flaky };
});
