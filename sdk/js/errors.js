// Errors: what an operation reports (ActivityFailed), what a workflow fails
// with (WorkflowError) and what an activity fails with (ActivityError).
// Mirrors the Rust SDK's `ActivityFailed`, `FailureKind`, `WorkflowError`
// and `ActivityError` (sdk/rust/src/error.rs): the same kinds, codes and
// messages. This module imports nothing of the host, so workflows and
// activity components both use it.

/**
 * Why an operation (activity call, timer, signal receipt) did not produce a
 * value. Each value is also the code a run fails with when the failure is
 * not caught.
 * @readonly
 * @enum {string}
 */
export const FailureKind = Object.freeze({
  /** The activity ran and reported an error on its last attempt. */
  ACTIVITY_FAILED: "activity_failed",
  /** The activity's attempts ran out of time. */
  TIMED_OUT: "activity_timed_out",
  /** The operation was cancelled. */
  CANCELLED: "cancelled",
  /** No activity of that name is registered in the instance. */
  UNKNOWN_ACTIVITY: "unknown_activity",
  /** The payload is not the JSON the workflow expected (raised inside the
   * guest; the host never reports this kind). */
  BAD_PAYLOAD: "bad_payload",
});

/** The WIT `failure-kind` names, as the bindings spell them. */
const WIT_KINDS = {
  "activity-failed": FailureKind.ACTIVITY_FAILED,
  "timed-out": FailureKind.TIMED_OUT,
  cancelled: FailureKind.CANCELLED,
  "unknown-activity": FailureKind.UNKNOWN_ACTIVITY,
};

/**
 * A failed operation as the workflow sees it: an activity that failed for
 * good, timed out or is unknown, a cancelled operation, or a payload that is
 * not valid JSON. Catch it to handle the failure; left uncaught, the run
 * fails with a {@link WorkflowError} whose code is `kind`.
 */
export class ActivityFailed extends Error {
  /**
   * @param {string} kind why the operation failed (a {@link FailureKind} value)
   * @param {string} message a human-readable description, from the activity or the host
   * @param {number} [attempts] attempts made before giving up (0 when not an activity)
   * @param {string} [code] the code the activity gave its error on its last attempt
   */
  constructor(kind, message, attempts = 0, code = undefined) {
    super(message);
    this.name = "ActivityFailed";
    /** Why the operation failed (a {@link FailureKind} value). */
    this.kind = kind;
    /** Attempts made before giving up (0 when not an activity). */
    this.attempts = attempts;
    /** The activity's error code on its last attempt (like `card_declined`);
     * `undefined` when it gave none or the failure is the host's. */
    this.code = code;
  }

  /**
   * A {@link FailureKind.BAD_PAYLOAD} failure.
   * @param {string} message
   * @returns {ActivityFailed}
   */
  static badPayload(message) {
    return new ActivityFailed(FailureKind.BAD_PAYLOAD, message);
  }

  /**
   * The failure a WIT `failure` record describes.
   * @param {{kind: string, message: string, attempts: number, code?: string}} failure
   * @returns {ActivityFailed}
   */
  static fromWit(failure) {
    return new ActivityFailed(WIT_KINDS[failure.kind] ?? failure.kind, failure.message, failure.attempts, failure.code);
  }

  /**
   * `kind: [code] message (after N attempts)`, as the Rust SDK prints it.
   * @returns {string}
   */
  toString() {
    let text = `${this.kind}: `;
    if (this.code !== undefined && this.code !== null) text += `[${this.code}] `;
    text += this.message;
    if (this.attempts > 0) text += ` (after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"})`;
    return text;
  }
}

/**
 * The error a workflow throws to fail its run with this `code` and
 * `message` (the WIT `workflow-error`).
 *
 * @example
 * throw new WorkflowError("payment_declined", "card 4000 was declined");
 */
export class WorkflowError extends Error {
  /**
   * @param {string} code a short machine-readable code, like `payment_declined`
   * @param {string} message a human-readable description
   */
  constructor(code, message) {
    super(message);
    this.name = "WorkflowError";
    /** A short machine-readable code, like `payment_declined`. */
    this.code = code;
  }

  /**
   * The error an uncaught {@link ActivityFailed} fails the run with (as `?`
   * does in Rust): code `failure.kind`, message `failure.toString()`.
   * @param {ActivityFailed} failure
   * @returns {WorkflowError}
   */
  static fromFailure(failure) {
    return new WorkflowError(failure.kind, failure.toString());
  }

  /** @returns {string} `code: message` */
  toString() {
    return `${this.code}: ${this.message}`;
  }
}

/**
 * The error an activity throws to fail its attempt (the WIT
 * `activity-error`). Retryable unless told otherwise; its `code` reaches the
 * workflow with the failure, and a retry policy can list codes that are
 * never retried.
 *
 * @example
 * throw new ActivityError("card declined", { retryable: false, code: "card_declined" });
 */
export class ActivityError extends Error {
  /**
   * @param {string} message a human-readable description
   * @param {{retryable?: boolean, code?: string}} [options] `retryable`
   *   (default true): whether the host may retry; `code`: a short
   *   machine-readable code
   */
  constructor(message, { retryable = true, code = undefined } = {}) {
    super(message);
    this.name = "ActivityError";
    /** When false, the host does not retry this failure. */
    this.retryable = retryable;
    /** A short machine-readable code, like `card_declined`. */
    this.code = code;
  }

  /**
   * A failure the host may retry.
   * @param {string} message
   * @param {string} [code]
   * @returns {ActivityError}
   */
  static retryable(message, code = undefined) {
    return new ActivityError(message, { retryable: true, code });
  }

  /**
   * A failure the host never retries.
   * @param {string} message
   * @param {string} [code]
   * @returns {ActivityError}
   */
  static nonRetryable(message, code = undefined) {
    return new ActivityError(message, { retryable: false, code });
  }
}
