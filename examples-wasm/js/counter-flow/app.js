// `counter-flow` in JavaScript: the same workflow as the Rust
// examples-wasm/counter-flow. Adds up the numbers sent as `add` (a signal
// or an update, replied to with the new total) until "stop"; "reject" is
// rejected. Queries: `count`, `status`, `echo`, and `fail` (always fails).

import { workflow } from "../../../sdk/js/continuum.js";

export const run = workflow((ctx, _input) => {
  const state = { count: 0, adds: 0, stopped: false };
  ctx.onQuery("count", () => state.count);
  ctx.onQuery("status", () => ({ ...state }));
  ctx.onQuery("echo", (args) => args);
  ctx.onQuery("fail", () => {
    throw new Error("the fail query always fails");
  });
  for (;;) {
    const update = ctx.update("add");
    let value = update.value;
    if (value === "stop") {
      update.reply(state.count);
      break;
    }
    if (value === "reject") {
      update.reject('the counter rejects "reject"');
      continue;
    }
    if (value !== null && typeof value === "object") {
      if (value.delay_ms > 0) ctx.sleep(value.delay_ms);
      value = value.add ?? 0;
    }
    state.count += Number.isInteger(value) ? value : 0;
    state.adds += 1;
    update.reply(state.count);
  }
  state.stopped = true;
  return { count: state.count, adds: state.adds };
});
