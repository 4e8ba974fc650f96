// Files in an activity's sandbox: the declarations of sandbox.js. Paths are relative to the sandbox directory.

/** A file operation the sandbox refused or that failed. */
export declare class SandboxError extends Error {
  constructor(message: string, code: string);
  /** The WASI error code's name (`no-entry`, `not-permitted`, `access`, ...), or `no-sandbox`. */
  readonly code: string;
}
/** The bytes of the file at `path`. */
export declare function readFile(path: string): Uint8Array;
/** The UTF-8 text of the file at `path`. */
export declare function readText(path: string): string;
/** Creates or replaces the file at `path`; its directory must exist. */
export declare function writeFile(path: string, content: Uint8Array | string): void;
/** Creates or replaces the text file at `path`. */
export declare function writeText(path: string, text: string): void;
/** Creates the directory `path` (an existing one is fine). */
export declare function makeDir(path: string): void;
/** The sorted names of the entries of the directory `path` (`""`: the sandbox). */
export declare function listDir(path?: string): string[];
