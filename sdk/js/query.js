// Queries: a caller asks a run a question (`continuum query RUN NAME ARGS`)
// and the workflow answers from its state, without changing it. The host
// replays the run's history read-only; the SDK hands the query to the
// registered handler once the guest is where the run is (just before the
// wait it blocks at, or after the workflow function returned).

import * as queries from "continuum:workflow/queries@0.1.0";

import { decodeJson, encodeJson } from "./json.js";

/** The handlers registered so far, by name. */
const handlers = new Map();

/**
 * Registers the handler of the query `name` (see `Workflow#onQuery`).
 * @param {string} name
 * @param {(args: any) => any} handler
 */
export function registerQuery(name, handler) {
  handlers.set(String(name), handler);
}

/**
 * Answers the pending query, if the host has one now: called just before a
 * wait on `waitingOn` may block, and after the workflow function returned
 * (with no handles). A workflow with no handler does not ask. When it
 * answers, the host stops the guest.
 * @param {number[]} waitingOn
 */
export function answerPendingQuery(waitingOn) {
  if (handlers.size === 0) return;
  const call = queries.pendingQuery(waitingOn);
  if (call === undefined || call === null) return;
  const handler = handlers.get(call.name);
  let answer;
  if (handler === undefined) {
    answer = { tag: "unknown-query", val: [...handlers.keys()] };
  } else {
    try {
      answer = { tag: "ok", val: encodeJson(handler(decodeJson(call.args))) };
    } catch (e) {
      answer = { tag: "err", val: String(e && e.message ? e.message : e) };
    }
  }
  queries.answerQuery(answer);
}
