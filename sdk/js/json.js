// Payloads: JSON documents encoded as UTF-8 bytes, as the WIT `payload`.

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * A value as compact JSON text, as serde_json prints it (`undefined` is
 * `null`). Throws a TypeError for a value JSON cannot hold (a BigInt, a
 * cycle).
 * @param {unknown} value
 * @returns {string}
 */
export function toJson(value) {
  const text = JSON.stringify(value);
  return text === undefined ? "null" : text;
}

/**
 * A value as a JSON payload.
 * @param {unknown} value
 * @returns {Uint8Array}
 */
export function encodeJson(value) {
  return ENCODER.encode(toJson(value));
}

/**
 * A JSON payload as a value; an empty payload (a fired timer) is `null`.
 * Throws a SyntaxError when it is not JSON.
 * @param {Uint8Array} payload
 * @returns {unknown}
 */
export function decodeJson(payload) {
  if (!payload || payload.length === 0) return null;
  return JSON.parse(DECODER.decode(payload));
}
