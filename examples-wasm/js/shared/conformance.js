// The conformance cases of docs/conformance.md, shared by
// examples-wasm/js/conformance (v1) and examples-wasm/js/conformance-v2,
// which differ only in the `drift` case they pass in.

import { ActivityFailed, RetryPolicy, Saga, WorkflowError, log, toJson } from "../../../sdk/js/continuum.js";
import { CHILD_CASES } from "./conformance_children.js";

const NO_SIGNAL = Symbol("no signal");

/** The cases every version shares, by name: `(ctx, input) => output`. */
const CASES = {
  activity_retry(ctx) {
    const flaky = ctx.activity("conf_flaky", { fail_times: 2 }).retry(RetryPolicy.constant(5, 10)).call();
    let failure = null;
    try {
      ctx.activity("conf_decline", {}).retry(RetryPolicy.constant(3, 10)).call();
    } catch (failed) {
      if (!(failed instanceof ActivityFailed)) throw failed;
      failure = { kind: failed.kind, code: failed.code ?? null, attempts: failed.attempts };
    }
    return { flaky, failure };
  },

  unserved(ctx, input) {
    let value;
    try {
      value = ctx.activity("conf_unserved", {}).scheduleToStartTimeout(input.ms).call();
    } catch (failed) {
      if (!(failed instanceof ActivityFailed)) throw failed;
      return { failure: { kind: failed.kind, code: failed.code ?? null, attempts: failed.attempts } };
    }
    throw new WorkflowError("unexpected", `conf_unserved returned ${toJson(value)}`);
  },

  timer(ctx, input) {
    const t0 = ctx.nowMs();
    ctx.sleep(input.ms);
    const t1 = ctx.nowMs();
    return { slept_at_least: t1 - t0 >= input.ms };
  },

  signal_timeout(ctx, input) {
    const payload = ctx.signalWithTimeout("go", input.timeout_ms, NO_SIGNAL);
    return payload === NO_SIGNAL ? { timed_out: true } : { signal: payload };
  },

  signal_race(ctx, input) {
    const timer = ctx.timer(input.timer_ms);
    const signal = ctx.receiveSignal("race");
    return ctx.select(timer, signal) === 1 ? { winner: "signal", payload: signal.wait() } : { winner: "timer" };
  },

  fan_out(ctx, input) {
    const calls = [];
    for (let i = 0; i < input.n; i++) calls.push(ctx.activity("conf_echo", { i }).start());
    return { doubles: ctx.all(calls).map((echo) => echo.double) };
  },

  saga_cancel(ctx) {
    const saga = new Saga();
    for (const i of [1, 2]) {
      ctx.activity("conf_echo", { i }).call();
      saga.add(ctx.activity("conf_echo", { i: 100 + i }));
    }
    try {
      ctx.signal("go");
    } catch (failed) {
      if (failed instanceof ActivityFailed && failed.kind === "cancelled") throw saga.fail(failed);
      throw failed;
    }
    return { saga: "completed" };
  },

  // `continue`: a chain of `n` runs; each calls `conf_echo` with its
  // position `i` (0 in the first), then continues as new with `i + 1`; the
  // last returns the count and its echo.
  continue(ctx, input) {
    const i = input.i ?? 0;
    const echo = ctx.activity("conf_echo", { i }).start().wait();
    if (i + 1 < input.n) return ctx.continueAsNew({ case: "continue", n: input.n, i: i + 1 });
    return { continued: input.n, double: echo.double };
  },

  patch(ctx) {
    return { patched: ctx.patched("conformance-patch") };
  },

  // Answers `state` ({"step": "waiting"} until the signal `go`, then
  // {"step": "done"}) and `echo` (its arguments); waits for `go`.
  query(ctx) {
    let step = "waiting";
    ctx.onQuery("state", () => ({ step }));
    ctx.onQuery("echo", (args) => args);
    ctx.signal("go");
    step = "done";
    return { step: "done" };
  },

  clock_random(ctx, input) {
    const values = {
      now: ctx.nowMs(),
      random: String(ctx.random()),
      uuid: ctx.uuid(),
      native_now_ms: Date.now(),
      native_random: Math.floor(Math.random() * 2 ** 32),
    };
    log.info(`conformance values ${toJson(values)}`);
    ctx.sleep(input.sleep_ms);
    return values;
  },
};

/**
 * The conformance workflow with this `drift` case: runs the case the input
 * names; an unknown case fails the run with `unknown_case`.
 * @param {(ctx: import("../../../sdk/js/continuum.js").Workflow, input: any) => any} drift
 * @returns {(ctx: import("../../../sdk/js/continuum.js").Workflow, input: any) => any}
 */
export function conformance(drift) {
  const cases = { ...CASES, ...CHILD_CASES, drift };
  return (ctx, input) => {
    const name = input !== null && typeof input === "object" ? input.case : undefined;
    const run = typeof name === "string" && Object.prototype.hasOwnProperty.call(cases, name) ? cases[name] : undefined;
    if (run === undefined) throw new WorkflowError("unknown_case", `unknown conformance case ${toJson(name ?? null)}`);
    return run(ctx, input);
  };
}
