// Continuum activity components in JavaScript: the declarations of activities.js.

export { ActivityError, ActivityFailed, FailureKind, WorkflowError } from "./errors.js";
export { decodeJson, encodeJson, toJson } from "./json.js";

/** Who an activity attempt is. */
export interface AttemptInfo {
  /** The instance the activity runs for. */
  instance: string;
  /** The run that called it (empty when called outside a run). */
  runId: string;
  /** The activity's name. */
  activity: string;
  /** The attempt number: 1 for the first attempt of the call. */
  attempt: number;
}

/** What a running activity attempt can learn about itself and report to the host. */
export declare class ActivityContext {
  /** Who this attempt is. */
  info(): AttemptInfo;
  /** The attempt number: 1 for the first attempt. */
  readonly attempt: number;
  /** The details of the latest heartbeat recorded for this call, decoded; undefined when none was. */
  lastHeartbeat<T = any>(): T | undefined;
  /** Reports progress with JSON details a later attempt can resume from; true when the activity was cancelled. */
  heartbeat(details: unknown): boolean;
  /** True once the call has been cancelled. */
  isCancelled(): boolean;
}

/** The WIT result `invoke` returns. */
export type InvokeResult =
  | { tag: "ok"; val: Uint8Array }
  | { tag: "err"; val: { message: string; retryable: boolean; code?: string } };

/**
 * Makes the functions of `table` the component's activities: returns the
 * `activities` and `invoke` functions to export. A thrown ActivityError
 * fails the attempt with its message, retryable flag and code; any other
 * exception fails it retryably.
 */
export declare function defineActivities(
  table: Record<string, (input: any, ctx: ActivityContext) => unknown>,
): {
  activities(): string[];
  invoke(name: string, input: Uint8Array): InvokeResult | Promise<InvokeResult>;
};
