// Bundles the tsc output (dist/) and @msgpack/msgpack into one ES module for browsers,
// assets/sdk/ticksync.js, which the server embeds and serves at /assets/sdk/ticksync.js.
//
//   node scripts/bundle.mjs           write the bundle (run `tsc` first: `npm run build`)
//   node scripts/bundle.mjs --check   fail if the committed bundle is not what dist/ gives
//
// esbuild only joins modules here (no minifying, no renaming beyond what joining needs),
// so the bundle stays readable as the reference JavaScript client.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "..", "..", "assets", "sdk", "ticksync.js");
const msgpackVersion = JSON.parse(
  readFileSync(join(root, "node_modules", "@msgpack", "msgpack", "package.json"), "utf8"),
).version;
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;

const banner = `// @ticksync/client ${version}: the ticksync TypeScript SDK (clients/ts), compiled with
// tsc and bundled with esbuild into one ES module. Do not edit: run \`npm run build\` in
// clients/ts. Includes @msgpack/msgpack ${msgpackVersion} (ISC License, copyright 2019 The
// MessagePack Community; https://github.com/msgpack/msgpack-javascript).`;

const result = await build({
  entryPoints: [join(root, "dist", "index.js")],
  bundle: true,
  format: "esm",
  target: "es2020",
  platform: "neutral",
  mainFields: ["module", "main"],
  banner: { js: banner },
  legalComments: "inline",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});
const text = result.outputFiles[0].text;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(out, "utf8");
  } catch {}
  if (committed !== text) {
    console.error(`${out} is not the build of clients/ts/src: run \`npm run build\` in clients/ts and commit it`);
    process.exit(1);
  }
  console.log(`${out} is current`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out} (${text.length} bytes)`);
}
