/** A duration in whole milliseconds as the WIT `u64` (never negative). */
export declare function millis(ms: number | bigint): bigint;

/** The fields of a {@link RetryPolicy}; durations in milliseconds. */
export interface RetryPolicyFields {
  /** Attempts in all, the first one included; 0 means unlimited. */
  maxAttempts: number;
  /** Delay before the first retry. */
  initialIntervalMs: number;
  /** Each further delay is the previous one times this factor (default 1). */
  backoffCoefficient?: number;
  /** Upper bound on one delay (0: no bound). */
  maxIntervalMs?: number;
  /** Random extra delay, as a fraction of the delay (0 to 1). */
  jitter?: number;
  /** No retry is scheduled past this long after the first attempt started (0: none). */
  horizonMs?: number;
  /** Activity error codes that are never retried. */
  nonRetryableCodes?: string[];
}

/** How a failed activity attempt is retried by the host; immutable (the `with*` methods return a new policy). */
export declare class RetryPolicy implements Required<RetryPolicyFields> {
  constructor(fields: RetryPolicyFields);
  readonly maxAttempts: number;
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maxIntervalMs: number;
  readonly jitter: number;
  readonly horizonMs: number;
  readonly nonRetryableCodes: string[];
  /** The same delay between every attempt. */
  static constant(maxAttempts: number, intervalMs: number): RetryPolicy;
  /** Delays that double after each attempt, starting at `baseMs`. */
  static exponential(maxAttempts: number, baseMs: number): RetryPolicy;
  /** A single attempt, never retried. */
  static noRetry(): RetryPolicy;
  /** Sets the number of attempts in all (0: unlimited). */
  withMaxAttempts(maxAttempts: number): RetryPolicy;
  /** Sets the growth factor between delays. */
  withCoefficient(coefficient: number): RetryPolicy;
  /** Caps each delay. */
  withMaxInterval(capMs: number): RetryPolicy;
  /** Adds random extra delay, as a fraction (0 to 1) of each delay. */
  withJitter(jitter: number): RetryPolicy;
  /** Stops scheduling retries this long after the first attempt started. */
  withHorizon(horizonMs: number): RetryPolicy;
  /** Never retries an error whose code is one of `codes`. */
  withNonRetryableCodes(codes: Iterable<string>): RetryPolicy;
  /** The WIT `retry-policy` record, as the bindings take it. */
  toWit(): object;
}

/** Options for one activity call; a field left out uses the host's default. Durations in milliseconds. */
export interface ActivityOptions {
  /** The retry policy (default: the host's). */
  retry?: RetryPolicy;
  /** Timeout of each attempt (default: the host's). */
  attemptTimeoutMs?: number;
  /** An attempt that sends no heartbeat for this long fails as timed out. */
  heartbeatTimeoutMs?: number;
  /** The call fails when none of its attempts has started this long after it was scheduled (`unknown_activity` when no host serves it; default: it waits). */
  scheduleToStartTimeoutMs?: number;
  /** The task queue (default: `default`). */
  queue?: string;
  /** Higher runs first among ready tasks of the same queue (default 0). */
  priority?: number;
  /** A completed result with the same key in the same instance is reused. */
  idempotencyKey?: string;
}

/** The WIT `activity-options` record of `options`, as the bindings take it. */
export declare function optionsToWit(options: ActivityOptions): object;

/** The WIT `activity-options-ext` record of `options`, or undefined when none of its options is set. */
export declare function optionsToWitExt(options: ActivityOptions): object | undefined;
