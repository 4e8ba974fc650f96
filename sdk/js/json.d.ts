/** A value as compact JSON text, as serde_json prints it (`undefined` is `null`); throws a TypeError for a BigInt or a cycle. */
export declare function toJson(value: unknown): string;
/** A value as a JSON payload (UTF-8 bytes). */
export declare function encodeJson(value: unknown): Uint8Array;
/** A JSON payload as a value; an empty payload (a fired timer) is `null`. Throws a SyntaxError when it is not JSON. */
export declare function decodeJson(payload: Uint8Array): unknown;
