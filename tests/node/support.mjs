// Shared helpers for the Node suite: the server under test, SDK clients over `ws`, and a
// headless Chromium. tests/it/node_suite.rs starts the server and sets TICKSYNC_URL (and,
// for the cluster_*.test.mjs files, starts two nodes and sets TICKSYNC_CLUSTER_URLS); run
// by hand with `TICKSYNC_URL=http://127.0.0.1:7878 npm test` against a running server.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

import { TicksyncClient } from "../../assets/sdk/ticksync.js";

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "..", "..");

/** The server under test, or null (then server tests skip). */
export const serverUrl = process.env.TICKSYNC_URL ?? null;

/** Why server tests skip, or false. */
export const noServer = serverUrl ? false : "TICKSYNC_URL is not set (run through cargo test)";

/**
 * A cluster's nodes (`TICKSYNC_CLUSTER_URLS`, comma-separated http:// URLs, set by
 * tests/it/node_suite.rs for the `cluster_*.test.mjs` files), or null.
 */
export const clusterUrls = process.env.TICKSYNC_CLUSTER_URLS?.split(",") ?? null;

/** Why cluster tests skip, or false. */
export const noCluster = clusterUrls
  ? false
  : "TICKSYNC_CLUSTER_URLS is not set (run through cargo test: node_sdk_and_browser_against_a_cluster)";

/** The longest a test waits for one expected event: generous, CI machines are loaded. */
export const WAIT = 20_000;

/** A new SDK client of the server under test (not yet connected). */
export function newClient(options = {}) {
  return new TicksyncClient({ url: serverUrl, WebSocket, ...options });
}

/** A new SDK client of the cluster node `url` (not yet connected). */
export function clientOf(url, options = {}) {
  return new TicksyncClient({ url, WebSocket, ...options });
}

/** Runs `body` with fresh clients, closing them whatever happens. */
export async function withClients(count, body, options = {}) {
  const clients = Array.from({ length: count }, () => newClient(options));
  try {
    await Promise.all(clients.map((c) => c.connect(WAIT)));
    return await body(...clients);
  } finally {
    for (const c of clients) c.close();
  }
}

/** Resolves when `predicate()` holds, checking every 20 ms; rejects after `timeoutMs`. */
export async function until(predicate, what, timeoutMs = WAIT) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Launches the headless Chromium; close it with `browser.close()` and `cleanup()`. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "ticksync-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TICKSYNC_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 900, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
