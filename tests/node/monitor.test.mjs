// The room monitor (/monitor) in Debian's Chromium, driven by playwright-core, against the
// real server: TICKSYNC_URL (e.g. http://127.0.0.1:7878), started with
// `--admin-token $TICKSYNC_ADMIN_TOKEN`. Two players quick-match tic-tac-toe over
// WebSockets opened in a browser tab; the monitor lists their room, and its Close button
// ends the game: both players get GameOver (reason Closed), the operator's reason, and
// RoomLeft, and the row disappears.
//
// Run by hand: TICKSYNC_URL=http://127.0.0.1:7878 TICKSYNC_ADMIN_TOKEN=... node --test
// monitor.test.mjs (with playwright-core installed next to it). Without TICKSYNC_URL,
// TICKSYNC_ADMIN_TOKEN, playwright-core or Chromium the test is skipped with a SKIPPED
// line, unless TICKSYNC_REQUIRE_SERVICES=1, when it fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const serverUrl = process.env.TICKSYNC_URL ?? null;
const token = process.env.TICKSYNC_ADMIN_TOKEN ?? null;
const chromiumPath = process.env.TICKSYNC_CHROMIUM ?? "/usr/bin/chromium";
/** The longest any one wait lasts: generous, CI machines are loaded. */
const WAIT = 20_000;

const playwright = await import("playwright-core").catch(() => null);
const missing = !serverUrl
  ? "TICKSYNC_URL is not set"
  : !token
    ? "TICKSYNC_ADMIN_TOKEN is not set"
    : !playwright
      ? "playwright-core is not installed (npm ci in tests/node)"
      : !existsSync(chromiumPath)
        ? `${chromiumPath} is missing (apt-get install chromium)`
        : null;
const required = process.env.TICKSYNC_REQUIRE_SERVICES === "1";
if (missing && !required) console.error(`SKIPPED: monitor.test.mjs: ${missing}`);

// PROTOCOL.md's test vectors `hello_new` and `find_match` (MessagePack).
const HELLO =
  "81a548656c6c6f84a776657273696f6e02ac726573756d655f746f6b656ec0ae6c6173745f6576656e745f73657100" +
  "aa617574685f746f6b656ec0";
const FIND_MATCH = "81a946696e644d61746368" + "81a467616d65a9746963746163746f65";

test("the monitor lists a live room, and its Close button ends the game for the players", { skip: missing && !required ? missing : false }, async () => {
  assert.equal(missing, null, `cannot run: ${missing}`);
  const profile = mkdtempSync(join(tmpdir(), "ticksync-monitor-"));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  try {
    // Two players, each a raw WebSocket in one tab. Every frame they get is kept as
    // Latin-1 text: enough to spot MessagePack map keys and strings by name.
    const players = await context.newPage();
    players.setDefaultTimeout(WAIT);
    await players.goto(new URL("/healthz", serverUrl).href);
    await players.evaluate(
      ({ hello, findMatch }) => {
        const bytes = (hex) => new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
        window.seen = [[], []];
        window.sockets = [0, 1].map((i) => {
          const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/", "ticksync.msgpack.v1");
          ws.binaryType = "arraybuffer";
          ws.onopen = () => {
            ws.send(bytes(hello));
            ws.send(bytes(findMatch));
          };
          ws.onmessage = (m) => window.seen[i].push(new TextDecoder("latin1").decode(m.data));
          return ws;
        });
      },
      { hello: HELLO, findMatch: FIND_MATCH },
    );
    const bothSaw = (text) =>
      players.waitForFunction((text) => window.seen.every((frames) => frames.some((f) => f.includes(text))), text);
    await bothSaw("MatchFound");

    const monitor = await context.newPage();
    monitor.setDefaultTimeout(WAIT);
    await monitor.goto(new URL(`/monitor#token=${encodeURIComponent(token)}`, serverUrl).href);
    assert.equal(new URL(monitor.url()).hash, "", "the token leaves the address bar");
    const row = monitor.locator("#rooms tbody tr", { hasText: "tictactoe" }).filter({ hasText: "Running" }).first();
    await row.waitFor();
    const roomId = await row.getAttribute("data-room-id");
    assert.match(roomId, /^\d+$/);
    assert.match(await row.textContent(), /2 \/ 2/);
    // Counters, queues and at least one shard's histogram are drawn.
    await monitor.locator("#cards .card").first().waitFor();
    await monitor.locator(".shard .bar").first().waitFor();
    // Both players' sessions are listed, in this room.
    const sessions = monitor.locator("#sessions tbody tr", { hasText: roomId });
    assert.ok((await sessions.count()) >= 2);

    const reason = "closed by the monitor test";
    monitor.once("dialog", (dialog) => dialog.accept(reason));
    await row.getByRole("button", { name: "Close" }).click();
    await monitor.locator(`#rooms tbody tr[data-room-id="${roomId}"]`).waitFor({ state: "detached" });
    await monitor.locator("#action", { hasText: `room ${roomId} closed` }).waitFor();

    // EndReason `Closed` inside GameOver, then Error RoomClosed with the reason, then RoomLeft.
    await bothSaw("GameOver");
    await bothSaw("Closed");
    await bothSaw(reason);
    await bothSaw("RoomLeft");
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
