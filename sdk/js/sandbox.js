// Files in an activity's sandbox: the one directory the host's manifest
// preopens for the instance (`[instances.NAME.sandbox]`). Paths are relative
// to it; absolute paths and `..` out of it are refused by the host. For
// activity components only (a workflow has no files).
//
//   import { writeText, readText } from "../../../sdk/js/sandbox.js";
//   writeText("receipts/o-1.json", JSON.stringify(receipt));

import { getDirectories } from "wasi:filesystem/preopens@0.2.12";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** A file operation the sandbox refused or that failed. */
export class SandboxError extends Error {
  /**
   * @param {string} message what failed
   * @param {string} code the WASI error code's name (`no-entry`,
   *   `not-permitted`, `access`, ...), or `no-sandbox` when the instance has
   *   no sandbox directory
   */
  constructor(message, code) {
    super(`${message}: ${code}`);
    this.name = "SandboxError";
    /** The WASI error code's name, like `no-entry` or `not-permitted`. */
    this.code = code;
  }
}

/** The sandbox directory's descriptor. */
function sandbox() {
  const dirs = getDirectories();
  if (dirs.length === 0) throw new SandboxError("this activity has no sandbox directory", "no-sandbox");
  return dirs[0][0];
}

/** Runs a WASI call, turning its error code into a SandboxError. */
function attempt(what, action) {
  try {
    return action();
  } catch (e) {
    if (e instanceof SandboxError) throw e;
    const code = e && e.payload !== undefined ? String(e.payload) : String(e && e.message ? e.message : e);
    throw new SandboxError(what, code);
  }
}

/**
 * The bytes of the file at `path` (relative to the sandbox).
 * @param {string} path
 * @returns {Uint8Array}
 */
export function readFile(path) {
  return attempt(`reading ${path}`, () => {
    const file = sandbox().openAt({}, path, {}, { read: true });
    const chunks = [];
    let offset = 0n;
    for (;;) {
      const [bytes, end] = file.read(65536n, offset);
      chunks.push(bytes);
      offset += BigInt(bytes.length);
      if (end || bytes.length === 0) break;
    }
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  });
}

/**
 * The text (UTF-8) of the file at `path` (relative to the sandbox).
 * @param {string} path
 * @returns {string}
 */
export function readText(path) {
  return DECODER.decode(readFile(path));
}

/**
 * Creates or replaces the file at `path` (relative to the sandbox) with
 * `content` (bytes, or text written as UTF-8). Its directory must exist
 * (see {@link makeDir}).
 * @param {string} path
 * @param {Uint8Array|string} content
 */
export function writeFile(path, content) {
  const bytes = typeof content === "string" ? ENCODER.encode(content) : content;
  attempt(`writing ${path}`, () => {
    const file = sandbox().openAt({}, path, { create: true, truncate: true }, { write: true });
    let offset = 0;
    while (offset < bytes.length) {
      const written = Number(file.write(bytes.subarray(offset), BigInt(offset)));
      if (written === 0) throw new SandboxError(`writing ${path}`, "no-space");
      offset += written;
    }
  });
}

/** {@link writeFile} with text. @param {string} path @param {string} text */
export function writeText(path, text) {
  writeFile(path, text);
}

/**
 * Creates the directory `path` (relative to the sandbox); an existing one
 * is fine.
 * @param {string} path
 */
export function makeDir(path) {
  try {
    attempt(`creating ${path}`, () => sandbox().createDirectoryAt(path));
  } catch (e) {
    if (!(e instanceof SandboxError && e.code === "exist")) throw e;
  }
}

/**
 * The names of the entries of the directory `path` (relative to the
 * sandbox; `""` is the sandbox itself), sorted.
 * @param {string} path
 * @returns {string[]}
 */
export function listDir(path = "") {
  return attempt(`listing ${path || "the sandbox"}`, () => {
    const root = sandbox();
    const dir = path === "" || path === "." ? root : root.openAt({}, path, { directory: true }, { read: true });
    const stream = dir.readDirectory();
    const names = [];
    for (let entry = stream.readDirectoryEntry(); entry !== undefined; entry = stream.readDirectoryEntry()) {
      names.push(entry.name);
    }
    return names.sort();
  });
}
