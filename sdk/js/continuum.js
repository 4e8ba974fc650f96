// Continuum workflows in JavaScript.
//
// A workflow is a function `(ctx, input) => output` built into a
// WebAssembly component with componentize-js against the `workflow` world of
// sdk/wit. Everything it does that is not pure goes through `ctx` (a
// Workflow) or JavaScript's clock and randomness (`Date.now()`,
// `Math.random()`, `crypto.getRandomValues`), which the host journals, so
// after a crash the host replays the journal and the function takes the
// same path again:
//
//   import { workflow, RetryPolicy } from "../../../sdk/js/continuum.js";
//
//   export const run = workflow((ctx, name) => {
//     ctx.sleep(1000);
//     return ctx.activity("greet", name).retry(RetryPolicy.exponential(3, 200)).call();
//   });
//
// Host calls are synchronous: a workflow is a plain function (an async
// function works too, as long as it awaits nothing but SDK values).
// tools/guest-build builds examples-wasm/js/<name>/app.js this way.

import * as host from "continuum:workflow/host@0.1.0";
import * as attributes from "continuum:workflow/attributes@0.1.0";
import * as continuation from "continuum:workflow/continuation@0.1.0";
import * as updates from "continuum:workflow/updates@0.1.0";

import "./no_http.js";

import { ActivityError, ActivityFailed, FailureKind, WorkflowError } from "./errors.js";
import { decodeJson, encodeJson, toJson } from "./json.js";
import { RetryPolicy, millis, optionsToWit, optionsToWitExt } from "./retry.js";
import { Operation } from "./operation.js";
import { answerPendingQuery, registerQuery } from "./query.js";
import { ChildError, ChildErrorKind, ChildRun, ParentClose, joinChildren, startChild } from "./child.js";

export { ActivityError, ActivityFailed, FailureKind, RetryPolicy, WorkflowError, decodeJson, encodeJson, millis, toJson };
export { ChildError, ChildErrorKind, ChildRun, Operation, ParentClose };
export { Saga } from "./saga.js";

/**
 * Logging through the host's `log` import: lines go to the host's log with
 * the run's fields, are not journaled, and are muted while the run replays
 * (so each line appears once). `console.log` and `console.error` reach the
 * same log (stdout at info level, stderr at warn level), muted the same way.
 */
export const log = Object.freeze({
  /** Writes `message` at `level` (`trace`, `debug`, `info`, `warn`, `error`). @param {"trace"|"debug"|"info"|"warn"|"error"} level @param {string} message */
  log(level, message) {
    host.log(level, String(message));
  },
  /** Logs at trace level. @param {string} message */
  trace(message) {
    host.log("trace", String(message));
  },
  /** Logs at debug level. @param {string} message */
  debug(message) {
    host.log("debug", String(message));
  },
  /** Logs at info level. @param {string} message */
  info(message) {
    host.log("info", String(message));
  },
  /** Logs at warn level. @param {string} message */
  warn(message) {
    host.log("warn", String(message));
  },
  /** Logs at error level. @param {string} message */
  error(message) {
    host.log("error", String(message));
  },
});

/**
 * A prepared activity call, made by {@link Workflow#activity}. Set options
 * (each method returns the call), then {@link ActivityCall#call} it (wait
 * for the result) or {@link ActivityCall#start} it (get a pending
 * {@link Operation}).
 *
 * @example
 * const receipt = ctx.activity("charge_card", { amount_cents: 1200 })
 *   .retry(RetryPolicy.constant(5, 2000))
 *   .timeout(30_000)
 *   .idempotencyKey("charge-order-42")
 *   .call();
 */
export class ActivityCall {
  #name;
  #input;
  /** @type {import("./retry.js").ActivityOptions} */
  #options = {};

  /** @param {string} name @param {unknown} input */
  constructor(name, input) {
    this.#name = name;
    this.#input = input;
  }

