// Calls of the JSON API: the token as a header, errors as ApiError with
// the server's stable code and one-line message.

import { authHeaders } from './token.js';

/** An error answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Fired on window when the API answers 401, so the token form shows. */
export const UNAUTHORIZED = 'continuum:unauthorized';

/** Turns a non-2xx answer into an ApiError (and announces a 401). */
export async function failure(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON: the status says it.
  }
  const err = body && body.error ? body.error : {};
  const e = new ApiError(res.status, err.code || 'http_' + res.status, err.message || `${res.status} ${res.statusText}`);
  if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED, { detail: e.message }));
  return e;
}

/** `method path` with an optional JSON body; the JSON answer. */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json', ...authHeaders() };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? null : res.json();
}

/** GET path. */
export const get = (path) => call('GET', path);
/** POST path with a JSON body. */
export const post = (path, body) => call('POST', path, body);

/** The API path of an instance. */
export function instancePath(instance) {
  return `/v1/instances/${encodeURIComponent(instance)}`;
}

/** The API path of a run. */
export function runPath(instance, runId) {
  return `${instancePath(instance)}/runs/${encodeURIComponent(runId)}`;
}

/** A query string of the set values of `params` ('' when none). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
