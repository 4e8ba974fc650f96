// Operations: what a workflow started that completes later (an activity
// call, a timer, a signal receipt, a child workflow), waited on or raced.

import * as host from "continuum:workflow/host@0.1.0";

import { ActivityFailed } from "./errors.js";
import { decodeJson } from "./json.js";
import { answerPendingQuery } from "./query.js";

/** The decoded value of a WIT completion, or its failure thrown. */
function outcome(completion) {
  if (completion.tag === "ok") {
    try {
      return decodeJson(completion.val);
    } catch (e) {
      throw ActivityFailed.badPayload(String(e && e.message ? e.message : e));
    }
  }
  throw ActivityFailed.fromWit(completion.val);
}

/**
 * An operation started by the workflow that completes later: an activity
 * call, a timer, a signal receipt or a child workflow ({@link ChildRun}). {@link Operation#wait} for it, or race
 * several with {@link Workflow#select}.
 * @template T
 */
export class Operation {
  #handle;
  #done = false;
  #value = undefined;
  #failure = undefined;

  /**
   * @param {number|undefined} handle the host's handle (undefined for an
   *   operation that failed before it was scheduled)
   * @param {ActivityFailed} [failure] that failure
   */
  constructor(handle, failure = undefined) {
    this.#handle = handle;
    if (failure !== undefined) {
      this.#failure = failure;
      this.#done = true;
    }
  }

  /** The host's handle, or undefined when nothing was scheduled. @returns {number|undefined} */
  get handle() {
    return this.#handle;
  }

  /**
   * Whether the outcome is already known (it won a select); `wait` then
   * returns without blocking.
   * @returns {boolean}
   */
  isDone() {
    return this.#done;
  }

  /** Records the WIT completion the host gave for this operation. @param {object} completion */
  settle(completion) {
    try {
      this.#value = outcome(completion);
    } catch (failure) {
      this.#failure = failure;
    }
    this.#done = true;
  }

  /**
   * Blocks until the operation completes; returns its decoded JSON value
   * (`null` for a timer), or throws its {@link ActivityFailed}.
   * @returns {T}
   */
  wait() {
    if (!this.#done) {
      answerPendingQuery([this.#handle]);
      this.settle(host.wait(this.#handle));
    }
    if (this.#failure !== undefined) throw this.#failure;
    return this.#value;
  }
}
