// Activity options: retry policy, timeouts, queue, priority, idempotency
// key. Mirrors the Rust SDK's `RetryPolicy` and `ActivityOptions`
// (sdk/rust/src/retry.rs). Durations are milliseconds (a number or a
// BigInt), as with `setTimeout`.

/**
 * A duration in whole milliseconds as the WIT `u64` (never negative).
 * @param {number|bigint} ms
 * @returns {bigint}
 */
export function millis(ms) {
  if (typeof ms === "bigint") return ms < 0n ? 0n : ms;
  if (typeof ms !== "number" || Number.isNaN(ms)) throw new TypeError(`a duration must be milliseconds, got ${ms}`);
  return BigInt(Math.max(0, Math.floor(Math.min(ms, Number.MAX_SAFE_INTEGER))));
}

/**
 * How a failed activity attempt is retried by the host. Build one with
 * {@link RetryPolicy.constant}, {@link RetryPolicy.exponential} or
 * {@link RetryPolicy.noRetry}, then refine it with the `with*` methods (each
 * returns a new policy).
 *
 * @example
 * RetryPolicy.exponential(5, 200).withMaxInterval(10_000)
 */
export class RetryPolicy {
  /**
   * @param {object} fields
   * @param {number} fields.maxAttempts attempts in all, the first one included; 0 means unlimited
   * @param {number} fields.initialIntervalMs delay before the first retry
   * @param {number} [fields.backoffCoefficient] each further delay is the previous one times this (default 1)
   * @param {number} [fields.maxIntervalMs] upper bound on one delay (0: none)
   * @param {number} [fields.jitter] random extra delay, as a fraction of the delay (0 to 1)
   * @param {number} [fields.horizonMs] no retry is scheduled past this long after the first attempt (0: none)
   * @param {string[]} [fields.nonRetryableCodes] activity error codes that are never retried
   */
  constructor({ maxAttempts, initialIntervalMs, backoffCoefficient = 1.0, maxIntervalMs = 0, jitter = 0.0, horizonMs = 0, nonRetryableCodes = [] }) {
    /** Attempts in all, the first one included; 0 means unlimited. */
    this.maxAttempts = maxAttempts;
    /** Delay before the first retry, in milliseconds. */
    this.initialIntervalMs = initialIntervalMs;
    /** Each further delay is the previous one times this factor. */
    this.backoffCoefficient = backoffCoefficient;
    /** Upper bound on one delay in milliseconds (0: no bound). */
    this.maxIntervalMs = maxIntervalMs;
    /** Random extra delay, as a fraction of the delay (0 to 1). */
    this.jitter = jitter;
    /** No retry is scheduled past this many milliseconds after the first attempt started (0: none). */
    this.horizonMs = horizonMs;
    /** Activity error codes that are never retried. */
    this.nonRetryableCodes = [...nonRetryableCodes];
    Object.freeze(this);
  }

  /**
   * The same delay between every attempt.
   * @param {number} maxAttempts attempts in all (0: unlimited)
   * @param {number} intervalMs the delay, in milliseconds
   * @returns {RetryPolicy}
   */
  static constant(maxAttempts, intervalMs) {
    return new RetryPolicy({ maxAttempts, initialIntervalMs: intervalMs });
  }

  /**
   * Delays that double after each attempt, starting at `baseMs`.
   * @param {number} maxAttempts attempts in all (0: unlimited)
   * @param {number} baseMs the first delay, in milliseconds
   * @returns {RetryPolicy}
   */
  static exponential(maxAttempts, baseMs) {
    return new RetryPolicy({ maxAttempts, initialIntervalMs: baseMs, backoffCoefficient: 2.0 });
  }

  /**
   * A single attempt, never retried.
   * @returns {RetryPolicy}
   */
  static noRetry() {
    return new RetryPolicy({ maxAttempts: 1, initialIntervalMs: 0 });
  }

