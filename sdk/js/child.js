// Child workflows: a workflow starts another workflow of its instance and
// waits on it like on any operation (raced with `Workflow#select`, joined
// with `Workflow#joinChildren`). Mirrors the Rust SDK's `start_child`,
// `ChildRun`, `ChildOptions`, `ParentClose` and `ChildError`
// (sdk/rust/src/child.rs): the same options, error kinds, codes and
// messages.
//
//   const child = ctx.startChild("ship-flow", { order_id: "o-1" }, { parentClose: ParentClose.ABANDON });
//   const late = ctx.timer(3_600_000);
//   if (ctx.select(child, late) === 0) {
//     try {
//       const tracking = child.wait();
//     } catch (e) {
//       if (e instanceof ChildError && e.kind === ChildErrorKind.FAILED && e.code === "no_carrier") { ... }
//       throw e; // fails the run with the child's code
//     }
//   }

import * as children from "continuum:workflow/children@0.1.0";

import { ActivityFailed, FailureKind, WorkflowError } from "./errors.js";
import { encodeJson } from "./json.js";
import { Operation } from "./operation.js";

/**
 * What becomes of a child that has not ended when its parent ends
 * (completes, fails, is cancelled or terminated).
 * @readonly
 * @enum {string}
 */
export const ParentClose = Object.freeze({
  /** The child's cancellation is requested: delivered to the child workflow, which may clean up (the default). */
  CANCEL: "cancel",
  /** The child is terminated at once. */
  TERMINATE: "terminate",
  /** The child runs on, on its own. */
  ABANDON: "abandon",
});

/**
 * Why a child workflow did not produce an output.
 * @readonly
 * @enum {string}
 */
export const ChildErrorKind = Object.freeze({
  /** The child workflow failed (its error code is `code`). */
  FAILED: "failed",
  /** The child was cancelled (or this run's own cancellation completed the wait on it). */
  CANCELLED: "cancelled",
  /** The child was terminated. */
  TERMINATED: "terminated",
  /** No workflow of that name is deployed in the instance; no child was started. */
  UNKNOWN_WORKFLOW: "unknown_workflow",
  /** The start was refused (another instance, a run id that is not valid or is another run's); no child was started. */
  REFUSED: "refused",
  /** The input could not be serialized or the output did not decode. */
  BAD_PAYLOAD: "bad_payload",
});

/** The WIT `child-failure-kind` names, as the bindings spell them. */
const WIT_KINDS = {
  failed: ChildErrorKind.FAILED,
  cancelled: ChildErrorKind.CANCELLED,
  terminated: ChildErrorKind.TERMINATED,
  "unknown-workflow": ChildErrorKind.UNKNOWN_WORKFLOW,
  refused: ChildErrorKind.REFUSED,
};

/** The code of each kind but `failed` (whose code is the child's). */
const KIND_CODES = {
  [ChildErrorKind.CANCELLED]: "cancelled",
  [ChildErrorKind.TERMINATED]: "terminated",
  [ChildErrorKind.UNKNOWN_WORKFLOW]: "unknown_workflow",
  [ChildErrorKind.REFUSED]: "child_refused",
  [ChildErrorKind.BAD_PAYLOAD]: "bad_payload",
};

/**
 * Why a child workflow did not produce an output, typed. A
 * {@link WorkflowError}: left uncaught (or rethrown), it fails the parent
 * with its `code` and `message`, as `?` does in Rust.
 */
export class ChildError extends WorkflowError {
  /**
   * @param {string} kind why (a {@link ChildErrorKind} value)
   * @param {string} message a human-readable description
   * @param {string} [code] the child's own code (for `failed`); else the kind's
   */
  constructor(kind, message, code = undefined) {
    super(code ?? KIND_CODES[kind] ?? "child_failed", message);
    this.name = "ChildError";
    /** Why the child did not complete (a {@link ChildErrorKind} value). */
    this.kind = kind;
  }

  /** True for a cancelled or terminated child. @returns {boolean} */
  isCancelled() {
    return this.kind === ChildErrorKind.CANCELLED || this.kind === ChildErrorKind.TERMINATED;
  }

