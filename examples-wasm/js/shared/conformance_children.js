// The child-workflow cases of docs/conformance.md, shared by
// examples-wasm/js/conformance and conformance-v2 (through conformance.js):
// each starts children of the conformance workflow the input's `workflow`
// names (the language's own, so every suite can start them), each child
// running a simple case.

import { ChildError, WorkflowError, toJson } from "../../../sdk/js/continuum.js";

/** The child workflow's name, from the input. */
function workflowOf(input) {
  if (typeof input.workflow !== "string") throw new WorkflowError("invalid_input", "the case needs the parameter `workflow` (a string)");
  return input.workflow;
}

/** A parameter of the input, as a non-negative integer. */
function count(input, name) {
  const value = input[name];
  if (!Number.isInteger(value) || value < 0) throw new WorkflowError("invalid_input", `the case needs the parameter \`${name}\` (an unsigned integer)`);
  return value;
}

/** The kind and code of a child's typed error. */
function errorOf(e) {
  if (!(e instanceof ChildError)) throw e;
  return { kind: e.kind, code: e.code };
}

/** The child-workflow cases, by name: `(ctx, input) => output`. */
export const CHILD_CASES = {
  /** One child running `patch`, under the run id `run_id`: its output and its run id as the handle tells it. */
  child(ctx, input) {
    if (typeof input.run_id !== "string") throw new WorkflowError("invalid_input", "the case needs the parameter `run_id` (a string)");
    const run = ctx.startChild(workflowOf(input), { case: "patch" }, { runId: input.run_id });
    return { child: run.wait(), child_run_id: run.runId };
  },

  /** `n` children started before any is waited on (child `i` runs `fan_out` with `n = i`), joined in order. */
  child_join(ctx, input) {
    const workflow = workflowOf(input);
    const runs = [];
    for (let i = 0; i < count(input, "n"); i++) runs.push(ctx.startChild(workflow, { case: "fan_out", n: i }));
    return { results: ctx.joinChildren(runs) };
  },

  /** A child sleeping `child_ms` raced against a timer of `timer_ms`; a child still running when the parent ends is cancelled. */
  child_race(ctx, input) {
    const run = ctx.startChild(workflowOf(input), { case: "timer", ms: count(input, "child_ms") });
    const deadline = ctx.timer(count(input, "timer_ms"));
    return ctx.select(run, deadline) === 0 ? { winner: "child", child: run.wait() } : { winner: "timer" };
  },

  /** A child of a workflow no one deployed, and a child failing (an unknown case): both typed errors caught. */
  child_errors(ctx, input) {
    let unknown;
    try {
      const value = ctx.child("no-such-workflow", {});
      throw new WorkflowError("unexpected", `no-such-workflow returned ${toJson(value)}`);
    } catch (e) {
      if (e instanceof ChildError) unknown = { ...errorOf(e), names_it: e.message.includes("no-such-workflow") };
      else throw e;
    }
    let failed;
    try {
      const value = ctx.child(workflowOf(input), { case: "no_such_case" });
      throw new WorkflowError("unexpected", `the unknown case returned ${toJson(value)}`);
    } catch (e) {
      failed = errorOf(e);
    }
    return { unknown, failed };
  },

  /** A child running `saga_cancel`, waited on: the harness cancels this run, the cancellation reaches the child, which compensates; the wait's error fails this run. */
  child_cancel(ctx, input) {
    return { child: ctx.child(workflowOf(input), { case: "saga_cancel" }) };
  },
};
