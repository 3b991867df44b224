// The /play page in Debian's Chromium against a real cluster (two nodes and a private
// Redis, started by tests/it/node_suite.rs, their URLs in TICKSYNC_CLUSTER_URLS): one page
// served by each node, matched by quick match across the nodes (one page follows the
// Redirect to the other node), a reload of the moved page mid-game (it resumes through
// its own node, redirected to the game's node), and the game played to the end; /arena
// served by one node sharing a room with an SDK player on the other, moved by the keyboard.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { clientOf, clusterUrls, launchChromium, noCluster, WAIT } from "./support.mjs";

let browser = null;

before(async () => {
  if (!noCluster) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A new tab on `url`, its errors collected, waiting until the page says Connected. */
async function open(url) {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(String(error)));
  await page.goto(url);
  await page.locator("#connection", { hasText: "Connected" }).waitFor();
  return page;
}

const cell = (page, n) => page.locator("#board button").nth(n);

/** Clicks cell `n` once it is this page's turn, and waits for the server to show it. */
async function move(page, n) {
  await cell(page, n).click(); // waits until the cell is enabled: our turn, cell free
  await page.waitForFunction((n) => window.ticksync.mirror.state?.board[n] !== 0, n);
}

test("/play on two nodes: quick match across the cluster, a reload of the moved page, the game to the end", { skip: noCluster }, async () => {
  const [urlA, urlB] = clusterUrls;
  // Separate browser profiles are not needed: sessionStorage is per tab.
  const a = await open(new URL("/play", urlA).href);
  const b = await open(new URL("/play", urlB).href);
  await a.getByRole("button", { name: "Quick match" }).click();
  await b.getByRole("button", { name: "Quick match" }).click();
  for (const page of [a, b]) await page.locator("#room", { hasText: "you play" }).waitFor();

  // Both pages' clients are on the same node now; one of them followed a Redirect.
  const where = (page) =>
    page.evaluate(() => ({ url: window.ticksync.url, entry: window.ticksync.entryUrl }));
  const [whereA, whereB] = [await where(a), await where(b)];
  assert.equal(whereA.url, whereB.url, "both on the hosting node");
  const moved = whereA.url !== whereA.entry ? a : b;
  assert.notEqual(whereA.url !== whereA.entry, whereB.url !== whereB.entry, "exactly one moved");
  await moved.locator("#connection", { hasText: /^Connected$/ }).waitFor();

  const seatOf = (page) => page.evaluate(() => window.ticksync.room.seat);
  const [x, o] = (await seatOf(a)) === 0 ? [a, b] : [b, a];
  await x.locator("#headline", { hasText: "Your turn (X)" }).waitFor();
  await move(x, 0);
  await move(o, 3);

  // The moved page reloads: its new client connects to its own node, which redirects the
  // resume to the game's node; same seat, same board.
  const room = await moved.locator("#room").textContent();
  await moved.reload();
  await moved.locator("#connection", { hasText: "Connected (session resumed)" }).waitFor();
  await moved.locator("#room", { hasText: room.split(" · ")[0] }).waitFor();
  await moved.waitForFunction(() => window.ticksync.mirror.state?.board[3] === 2);
  assert.equal(await cell(moved, 0).textContent(), "X");
  assert.equal(await cell(moved, 3).textContent(), "O");
  const after = await where(moved);
  assert.equal(after.url, whereA.url, "resumed on the game's node");
  assert.notEqual(after.entry, after.url, "through the page's own node");

  await move(x, 1);
  await move(o, 4);
  await move(x, 2);
  await x.locator("#headline", { hasText: "Game over: You win (three in a row)." }).waitFor();
  await o.locator("#headline", { hasText: "Game over: You lose (three in a row)." }).waitFor();
  assert.deepEqual([...a.errors, ...b.errors], []);
  for (const page of [a, b]) await page.close();
});

test("/arena on one node and an SDK player on the other: one room, the page's player moves", { skip: noCluster }, async () => {
  const [urlA, urlB] = clusterUrls;
  const bot = clientOf(urlB);
  try {
    await bot.connect(WAIT);
    const page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT);
    page.errors = [];
    page.on("pageerror", (error) => page.errors.push(String(error)));
    await page.goto(new URL("/arena", urlA).href);
    // Queue the bot the moment the page is queued: one room for the two of them.
    await page.locator("#status", { hasText: "Waiting for players" }).waitFor();
    const botJoined = bot.next("roomJoined", () => true, WAIT);
    bot.findMatch("arena");
    const { room } = await botJoined;
    await page.locator("#overlay", { hasText: "players   2" }).waitFor();
    const seen = await page.evaluate(() => {
      const { client } = window.arenaPage;
      return { url: client.url, entry: client.entryUrl, room: client.room.room_id.toString() };
    });
    assert.equal(seen.room, room.room_id.toString(), "the same room");
    assert.equal(seen.url, bot.url, "on the same node");
    assert.notEqual(seen.url !== seen.entry, bot.url !== bot.entryUrl, "exactly one moved");
    await page.waitForFunction(() => window.arenaPage.page.drawnOthers === 1);

    const ackedX = () => page.evaluate(() => {
      const { client, page } = window.arenaPage;
      return page.acked.view.players.find((p) => p.seat === client.room.seat).x;
    });
    const start = await ackedX();
    const mine = await page.evaluate(() => window.arenaPage.client.room.seat);
    // The bot, on its own connection, sees the page's player where the page says it is.
    // Listened for before the move: the arena sends a state only at ticks where it changed,
    // so once the player stops no later state would show it (a wait begun after the move
    // could start after the last one).
    const botSaw = bot.next("state", ({ state }) => state.players.find((p) => p.seat === mine)?.x >= start + 100, WAIT);
    await page.locator("#field").focus();
    await page.keyboard.down("ArrowRight");
    await page.waitForFunction((x) => {
      const { client, page } = window.arenaPage;
      return page.acked.view.players.find((p) => p.seat === client.room.seat).x >= x + 100;
    }, start);
    await page.keyboard.up("ArrowRight");
    await botSaw;
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    bot.close();
  }
});
