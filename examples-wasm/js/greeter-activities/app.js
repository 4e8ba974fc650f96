// `greeter-activities`: an activity component in JavaScript, using the
// sandboxed WASI activities get (one directory the manifest gives the
// instance).
//
// - `greet {name}`: returns {"greeting": "hello NAME", "attempt": N}; an
//   empty name fails without retry (code `no_name`);
// - `remember {key, text}`: writes `notes/KEY.txt` in the sandbox, reads it
//   back and returns {"key", "text", "notes": [every note's file name]};
// - `recall {key}`: reads `notes/KEY.txt` back ({"text"}), or fails without
//   retry with the sandbox's error code (`no-entry` for a missing note);
// - `flaky {fail_times}`: fails retryably (code `flaky`) on attempts
//   1..=fail_times, then returns {"attempt": N} (heartbeating each time).

import { ActivityError, defineActivities } from "../../../sdk/js/activities.js";
import { SandboxError, listDir, makeDir, readText, writeText } from "../../../sdk/js/sandbox.js";

const KEY = /^[A-Za-z0-9_-]{1,64}$/;

function keyOf(input) {
  const key = input && input.key;
  if (typeof key !== "string" || !KEY.test(key)) {
    throw ActivityError.nonRetryable(`a note key is 1 to 64 letters, digits, - or _, got ${JSON.stringify(key)}`, "bad_key");
  }
  return key;
}

export const { activities, invoke } = defineActivities({
  greet(input, ctx) {
    const name = input && input.name;
    if (typeof name !== "string" || name === "") throw ActivityError.nonRetryable("no name to greet", "no_name");
    return { greeting: `hello ${name}`, attempt: ctx.attempt };
  },

  remember(input) {
    const key = keyOf(input);
    const text = String(input.text ?? "");
    try {
      makeDir("notes");
      writeText(`notes/${key}.txt`, text);
      return { key, text: readText(`notes/${key}.txt`), notes: listDir("notes") };
    } catch (e) {
      if (e instanceof SandboxError) throw ActivityError.nonRetryable(e.message, e.code);
      throw e;
    }
  },

  recall(input) {
    const key = keyOf(input);
    try {
      return { text: readText(`notes/${key}.txt`) };
    } catch (e) {
      if (e instanceof SandboxError) throw ActivityError.nonRetryable(e.message, e.code);
      throw e;
    }
  },

  flaky(input, ctx) {
    const attempt = ctx.attempt;
    ctx.heartbeat({ attempt });
    if (attempt <= (input && input.fail_times ? input.fail_times : 0)) {
      throw ActivityError.retryable(`attempt ${attempt} fails on purpose`, "flaky");
    }
    return { attempt };
  },
});