  /** Sets the retry policy (default: the host's policy). @param {RetryPolicy} policy @returns {ActivityCall} */
  retry(policy) {
    this.#options.retry = policy;
    return this;
  }

  /** Sets the timeout of each attempt, in milliseconds (default: the host's). @param {number} perAttemptMs @returns {ActivityCall} */
  timeout(perAttemptMs) {
    this.#options.attemptTimeoutMs = perAttemptMs;
    return this;
  }

  /**
   * Fails an attempt that sends no heartbeat for `everyMs` milliseconds (as
   * timed out, retried as the policy says).
   * @param {number} everyMs
   * @returns {ActivityCall}
   */
  heartbeatTimeout(everyMs) {
    this.#options.heartbeatTimeoutMs = everyMs;
    return this;
  }

  /**
   * Fails the call when none of its attempts has started `ms` milliseconds
   * after it was scheduled: with {@link FailureKind.UNKNOWN_ACTIVITY} when
   * no host of the instance serves the activity on its queue (else as timed
   * out). Without it, a call no host serves waits until one does
   * (`continuum show` says so).
   * @param {number} ms
   * @returns {ActivityCall}
   */
  scheduleToStartTimeout(ms) {
    this.#options.scheduleToStartTimeoutMs = ms;
    return this;
  }

  /** Sends the task to this queue (default: `default`). @param {string} queue @returns {ActivityCall} */
  queue(queue) {
    this.#options.queue = queue;
    return this;
  }

  /** Higher runs first among ready tasks of the same queue (default 0). @param {number} priority @returns {ActivityCall} */
  priority(priority) {
    this.#options.priority = priority;
    return this;
  }

  /**
   * Reuses a completed result with the same key in the same instance
   * instead of running the activity again.
   * @param {string} key
   * @returns {ActivityCall}
   */
  idempotencyKey(key) {
    this.#options.idempotencyKey = key;
    return this;
  }

  /** Replaces all options at once. @param {import("./retry.js").ActivityOptions} options @returns {ActivityCall} */
  options(options) {
    this.#options = { ...options };
    return this;
  }

