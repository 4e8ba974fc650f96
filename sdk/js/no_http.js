// Guests are built without StarlingMonkey's `http` feature (the host serves
// wasi:http to no guest), which leaves `fetch` and the Fetch API classes in
// place with their host calls stubbed to trap: a call would kill the guest
// instead of failing. Imported for its effect by continuum.js and
// activities.js, this module replaces them with versions that throw a
// TypeError the guest can catch.

const NO_HTTP =
  "is not available: Continuum guests have no HTTP (a workflow has no network; an activity reaches the hosts its manifest allows through wasi:sockets)";

/** A stand-in for the global `name` that throws when called or constructed. */
function refuse(name) {
  return function unavailable() {
    throw new TypeError(`${name} ${NO_HTTP}`);
  };
}

for (const name of ["fetch", "Headers", "Request", "Response"]) {
  if (name in globalThis) {
    Object.defineProperty(globalThis, name, { value: refuse(name), writable: true, configurable: true, enumerable: false });
  }
}
