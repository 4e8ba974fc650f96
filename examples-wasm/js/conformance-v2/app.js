// The conformance suite's JavaScript workflow (docs/conformance.md), v2:
// the same as v1 but for its `drift` case, which calls the activity
// `conf_echo` where v1 waits for the signal `go` (a run parked in v1 that
// this version replays ends `drifted`).

import { workflow } from "../../../sdk/js/continuum.js";
import { conformance } from "../shared/conformance.js";

export const run = workflow(
  conformance((ctx) => {
    ctx.activity("conf_echo", { i: 0 }).call();
    return { drift: "v2" };
  }),
);