  /** @param {object} changes @returns {RetryPolicy} */
  #with(changes) {
    return new RetryPolicy({ ...this, ...changes });
  }

  /** Sets the number of attempts in all (0: unlimited). @param {number} maxAttempts @returns {RetryPolicy} */
  withMaxAttempts(maxAttempts) {
    return this.#with({ maxAttempts });
  }

  /** Sets the growth factor between delays. @param {number} coefficient @returns {RetryPolicy} */
  withCoefficient(coefficient) {
    return this.#with({ backoffCoefficient: coefficient });
  }

  /** Caps each delay (milliseconds). @param {number} capMs @returns {RetryPolicy} */
  withMaxInterval(capMs) {
    return this.#with({ maxIntervalMs: capMs });
  }

  /** Adds random extra delay, as a fraction (0 to 1) of each delay. @param {number} jitter @returns {RetryPolicy} */
  withJitter(jitter) {
    return this.#with({ jitter });
  }

  /** Stops scheduling retries this many milliseconds after the first attempt started. @param {number} horizonMs @returns {RetryPolicy} */
  withHorizon(horizonMs) {
    return this.#with({ horizonMs });
  }

  /** Never retries an error whose code is one of `codes`. @param {Iterable<string>} codes @returns {RetryPolicy} */
  withNonRetryableCodes(codes) {
    return this.#with({ nonRetryableCodes: [...codes] });
  }

  /** The WIT `retry-policy` record, as the bindings take it. @returns {object} */
  toWit() {
    return {
      maxAttempts: this.maxAttempts >>> 0,
      initialIntervalMs: millis(this.initialIntervalMs),
      backoffCoefficient: Number(this.backoffCoefficient),
      maxIntervalMs: millis(this.maxIntervalMs),
      jitter: Number(this.jitter),
      horizonMs: millis(this.horizonMs),
      nonRetryableCodes: [...this.nonRetryableCodes],
    };
  }
}

/**
 * Options for one activity call; a field left out uses the host's default.
 * Usually set through {@link ActivityCall}'s methods instead.
 * @typedef {object} ActivityOptions
 * @property {RetryPolicy} [retry] the retry policy (default: the host's)
 * @property {number} [attemptTimeoutMs] timeout of each attempt (default: the host's)
 * @property {number} [heartbeatTimeoutMs] an attempt that sends no heartbeat for this long fails as timed out
 * @property {number} [scheduleToStartTimeoutMs] the call fails when none of its attempts has started this long after it was scheduled (`unknown_activity` when no host serves it; default: it waits)
 * @property {string} [queue] the task queue (default: `default`)
 * @property {number} [priority] higher runs first among ready tasks of the same queue (default 0)
 * @property {string} [idempotencyKey] a completed result with the same key in the same instance is reused
 */

/**
 * The WIT `activity-options` record of `options`, as the bindings take it.
 * @param {ActivityOptions} options
 * @returns {object}
 */
export function optionsToWit(options) {
  return {
    retry: options.retry === undefined ? undefined : options.retry.toWit(),
    attemptTimeoutMs: options.attemptTimeoutMs === undefined ? undefined : millis(options.attemptTimeoutMs),
    heartbeatTimeoutMs: options.heartbeatTimeoutMs === undefined ? undefined : millis(options.heartbeatTimeoutMs),
    queue: options.queue,
    priority: (options.priority ?? 0) | 0,
    idempotencyKey: options.idempotencyKey,
  };
}

/**
 * The WIT `activity-options-ext` record of `options` (the options
 * `call-activity-ext` takes), or undefined when none of them is set (then
 * the call goes through `call-activity`).
 * @param {ActivityOptions} options
 * @returns {object|undefined}
 */
export function optionsToWitExt(options) {
  if (options.scheduleToStartTimeoutMs === undefined) return undefined;
  return { scheduleToStartTimeoutMs: millis(options.scheduleToStartTimeoutMs) };
}
