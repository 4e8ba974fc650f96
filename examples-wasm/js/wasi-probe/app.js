// `wasi-probe`: JavaScript's own clock, randomness, output, environment,
// files and network inside a workflow, for the deterministic-WASI tests
// (tests/tests/it/js_workflows.rs).
//
// Input: {"tag": "t1", "sleep_ms": 1000}. Reads `Date.now()`,
// `performance.now()` and the journaled `now`, draws `Math.random()`,
// `crypto.randomUUID()` and `crypto.getRandomValues`, prints them with
// console.log ("probe <tag> before ..."), calls the `reserve_stock`
// activity, tries what JavaScript can reach of the environment, files and
// the network, sleeps durably `sleep_ms`, reads the clocks again, prints
// "probe <tag> after", and returns everything.

import { workflow } from "../../../sdk/js/continuum.js";

/** What `action()` threw, as text ("none" when it did not). */
function errorOf(action) {
  try {
    action();
  } catch (e) {
    return `${e && e.name ? e.name : "Error"}: ${e && e.message !== undefined ? e.message : e}`;
  }
  return "none";
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const run = workflow((ctx, input) => {
  const tag = input.tag ?? "probe";
  const timeBefore = Date.now();
  const nowBefore = ctx.nowMs();
  const monotonicBefore = performance.now();
  const random = Math.random();
  const uuid = crypto.randomUUID();
  const bytes = hex(crypto.getRandomValues(new Uint8Array(8)));
  console.log(`probe ${tag} before time=${timeBefore} random=${random} uuid=${uuid} bytes=${bytes}`);
  console.error(`probe ${tag} to stderr`);

  const reservation = ctx.activity("reserve_stock", { order_id: tag, sku: "S", quantity: 1 }).call();

  // What JavaScript can reach: `fetch` throws a TypeError (the SDK replaces
  // the stub a build without StarlingMonkey's http feature leaves, which
  // would trap), there is no `process` and no file API.
  const fetchError = errorOf(() => fetch("http://127.0.0.1:5432/"));
  const processEnv = typeof process === "undefined" ? {} : { ...process.env };

  ctx.sleep(input.sleep_ms ?? 1000);
  const timeAfter = Date.now();
  const monotonicAfter = performance.now();
  console.log(`probe ${tag} after time=${timeAfter}`);
  return {
    tag,
    time_before: timeBefore,
    now_before: nowBefore,
    monotonic_before: monotonicBefore,
    random,
    uuid,
    bytes,
    reservation_id: reservation.reservation_id,
    environ: processEnv,
    fetch_error: fetchError,
    time_after: timeAfter,
    monotonic_after: monotonicAfter,
  };
});
