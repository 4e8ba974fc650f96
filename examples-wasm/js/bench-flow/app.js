// `bench-flow` in JavaScript: the same two-activity flow as the Rust
// examples-wasm/bench-flow, for the benchmark. Calls activity `step_one`
// then `step_two` with its input and returns {"one": ..., "two": ...}.

import { workflow } from "../../../sdk/js/continuum.js";

export const run = workflow((ctx, input) => {
  const one = ctx.activity("step_one", input).call();
  const two = ctx.activity("step_two", input).call();
  return { one, two };
});
