// Builds one JavaScript guest into a component with componentize-js's API
// (the `jco componentize` CLI fails on some file systems with "failed to
// get path metadata (os error 44)"). Run by continuum-guest-build
// (tools/guest-build/src/js.rs) from the directory that holds both the app
// and the SDK, so that the app's relative imports resolve:
//
//   node componentize.mjs <componentize-js module> <app.js> <wit dir> <world> <out.wasm>
//
// Built without StarlingMonkey's `http` and `fetch-event` features: the
// host offers wasi:http to no guest (a workflow has no network; an activity
// reaches the hosts its manifest allows through wasi:sockets), so `fetch`
// is not defined.
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

const [componentizeJs, sourcePath, witPath, worldName, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node componentize.mjs <componentize-js module> <app.js> <wit dir> <world> <out.wasm>");
  process.exit(2);
}
const { componentize } = await import(pathToFileURL(componentizeJs).href);
const disableFeatures = ["http", "fetch-event"];
const { component } = await componentize({ sourcePath, witPath, worldName, disableFeatures });
await writeFile(out, component);
console.log(`componentize-js: ${out} (${component.length} bytes)`);