  /** `child workflow: code: message`, as the Rust SDK prints it. @returns {string} */
  toString() {
    return `child workflow: ${this.code}: ${this.message}`;
  }

  /**
   * The error a WIT `child-failure` record describes.
   * @param {{kind: string, code?: string, message: string}} failure
   * @returns {ChildError}
   */
  static fromWit(failure) {
    const kind = WIT_KINDS[failure.kind] ?? ChildErrorKind.REFUSED;
    const code = kind === ChildErrorKind.FAILED ? failure.code ?? "child_failed" : undefined;
    return new ChildError(kind, failure.message, code);
  }

  /**
   * The error from a completion's failure alone (a host that did not say more).
   * @param {ActivityFailed} failure
   * @returns {ChildError}
   */
  static fromFailure(failure) {
    if (failure.kind === FailureKind.CANCELLED) {
      return new ChildError(failure.code === "terminated" ? ChildErrorKind.TERMINATED : ChildErrorKind.CANCELLED, failure.message);
    }
    if (failure.kind === FailureKind.BAD_PAYLOAD) return new ChildError(ChildErrorKind.BAD_PAYLOAD, failure.message);
    return new ChildError(ChildErrorKind.FAILED, failure.message, failure.code ?? "child_failed");
  }
}

/**
 * A child workflow this run started: {@link ChildRun#wait} on it, or race
 * it with {@link Workflow#select} (it is an {@link Operation}). Its
 * failure is a {@link ChildError}.
 * @template T
 * @extends {Operation<T>}
 */
export class ChildRun extends Operation {
  /**
   * The child's run id (undefined when its input could not be serialized
   * and nothing was started).
   * @returns {string|undefined}
   */
  get runId() {
    return this.handle === undefined ? undefined : children.childRunId(this.handle) ?? undefined;
  }

  /**
   * Blocks until the child ends; returns its decoded output, or throws the
   * {@link ChildError} telling why it did not complete.
   * @returns {T}
   */
  wait() {
    try {
      return super.wait();
    } catch (e) {
      if (!(e instanceof ActivityFailed)) throw e;
      const typed = this.handle === undefined ? undefined : children.childFailureOf(this.handle);
      throw typed ? ChildError.fromWit(typed) : ChildError.fromFailure(e);
    }
  }
}

/**
 * Options of a child workflow: `runId` (default: derived from the parent's
 * run id and the operation, `<parent>-child-<n>`), `parentClose` (a
 * {@link ParentClose} value, default `cancel`), `instance` (default: the
 * parent's; another one is refused).
 * @typedef {{runId?: string, parentClose?: string, instance?: string}} ChildOptions
 */

/**
 * Starts the child; see {@link Workflow#startChild}.
 * @param {string} workflow
 * @param {unknown} input
 * @param {ChildOptions} [options]
 * @returns {ChildRun<any>}
 */
export function startChild(workflow, input, options = {}) {
  let payload;
  try {
    payload = encodeJson(input);
  } catch (e) {
    return new ChildRun(undefined, ActivityFailed.badPayload(`input of child workflow ${workflow}: ${e && e.message ? e.message : e}`));
  }
  const policy = options.parentClose ?? ParentClose.CANCEL;
  if (!Object.values(ParentClose).includes(policy)) {
    throw new TypeError(`parentClose must be one of ${Object.values(ParentClose).join(", ")}, not ${String(policy)}`);
  }
  const wit = { runId: options.runId, parentClose: policy, instance: options.instance };
  return new ChildRun(children.startChild(workflow, payload, wit));
}

/**
 * Waits for every child; see {@link Workflow#joinChildren}.
 * @param {ChildRun<any>[]} runs
 * @param {{returnErrors?: boolean}} [options]
 * @returns {any[]}
 */
export function joinChildren(runs, { returnErrors = false } = {}) {
  const outcomes = [];
  let first;
  for (const run of runs) {
    try {
      outcomes.push(run.wait());
    } catch (e) {
      if (!(e instanceof ChildError)) throw e;
      outcomes.push(e);
      first ??= e;
    }
  }
  if (first !== undefined && !returnErrors) throw first;
  return outcomes;
}
