// Child workflows: the declarations of child.js.

import { ActivityFailed, WorkflowError } from "./errors.js";
import { Operation } from "./operation.js";

/** What becomes of a child that has not ended when its parent ends. */
export declare const ParentClose: {
  /** Its cancellation is requested: delivered to the child, which may clean up (the default). */
  readonly CANCEL: "cancel";
  /** It is terminated at once. */
  readonly TERMINATE: "terminate";
  /** It runs on, on its own. */
  readonly ABANDON: "abandon";
};
/** A {@link ParentClose} value. */
export type ParentClosePolicy = (typeof ParentClose)[keyof typeof ParentClose];

/** Why a child workflow did not produce an output. */
export declare const ChildErrorKind: {
  /** The child failed (its error code is `code`). */
  readonly FAILED: "failed";
  /** The child was cancelled (or this run's own cancellation completed the wait on it). */
  readonly CANCELLED: "cancelled";
  /** The child was terminated. */
  readonly TERMINATED: "terminated";
  /** No workflow of that name is deployed in the instance; no child was started. */
  readonly UNKNOWN_WORKFLOW: "unknown_workflow";
  /** The start was refused (another instance, a bad or taken run id); no child was started. */
  readonly REFUSED: "refused";
  /** The input could not be serialized or the output did not decode. */
  readonly BAD_PAYLOAD: "bad_payload";
};
/** A {@link ChildErrorKind} value. */
export type ChildErrorKindValue = (typeof ChildErrorKind)[keyof typeof ChildErrorKind];

/** Options of a child workflow. */
export interface ChildOptions {
  /** The child's run id; default: `<parent>-child-<n>` (the same on every replay). */
  runId?: string;
  /** What becomes of the child when the parent ends first (default `cancel`). */
  parentClose?: ParentClosePolicy;
  /** The instance to run the child in (default: the parent's; another one is refused). */
  instance?: string;
}

/** Why a child did not complete, typed; uncaught, it fails the parent with its `code`. */
export declare class ChildError extends WorkflowError {
  constructor(kind: ChildErrorKindValue, message: string, code?: string);
  /** Why the child did not complete. */
  readonly kind: ChildErrorKindValue;
  /** True for a cancelled or terminated child. */
  isCancelled(): boolean;
  /** The error a WIT `child-failure` record describes. */
  static fromWit(failure: { kind: string; code?: string; message: string }): ChildError;
  /** The error from a completion's failure alone. */
  static fromFailure(failure: ActivityFailed): ChildError;
}

/** A child workflow this run started: wait on it, or race it with `select`. */
export declare class ChildRun<T = any> extends Operation<T> {
  /** The child's run id (undefined when nothing was started). */
  readonly runId: string | undefined;
  /** Blocks until the child ends; returns its output, or throws its {@link ChildError}. */
  wait(): T;
}

/** Starts a child (see `Workflow.startChild`). */
export declare function startChild<T = any>(workflow: string, input: unknown, options?: ChildOptions): ChildRun<T>;
/** Waits for every child (see `Workflow.joinChildren`). */
export declare function joinChildren<T = any>(runs: ChildRun<T>[], options?: { returnErrors?: boolean }): (T | ChildError)[];