  /**
   * Schedules the activity; returns its pending operation. An input that is
   * not JSON-serializable schedules nothing: the operation fails with
   * {@link FailureKind.BAD_PAYLOAD}.
   * @returns {Operation<any>}
   */
  start() {
    let payload;
    try {
      payload = encodeJson(this.#input);
    } catch (e) {
      return new Operation(undefined, ActivityFailed.badPayload(`input of activity ${this.#name}: ${e && e.message ? e.message : e}`));
    }
    const options = optionsToWit(this.#options);
    const ext = optionsToWitExt(this.#options);
    // `call-activity-ext` only when one of its options is set, as the Rust
    // and Python SDKs do.
    if (ext === undefined) return new Operation(host.callActivity(this.#name, payload, options));
    return new Operation(host.callActivityExt(this.#name, payload, options, ext));
  }

  /**
   * Schedules the activity and waits for its result (its decoded JSON
   * output); throws {@link ActivityFailed} when it failed for good.
   * @returns {any}
   */
  call() {
    return this.start().wait();
  }
}

/** The handle a workflow function receives; there is one per run. */
/**
 * A signal received by {@link Workflow#update}: its payload (`value`) and
 * its update id (`id`, `undefined` for a plain signal) when its sender
 * waits for a reply.
 */
export class Update {
  /** @param {any} value @param {string | undefined} id */
  constructor(value, id) {
    this.value = value;
    this.id = id;
  }

  /**
   * Replies `reply` (a JSON value) to the sender; nothing for a plain
   * signal. Throws a {@link WorkflowError} (`update_refused`) when the
   * update was replied to already.
   * @param {any} reply
   */
  reply(reply) {
    if (this.id === undefined) return;
    replyUpdate(this.id, { tag: "ok", val: encodeJson(reply) });
  }

  /**
   * Rejects the update: its sender gets the error `message`.
   * @param {string} message
   */
  reject(message) {
    if (this.id === undefined) return;
    replyUpdate(this.id, { tag: "err", val: String(message) });
  }
}

function replyUpdate(id, reply) {
  try {
    updates.replyUpdate(id, reply);
  } catch (e) {
    const message = typeof e?.payload === "string" ? e.payload : String(e?.message ?? e);
    throw new WorkflowError("update_refused", message);
  }
}

export class Workflow {
  /**
   * Prepares a call of the activity `name` with `input` (sent as JSON). Set
   * options on the returned {@link ActivityCall}, then `call()` or
   * `start()` it.
   * @param {string} name
   * @param {unknown} [input]
   * @returns {ActivityCall}
   */
  activity(name, input = null) {
    return new ActivityCall(name, input);
  }

  /**
   * Starts a durable timer of `ms` milliseconds; the operation completes
   * (with `null`) when it fires. Race it against other operations with
   * {@link Workflow#select}.
   * @param {number} ms
   * @returns {Operation<null>}
   */
  timer(ms) {
    return new Operation(host.startTimer(millis(ms)));
  }

  /**
   * Sleeps durably for `ms` milliseconds (a timer the workflow waits on; it
   * survives a crash of the host).
   * @param {number} ms
   */
  sleep(ms) {
    try {
      this.timer(ms).wait();
    } catch (e) {
      // A timer only fails when cancelled, and then the host stops the run.
      if (!(e instanceof ActivityFailed)) throw e;
    }
  }

  /**
   * Starts waiting for the next signal called `name`; its JSON payload is
   * the operation's value. Signals sent before the workflow asks are kept
   * and delivered in order.
   * @param {string} name
   * @returns {Operation<any>}
   */
  receiveSignal(name) {
    return new Operation(host.receiveSignal(name));
  }

  /**
   * Registers the handler of the query `name`: it takes the query's
   * arguments (decoded JSON) and returns the answer (a JSON value); what it
   * throws fails the query with its message. Handlers only read the
   * workflow's state (nothing they do is recorded). Registering a name
   * again replaces its handler.
   * @example
   * ctx.onQuery("count", () => state.count);
   * @param {string} name
   * @param {(args: any) => any} handler
   */
  onQuery(name, handler) {
    registerQuery(name, handler);
  }

  /**
   * Waits for the next signal called `name`, sent as an update or as a
   * plain signal; reply with {@link Update#reply} or {@link Update#reject}
   * (an update's sender waits for that).
   * @param {string} name
   * @returns {Update}
   */
  update(name) {
    const op = this.receiveSignal(name);
    const value = op.wait();
    return new Update(value, updates.updateIdOf(op.handle) ?? undefined);
  }

  /**
   * Waits for the next signal called `name`; returns its payload.
   * @param {string} name
   * @returns {any}
   */
  signal(name) {
    return this.receiveSignal(name).wait();
  }

  /**
   * Waits for the next signal called `name` for at most `timeoutMs`
   * milliseconds; returns its payload, or `fallback` when the timeout fires
   * first (the abandoned receipt takes no signal).
   * @param {string} name
   * @param {number} timeoutMs
   * @param {any} [fallback]
   * @returns {any}
   */
  signalWithTimeout(name, timeoutMs, fallback = undefined) {
    const signal = this.receiveSignal(name);
    const timer = this.timer(timeoutMs);
    return this.select(signal, timer) === 0 ? signal.wait() : fallback;
  }

  /**
   * Blocks until one of `ops` completes; returns its position. The winner
   * keeps its outcome (its `wait` returns at once); the others stay pending
   * and may be waited on or raced again later. An operation already done
   * wins at once (the first one in order).
   * @param {...Operation<any>} ops
   * @returns {number}
   */
  select(...ops) {
    if (ops.length === 0) throw new TypeError("Workflow.select needs at least one operation");
    const done = ops.findIndex((op) => op.isDone());
    if (done >= 0) return done;
    const positions = [];
    const handles = [];
    ops.forEach((op, i) => {
      if (op.handle !== undefined) {
        positions.push(i);
        handles.push(op.handle);
      }
    });
    answerPendingQuery(handles);
    const [pos, completion] = host.waitAny(handles);
    const i = positions[pos];
    ops[i].settle(completion);
    return i;
  }

  /**
   * {@link Workflow#select} over an array, under the name of the host call.
   * @param {Operation<any>[]} ops
   * @returns {number}
   */
  waitAny(ops) {
    return this.select(...ops);
  }

  /**
   * Joins operations started earlier (fan-out, then join): waits for each in
   * order and returns their values; throws the first failure met.
   * @param {Operation<any>[]} ops
   * @returns {any[]}
   */
  all(ops) {
    return ops.map((op) => op.wait());
  }

  /**
   * Starts the workflow `workflow` of this run's instance with `input`
   * (sent as JSON) as a child of this run; the child runs on any host of
   * the instance. {@link ChildRun#wait} for its output (a failure throws
   * {@link ChildError}), or race it with {@link Workflow#select}.
   * Journaled: a replay starts no second child. An input that is not
   * JSON-serializable starts nothing: the child fails with
   * {@link ChildErrorKind.BAD_PAYLOAD}.
   *
   * @example
   * const child = ctx.startChild("ship-flow", { order_id: "o-1" }, { runId: "ship-o-1", parentClose: ParentClose.ABANDON });
   * const tracking = child.wait();
   *
   * @param {string} workflow
   * @param {unknown} [input]
   * @param {import("./child.js").ChildOptions} [options]
   * @returns {ChildRun<any>}
   */
  startChild(workflow, input = null, options = {}) {
    return startChild(workflow, input, options);
  }

  /**
   * Starts a child workflow and waits for its output; throws
   * {@link ChildError} when it did not complete.
   * @param {string} workflow
   * @param {unknown} [input]
   * @param {import("./child.js").ChildOptions} [options]
   * @returns {any}
   */
  child(workflow, input = null, options = {}) {
    return startChild(workflow, input, options).wait();
  }

  /**
   * Waits for every child of `children` (all of them: one failing does not
   * stop the wait on the others) and returns their outputs in the same
   * order. With `returnErrors` a child that did not complete gives its
   * {@link ChildError} in its place; without it, the first such error is
   * thrown once all have ended.
   * @param {ChildRun<any>[]} children
   * @param {{returnErrors?: boolean}} [options]
   * @returns {any[]}
   */
  joinChildren(children, options = {}) {
    return joinChildren(children, options);
  }

  /**
   * The current time (journaled: the same value on every replay).
   * `Date.now()` reads the same journaled clock.
   * @returns {Date}
   */
  now() {
    return new Date(this.nowMs());
  }

  /**
   * The current time in milliseconds since the Unix epoch (journaled).
   * @returns {number}
   */
  nowMs() {
    return Number(host.now());
  }

  /**
   * A random 64-bit number (journaled). A BigInt: JSON numbers lose
   * precision past 2^53, so print it with `String(...)`.
   * @returns {bigint}
   */
  random() {
    return host.random();
  }

  /**
   * A random UUID v4 in its hyphenated form (journaled).
   * @returns {string}
   */
  uuid() {
    return host.uuid();
  }

  /**
   * A patch marker: true for a run that executes this call for the first
   * time (the marker is journaled) or whose history recorded it; false for
   * a history recorded by code without the patch (keep the old path).
   * @param {string} name
   * @returns {boolean}
   */
  patched(name) {
    return host.patched(name);
  }

  /**
   * Sets attribute `key` of this run to `value` (a key set again gets the
   * new value), for listing runs by it (`continuum runs --attr key=value`).
   * Journaled: a replay sets nothing again. A key is 1 to 64 characters,
   * each an ASCII letter, digit, `_`, `-`, `.` or `:`; a value at most 256
   * characters without control characters. Outside those limits nothing is
   * recorded and a {@link WorkflowError} (code `invalid_attribute`, the
   * message names the key) is thrown: uncaught, it fails the run.
   * @param {string} key
   * @param {string} value
   */
  setAttribute(key, value) {
    try {
      attributes.setAttribute(key, value);
    } catch (e) {
      const message = typeof e?.payload === "string" ? e.payload : String(e?.message ?? e);
      throw new WorkflowError("invalid_attribute", message);
    }
  }

  /**
   * Continues as new: this run ends (`continued`) when the workflow
   * returns, whatever it returns, and the next run of its chain starts
   * with `input` and an empty history, on the workflow's current version
   * or on `version` (a content hash). Return right after it
   * (`return ctx.continueAsNew(n)`): a further call that starts something
   * (activity, timer, signal, child) fails the run.
   * `await` on the chain's first run id returns the chain's final result;
   * cancel, terminate and signals sent to an earlier run id reach the
   * chain's latest run. Input that is not JSON or an unknown version fails
   * the run (`invalid_continuation`).
   * @param {unknown} input
   * @param {string} [version]
   * @returns {undefined}
   */
  continueAsNew(input, version) {
    continuation.continueAsNew(encodeJson(input), version === undefined ? undefined : String(version));
    return undefined;
  }
}

/** The WIT `result` of a failed run. */
function fail(code, message) {
  return { tag: "err", val: { code: String(code), message: String(message) } };
}

/** Maps what a workflow function threw to the run's error. */
function failure(e) {
  if (e instanceof WorkflowError) return fail(e.code, e.message);
  if (e instanceof ActivityFailed) {
    const w = WorkflowError.fromFailure(e);
    return fail(w.code, w.message);
  }
  const name = e && e.name ? e.name : "Error";
  const message = e && e.message !== undefined ? e.message : String(e);
  log.error(`exception: ${e && e.stack ? `${name}: ${message}\n${e.stack}` : `${name}: ${message}`}`);
  return fail("exception", `${name}: ${message}`);
}

/** The WIT `result` of a run that returned `output`. */
function success(output) {
  try {
    return { tag: "ok", val: encodeJson(output) };
  } catch (e) {
    return fail("bad_output", `cannot encode the workflow output: ${e && e.message ? e.message : e}`);
  }
}

/**
 * Makes `fn` the component's workflow: returns the function to export as
 * `run`.
 *
 * `fn(ctx, input)` gets the {@link Workflow} context and the decoded JSON
 * input, and returns a JSON-serializable output (or throws). A
 * {@link WorkflowError} it throws fails the run with its code and message;
 * an uncaught {@link ActivityFailed} fails it as
 * {@link WorkflowError.fromFailure} says; any other exception is logged with
 * its stack and fails the run with code `exception`. An input that is not
 * JSON fails the run with `invalid_input`.
 *
 * @example
 * export const run = workflow((ctx, name) => ctx.activity("greet", name).call());
 *
 * @param {(ctx: Workflow, input: any) => any} fn
 * @returns {(input: Uint8Array) => object}
 */
export function workflow(fn) {
  return function run(input) {
    let value;
    try {
      value = decodeJson(input);
    } catch (e) {
      return fail("invalid_input", `cannot decode the workflow input: ${e && e.message ? e.message : e}`);
    }
    let output;
    try {
      output = fn(new Workflow(), value);
    } catch (e) {
      // A query execution past the workflow's end is answered here.
      answerPendingQuery([]);
      return failure(e);
    }
    if (output && typeof output.then === "function") {
      return Promise.resolve(output).then(
        (v) => {
          answerPendingQuery([]);
          return success(v);
        },
        (e) => {
          answerPendingQuery([]);
          return failure(e);
        },
      );
    }
    answerPendingQuery([]);
    return success(output);
  };
}
