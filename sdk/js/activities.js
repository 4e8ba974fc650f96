// Continuum activity components in JavaScript.
//
// An activity component targets the `activity` world of sdk/wit: it exports
// `activities` (the names it provides) and `invoke`. Unlike a workflow it
// gets the sandboxed WASI the host's manifest allows (one preopened
// directory, listed environment variables, listed hosts), and each attempt
// runs in a fresh instance.
//
//   import { defineActivities, ActivityError } from "../../../sdk/js/activities.js";
//
//   export const { activities, invoke } = defineActivities({
//     greet(name, ctx) {
//       if (!name) throw new ActivityError("no name", { retryable: false, code: "no_name" });
//       return `hello ${name} (attempt ${ctx.attempt})`;
//     },
//   });

import * as context from "continuum:workflow/activity-context@0.1.0";

import "./no_http.js";

import { ActivityError, ActivityFailed, FailureKind, WorkflowError } from "./errors.js";
import { decodeJson, encodeJson, toJson } from "./json.js";

export { ActivityError, ActivityFailed, FailureKind, WorkflowError, decodeJson, encodeJson, toJson };

/**
 * What a running activity attempt can learn about itself and report to the
 * host; the second argument of every activity function.
 */
export class ActivityContext {
  #info = undefined;

  /**
   * Who this attempt is: `{instance, runId, activity, attempt}` (`runId` is
   * empty when the activity was called outside a run).
   * @returns {{instance: string, runId: string, activity: string, attempt: number}}
   */
  info() {
    if (this.#info === undefined) this.#info = context.info();
    return this.#info;
  }

  /** The attempt number: 1 for the first attempt of the call. @returns {number} */
  get attempt() {
    return this.info().attempt;
  }

  /**
   * The details of the latest heartbeat recorded for this call (by an
   * earlier attempt, on this host or one that crashed, or by this one),
   * decoded; `undefined` when none was.
   * @returns {any}
   */
  lastHeartbeat() {
    const details = context.lastHeartbeat();
    return details === undefined ? undefined : decodeJson(details);
  }

  /**
   * Reports progress with `details` (JSON, typically how far the work got)
   * that a later attempt can resume from. Returns true when the activity
   * has been cancelled: it should stop.
   * @param {unknown} details
   * @returns {boolean}
   */
  heartbeat(details) {
    return context.heartbeat(encodeJson(details));
  }

  /** True once the call has been cancelled. @returns {boolean} */
  isCancelled() {
    return context.isCancelled();
  }
}

/** The WIT `activity-error` of a failed attempt. */
function fail(message, retryable, code) {
  return { tag: "err", val: { message: String(message), retryable: !!retryable, code: code ?? undefined } };
}

/** Maps what an activity function threw to the attempt's error. */
function failure(e) {
  if (e instanceof ActivityError) return fail(e.message, e.retryable, e.code);
  const name = e && e.name ? e.name : "Error";
  const message = e && e.message !== undefined ? e.message : String(e);
  // Anything else is taken as a transient failure: the host retries it as
  // the retry policy says.
  return fail(`${name}: ${message}`, true, undefined);
}

function success(output) {
  try {
    return { tag: "ok", val: encodeJson(output) };
  } catch (e) {
    return fail(`cannot encode the activity output: ${e && e.message ? e.message : e}`, false, undefined);
  }
}

/**
 * Makes the functions of `table` the component's activities: returns the
 * `activities` and `invoke` functions to export.
 *
 * Each function gets the decoded JSON input and an {@link ActivityContext},
 * and returns a JSON-serializable output (or a Promise of one). An
 * {@link ActivityError} it throws fails the attempt with its message,
 * `retryable` flag and code; any other exception fails it retryably with
 * `Name: message`. An input that is not JSON, or a name not in `table`,
 * fails without retry.
 *
 * @example
 * export const { activities, invoke } = defineActivities({ double: (n) => n * 2 });
 *
 * @param {Record<string, (input: any, ctx: ActivityContext) => any>} table
 * @returns {{activities: () => string[], invoke: (name: string, input: Uint8Array) => object}}
 */
export function defineActivities(table) {
  const names = Object.keys(table);
  return {
    activities() {
      return [...names];
    },
    invoke(name, input) {
      const fn = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
      if (typeof fn !== "function") return fail(`unknown activity \`${name}\``, false, undefined);
      let value;
      try {
        value = decodeJson(input);
      } catch (e) {
        return fail(`cannot decode the activity input: ${e && e.message ? e.message : e}`, false, undefined);
      }
      let output;
      try {
        output = fn(value, new ActivityContext());
      } catch (e) {
        return failure(e);
      }
      if (output && typeof output.then === "function") {
        return Promise.resolve(output).then(success, failure);
      }
      return success(output);
    },
  };
}
