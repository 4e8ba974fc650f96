// Sagas: after each step that changed the world, register the activity call
// that undoes it; on a failure or a cancellation, run the compensations
// newest first (or all at once), each a durable activity call with its own
// retry policy:
//
//   const saga = new Saga();
//   const reservation = ctx.activity("reserve_stock", order).call();
//   saga.add(ctx.activity("release_stock", reservation));
//   try {
//     review = ctx.signal("fraud_review");
//   } catch (failed) {          // an ActivityFailed: cancelled while waiting, say
//     throw saga.fail(failed);
//   }
//
// A cancellation reaches the workflow as an ActivityFailed of kind
// `cancelled` from the wait it is in; the compensations started after it run
// normally, within the manifest's `run_supervisor.cancel_cleanup_ms`.

import { ActivityFailed } from "./errors.js";

export class Saga {
  /** @param {{parallel?: boolean}} [options] run the compensations all at once */
  constructor(options = {}) {
    this.steps = [];
    this.parallel = Boolean(options.parallel);
  }

  /** Registers the activity call that undoes the step just done. */
  add(compensation) {
    this.steps.push(compensation);
  }

  /** How many compensations are registered. */
  get length() {
    return this.steps.length;
  }

  /**
   * Runs every registered compensation, newest first (each waited for before
   * the next), or all started at once when parallel. Every one runs even when
   * an earlier one fails; the first failure is thrown.
   */
  compensate() {
    const steps = this.steps.reverse();
    this.steps = [];
    const calls = this.parallel ? steps.map((s) => s.start()).map((op) => () => op.wait()) : steps.map((s) => () => s.call());
    let first;
    for (const call of calls) {
      try {
        call();
      } catch (e) {
        if (!(e instanceof ActivityFailed)) throw e;
        console.error(`compensation failed: ${e.message}`);
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  /** Compensates, then returns `error` for the workflow to throw: `throw saga.fail(e)`. */
  fail(error) {
    try {
      this.compensate();
    } catch (e) {
      if (!(e instanceof ActivityFailed)) throw e;
    }
    return error;
  }
}
