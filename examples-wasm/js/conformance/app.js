// The conformance suite's JavaScript workflow (docs/conformance.md), v1:
// its `drift` case waits for the signal `go`.

import { workflow } from "../../../sdk/js/continuum.js";
import { conformance } from "../shared/conformance.js";

export const run = workflow(
  conformance((ctx) => {
    ctx.signal("go");
    return { drift: "v1" };
  }),
);
