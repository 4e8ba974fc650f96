// Operations: the declarations of operation.js.

import { ActivityFailed } from "./errors.js";

/** An operation started by the workflow that completes later: an activity call, a timer, a signal receipt or a child workflow. */
export declare class Operation<T = any> {
  constructor(handle: number | undefined, failure?: ActivityFailed);
  /** The host's handle, or undefined when nothing was scheduled. */
  readonly handle: number | undefined;
  /** Whether the outcome is already known (it won a select). */
  isDone(): boolean;
  /** Records the WIT completion the host gave for this operation. */
  settle(completion: { tag: "ok"; val: Uint8Array } | { tag: "err"; val: object }): void;
  /** Blocks until the operation completes; returns its decoded JSON value (`null` for a timer), or throws its {@link ActivityFailed}. */
  wait(): T;
}
