// Continuum workflows in JavaScript: the declarations of saga.js.

import { ActivityCall } from "./continuum.js";

/** Compensations run newest first (or all at once) on a failure or a cancellation. */
export declare class Saga {
  constructor(options?: { parallel?: boolean });
  /** Registers the activity call that undoes the step just done. */
  add(compensation: ActivityCall): void;
  /** How many compensations are registered. */
  readonly length: number;
  /** Runs every compensation; throws the first failure after running them all. */
  compensate(): void;
  /** Compensates, then returns `error` for the workflow to throw. */
  fail<E>(error: E): E;
}
