// Continuum workflows in JavaScript: the declarations of continuum.js.

import { ChildError, ChildOptions, ChildRun } from "./child.js";
import { Operation } from "./operation.js";
import { ActivityOptions, RetryPolicy } from "./retry.js";

export { ActivityError, ActivityFailed, FailureKind, WorkflowError } from "./errors.js";
export { decodeJson, encodeJson, toJson } from "./json.js";
export { ActivityOptions, RetryPolicy, RetryPolicyFields, millis } from "./retry.js";
export { Saga } from "./saga.js";
export { Operation } from "./operation.js";
export { ChildError, ChildErrorKind, ChildOptions, ChildRun, ParentClose } from "./child.js";

/** A severity of a log line. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** Logging through the host: not journaled, muted while the run replays. `console.log`/`console.error` reach the same log. */
export declare const log: {
  /** Writes `message` at `level`. */
  log(level: LogLevel, message: string): void;
  /** Logs at trace level. */
  trace(message: string): void;
  /** Logs at debug level. */
  debug(message: string): void;
  /** Logs at info level. */
  info(message: string): void;
  /** Logs at warn level. */
  warn(message: string): void;
  /** Logs at error level. */
  error(message: string): void;
};

/** A prepared activity call: set options, then `call()` or `start()` it. Durations in milliseconds. */
export declare class ActivityCall<T = any> {
  constructor(name: string, input: unknown);
  /** Sets the retry policy (default: the host's policy). */
  retry(policy: RetryPolicy): this;
  /** Sets the timeout of each attempt (default: the host's). */
  timeout(perAttemptMs: number): this;
  /** Fails an attempt that sends no heartbeat for `everyMs` (as timed out). */
  heartbeatTimeout(everyMs: number): this;
  /** Fails the call when none of its attempts has started `ms` after it was scheduled: `unknown_activity` when no host serves it on its queue (else timed out). Default: it waits. */
  scheduleToStartTimeout(ms: number): this;
  /** Sends the task to this queue (default: `default`). */
  queue(queue: string): this;
  /** Higher runs first among ready tasks of the same queue (default 0). */
  priority(priority: number): this;
  /** Reuses a completed result with the same key in the same instance. */
  idempotencyKey(key: string): this;
  /** Replaces all options at once. */
  options(options: ActivityOptions): this;
  /** Schedules the activity; returns its pending operation (failed with `bad_payload` when the input is not JSON-serializable). */
  start(): Operation<T>;
  /** Schedules the activity and waits for its decoded result; throws {@link ActivityFailed} when it failed for good. */
  call(): T;
}

/** A signal received by {@link Workflow.update}: its payload, and its update id when its sender waits for a reply. */
export declare class Update<T = any> {
  /** The payload. */
  readonly value: T;
  /** The update id; `undefined` for a plain signal. */
  readonly id: string | undefined;
  /** Replies `reply` (a JSON value) to the sender; nothing for a plain signal. */
  reply(reply: unknown): void;
  /** Rejects the update: its sender gets the error `message`. */
  reject(message: string): void;
}

/** The handle a workflow function receives; there is one per run. Durations in milliseconds. */
export declare class Workflow {
  /** Registers the handler of the query `name`: it takes the arguments and returns the answer (JSON); what it throws fails the query. */
  onQuery(name: string, handler: (args: any) => unknown): void;
  /** Waits for the next signal `name`, sent as an update or as a plain signal; reply with {@link Update.reply}. */
  update<T = any>(name: string): Update<T>;
  /** Prepares a call of the activity `name` with `input` (sent as JSON). */
  activity<T = any>(name: string, input?: unknown): ActivityCall<T>;
  /** Starts a durable timer; the operation completes (with `null`) when it fires. */
  timer(ms: number): Operation<null>;
  /** Sleeps durably (a timer that survives a crash of the host). */
  sleep(ms: number): void;
  /** Starts waiting for the next signal called `name`; its JSON payload is the operation's value. */
  receiveSignal<T = any>(name: string): Operation<T>;
  /** Waits for the next signal called `name`; returns its payload. */
  signal<T = any>(name: string): T;
  /** Waits for the next signal called `name` for at most `timeoutMs`; returns its payload, or `fallback` when the timeout fires first. */
  signalWithTimeout<T = any, F = undefined>(name: string, timeoutMs: number, fallback?: F): T | F;
  /** Blocks until one of `ops` completes; returns its position. The others stay pending. */
  select(...ops: Operation<any>[]): number;
  /** {@link Workflow.select} over an array, under the name of the host call. */
  waitAny(ops: Operation<any>[]): number;
  /** Joins operations started earlier: waits for each in order, returns their values; throws the first failure met. */
  all<T = any>(ops: Operation<T>[]): T[];
  /** Starts the workflow `workflow` of this instance with `input` as a child of this run; wait on it or race it. Journaled: a replay starts no second child. */
  startChild<T = any>(workflow: string, input?: unknown, options?: ChildOptions): ChildRun<T>;
  /** Starts a child workflow and waits for its output; throws {@link ChildError} when it did not complete. */
  child<T = any>(workflow: string, input?: unknown, options?: ChildOptions): T;
  /** Waits for every child (all of them) and returns their outputs in order; the first {@link ChildError} is thrown once all ended, or with `returnErrors` each error takes its child's place. */
  joinChildren<T = any>(children: ChildRun<T>[], options?: { returnErrors?: false }): T[];
  joinChildren<T = any>(children: ChildRun<T>[], options: { returnErrors: true }): (T | ChildError)[];
  /** The current time (journaled). `Date.now()` reads the same journaled clock. */
  now(): Date;
  /** The current time in milliseconds since the Unix epoch (journaled). */
  nowMs(): number;
  /** A random 64-bit number (journaled). */
  random(): bigint;
  /** A random UUID v4 in its hyphenated form (journaled). */
  uuid(): string;
  /** A patch marker: true on the new path, false for a history recorded without the patch. */
  patched(name: string): boolean;
  /**
   * Sets attribute `key` of this run to `value` (journaled; a key set again
   * gets the new value), for `continuum runs --attr key=value`. Throws a
   * WorkflowError with code `invalid_attribute` naming the key when the key
   * (1 to 64 of `[A-Za-z0-9_.:-]`) or value (at most 256 characters, no
   * control characters) is refused.
   */
  setAttribute(key: string, value: string): void;
  /**
   * Continues as new (on the current version, or on `version`, a content
   * hash): the run ends `continued` when the workflow returns and the next
   * run of its chain starts with `input`. Return right after it.
   */
  continueAsNew(input: unknown, version?: string): undefined;
}

/** The WIT result `run` returns. */
export type RunResult = { tag: "ok"; val: Uint8Array } | { tag: "err"; val: { code: string; message: string } };

/**
 * Makes `fn` the component's workflow: returns the function to export as `run`.
 * A thrown {@link WorkflowError} fails the run with its code; an uncaught
 * {@link ActivityFailed} with its kind; any other exception with `exception`.
 */
export declare function workflow<I = any, O = any>(
  fn: (ctx: Workflow, input: I) => O | Promise<O>,
): (input: Uint8Array) => RunResult | Promise<RunResult>;
