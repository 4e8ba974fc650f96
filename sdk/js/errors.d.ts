/** Why an operation did not produce a value; each value is also the code a run fails with when the failure is not caught. */
export declare const FailureKind: {
  /** The activity ran and reported an error on its last attempt. */
  readonly ACTIVITY_FAILED: "activity_failed";
  /** The activity's attempts ran out of time. */
  readonly TIMED_OUT: "activity_timed_out";
  /** The operation was cancelled. */
  readonly CANCELLED: "cancelled";
  /** No activity of that name is registered in the instance. */
  readonly UNKNOWN_ACTIVITY: "unknown_activity";
  /** The payload is not the JSON the workflow expected (raised inside the guest). */
  readonly BAD_PAYLOAD: "bad_payload";
};
/** One of the {@link FailureKind} values. */
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** The WIT `failure` record, as the bindings give it. */
export interface WitFailure {
  kind: "activity-failed" | "timed-out" | "cancelled" | "unknown-activity";
  message: string;
  attempts: number;
  code?: string;
}

/**
 * A failed operation as the workflow sees it: an activity that failed for
 * good, timed out or is unknown, a cancelled operation, or a payload that is
 * not valid JSON. Left uncaught, the run fails with a {@link WorkflowError}
 * whose code is `kind`.
 */
export declare class ActivityFailed extends Error {
  constructor(kind: FailureKind, message: string, attempts?: number, code?: string);
  /** Why the operation failed. */
  readonly kind: FailureKind;
  /** Attempts made before giving up (0 when not an activity). */
  readonly attempts: number;
  /** The activity's error code on its last attempt (like `card_declined`); undefined when it gave none or the failure is the host's. */
  readonly code: string | undefined;
  /** A {@link FailureKind.BAD_PAYLOAD} failure. */
  static badPayload(message: string): ActivityFailed;
  /** The failure a WIT `failure` record describes. */
  static fromWit(failure: WitFailure): ActivityFailed;
  /** `kind: [code] message (after N attempts)`, as the Rust SDK prints it. */
  toString(): string;
}

/** The error a workflow throws to fail its run with this `code` and `message`. */
export declare class WorkflowError extends Error {
  constructor(code: string, message: string);
  /** A short machine-readable code, like `payment_declined`. */
  readonly code: string;
  /** The error an uncaught {@link ActivityFailed} fails the run with: code `failure.kind`, message `failure.toString()`. */
  static fromFailure(failure: ActivityFailed): WorkflowError;
  /** `code: message`. */
  toString(): string;
}

/** The error an activity throws to fail its attempt; retryable unless told otherwise. */
export declare class ActivityError extends Error {
  constructor(message: string, options?: { retryable?: boolean; code?: string });
  /** When false, the host does not retry this failure. */
  readonly retryable: boolean;
  /** A short machine-readable code, like `card_declined`. */
  readonly code: string | undefined;
  /** A failure the host may retry. */
  static retryable(message: string, code?: string): ActivityError;
  /** A failure the host never retries. */
  static nonRetryable(message: string, code?: string): ActivityError;
}
