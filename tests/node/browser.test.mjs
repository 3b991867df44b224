// The browser pages in Debian's Chromium (headless, driven by playwright-core) against the
// real server: /play (a whole game through a shared link, a reload mid-game that resumes,
// a spectator from the open-room list, an opponent's held seat counting down, a lost
// connection in words, a refused session explained) and /arena (renders, moves with the
// keyboard). With TICKSYNC_SCREENSHOTS=<dir> it also saves the README's screenshots.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { arena } from "../../assets/sdk/ticksync.js";
import { launchChromium, newClient, noServer, serverUrl, WAIT } from "./support.mjs";

const screenshots = process.env.TICKSYNC_SCREENSHOTS ?? null;
let browser = null;

before(async () => {
  if (!noServer) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A new tab on `path`, its errors collected, waiting until the page says Connected. */
async function open(path) {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT);
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(String(error)));
  await page.goto(new URL(path, serverUrl).href);
  await page.locator("#connection", { hasText: "Connected" }).waitFor();
  return page;
}

const cell = (page, n) => page.locator("#board button").nth(n);
const text = (page, selector) => page.locator(selector).textContent();

/** Clicks cell `n` once it is this page's turn, and waits for the server to show it. */
async function move(page, n) {
  await cell(page, n).click(); // waits until the cell is enabled: our turn, cell free
  await page.waitForFunction((n) => window.ticksync.mirror.state?.board[n] !== 0, n);
}

test("/play: a shared link lands the friend in the room; a reload resumes; the game ends with a rematch button", { skip: noServer }, async () => {
  const host = await open("/play");
  await host.getByRole("button", { name: "Create private room" }).click();
  const share = await host.locator("#share").getAttribute("href");
  const code = new URL(share).searchParams.get("code");
  assert.match(code, /^[A-HJKMNP-Z2-9]{8}$/);

  const guest = await open(share);
  await guest.locator("#room", { hasText: `Room ${code} · you play O` }).waitFor();
  assert.equal(new URL(guest.url()).search, "", "the code leaves the URL once in the room");
  await host.locator("#headline", { hasText: "Your turn (X)" }).waitFor();

  await move(host, 0);
  await move(guest, 3);

  // The guest reloads mid-game: same seat, same board, the room line complete again.
  await guest.reload();
  await guest.locator("#connection", { hasText: "Connected (session resumed)" }).waitFor();
  await guest.locator("#room", { hasText: `Room ${code} · you play O · 2 players, 0 watching` }).waitFor();
  await guest.locator("#log li", { hasText: `Back in room ${code}, playing O.` }).waitFor();
  assert.equal(await cell(guest, 0).textContent(), "X");
  assert.equal(await cell(guest, 3).textContent(), "O");
  await host.locator("#log li", { hasText: "O is back." }).waitFor();

  await move(host, 1);
  await move(guest, 4);
  await move(host, 2);
  await host.locator("#headline", { hasText: "Game over: You win (three in a row)." }).waitFor();
  await guest.locator("#headline", { hasText: "Game over: You lose (three in a row)." }).waitFor();
  await host.getByRole("button", { name: "Play again" }).waitFor();
  await guest.getByRole("button", { name: "Play again" }).waitFor();
  if (screenshots) await host.screenshot({ path: join(screenshots, "play.png") });

  // "Play again" after a private game opens a new private room to share.
  await host.getByRole("button", { name: "Play again" }).click();
  await host.locator("#headline", { hasText: "Waiting for an opponent. Share the code" }).waitFor();
  const again = await host.locator("#share").getAttribute("href");
  assert.notEqual(new URL(again).searchParams.get("code"), code);
  assert.deepEqual([...host.errors, ...guest.errors], []);
  await host.close();
  await guest.close();
});

test("/play: a spectator picks a quick-match game from the open rooms and watches it end", { skip: noServer }, async () => {
  const [a, b] = [await open("/play"), await open("/play")];
  await a.getByRole("button", { name: "Quick match" }).click();
  await b.getByRole("button", { name: "Quick match" }).click();
  await a.locator("#room", { hasText: "you play" }).waitFor();

  const watcher = await open("/play");
  const watch = watcher.locator("#rooms button", { hasText: "Watch" }).first();
  await watch.click(); // the list refreshes every 3 s until the room shows
  await watcher.locator("#room", { hasText: "watching" }).waitFor();
  await watcher.locator("#room", { hasText: "2 players, 1 watching" }).waitFor();

  // Whoever is X plays 0, 1, 2; O plays 3, 4.
  const seatOf = (page) => page.evaluate(() => window.ticksync.room.seat);
  const [x, o] = (await seatOf(a)) === 0 ? [a, b] : [b, a];
  await move(x, 0);
  await watcher.waitForFunction(() => window.ticksync.mirror.state?.board[0] === 1);

  // The watcher reloads: its session ended with the page (only seats are held), so the
  // page watches the same room again as a new session, without a lost-game notice.
  await watcher.reload();
  await watcher.locator("#log li", { hasText: "Watching room" }).waitFor();
  await watcher.locator("#room", { hasText: "watching · 2 players, 1 watching" }).waitFor();
  await watcher.waitForFunction(() => window.ticksync.mirror.state?.board[0] === 1);
  assert.equal(await text(watcher, "#notice"), "");
  await move(o, 3);
  await move(x, 1);
  await move(o, 4);
  await move(x, 2);
  await watcher.locator("#headline", { hasText: "Game over: X wins (three in a row)." }).waitFor();
  assert.equal(await cell(watcher, 2).textContent(), "X");
  // A quick-match game is ranked: once it is stored, each player's page shows the new rating.
  await x.locator("#log li", { hasText: /^Your rating: \d+ \(\+\d+\)\.$/ }).waitFor();
  await o.locator("#log li", { hasText: /^Your rating: \d+ \(−\d+\)\.$/ }).waitFor();
  assert.deepEqual([...a.errors, ...b.errors, ...watcher.errors], []);
  for (const page of [a, b, watcher]) await page.close();
});

test("/play: an opponent who drops shows a held-seat countdown; our own drop is said in words", { skip: noServer }, async () => {
  const host = await open("/play");
  await host.getByRole("button", { name: "Create private room" }).click();
  const share = await host.locator("#share").getAttribute("href");
  const guest = await open(share);
  await host.locator("#headline", { hasText: "Your turn (X)" }).waitFor();

  // Our own connection drops: plain words, no close code, then back in the same seat.
  await host.evaluate(() => window.ticksync.drop());
  const lost = await host.locator("#connection", { hasText: "Reconnecting" }).textContent();
  assert.match(lost, /connection to the server was lost/i);
  assert.doesNotMatch(lost, /\b(1006|3000|4\d{3})\b/);
  await host.locator("#connection", { hasText: "Connected (session resumed)" }).waitFor();

  // The opponent's tab goes away: its seat is held, and the host sees it counting down.
  await guest.close();
  const notice = host.locator("#notice", { hasText: "O lost the connection" });
  await notice.waitFor();
  const first = await notice.textContent();
  assert.match(first, /Their seat is held for \d+ s more; if they are not back by then, you win\./);
  const seconds = (t) => Number(t.match(/held for (\d+) s/)[1]);
  await host.waitForFunction(
    (before) => Number(document.getElementById("notice").textContent.match(/held for (\d+) s/)?.[1]) < before,
    seconds(first),
  );
  await host.locator("#headline", { hasText: "Game over: You win (O left)." }).waitFor({ timeout: 60_000 });
  assert.deepEqual(host.errors, []);
  await host.close();
});

test("/play: a game the server no longer knows is explained; refusals are in words", { skip: noServer }, async () => {
  const page = await open("/play");
  // A wrong code: the refusal in words, not an enum name.
  await page.locator("#code").fill("ZZZZZZZZ");
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await page.locator("#log li.error", { hasText: "No room has that code." }).waitFor();
  assert.equal(await page.locator("#log", { hasText: "UnknownRoomCode" }).count(), 0);

  // In a room, the connection drops and the server no longer knows the session, as after
  // a restart: the page says the game is gone and carries on with a new session.
  await page.getByRole("button", { name: "Create private room" }).click();
  const code = new URL(await page.locator("#share").getAttribute("href")).searchParams.get("code");
  await page.evaluate(() => {
    sessionStorage.setItem("ticksync.play.token", "from-an-earlier-server");
    window.ticksync.drop();
  });
  await page.locator("#notice", { hasText: `Your game in room ${code} no longer exists` }).waitFor();
  await page.locator("#connection", { hasText: "Connected" }).waitFor();
  await page.getByRole("button", { name: "Quick match" }).waitFor();
  assert.equal(await text(page, "#room"), "");

  // The same on a reload with a token the server does not know. (In a room: a seatless
  // session's token is forgotten when the page goes, as the server ends it anyway.)
  await page.getByRole("button", { name: "Create private room" }).click();
  await page.locator("#share").waitFor();
  await page.evaluate(() => sessionStorage.setItem("ticksync.play.token", "from-an-earlier-server"));
  await page.reload();
  await page.locator("#notice", { hasText: "Your earlier session has ended" }).waitFor();
  await page.locator("#connection", { hasText: "Connected" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("/arena: the canvas draws everyone, the keyboard moves the own player, the overlay shows the link", { skip: noServer }, async () => {
  // Two SDK players join the same quick-match room as the page and walk in circles.
  const bots = [newClient(), newClient()];
  const timers = [];
  try {
    await Promise.all(bots.map((bot) => bot.connect(WAIT)));
    const circle = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]];
    bots.forEach((bot, i) => {
      let step = i * 3;
      timers.push(setInterval(() => {
        if (!bot.isOpen || bot.room == null || bot.mirror.tick == null) return;
        const [dx, dy] = circle[step++ % circle.length];
        bot.sendInput(arena.encodeInput({ dx, dy }));
      }, 300));
    });

    const page = await browser.context.newPage();
    page.setDefaultTimeout(WAIT);
    page.errors = [];
    page.on("pageerror", (error) => page.errors.push(String(error)));
    await page.goto(new URL("/arena", serverUrl).href);
    // Queue the bots the moment the page is queued: one room for the three of them.
    await page.locator("#status", { hasText: "Waiting for players" }).waitFor();
    for (const bot of bots) bot.findMatch("arena");

    await page.locator("#overlay", { hasText: "players   3" }).waitFor();
    // The others are drawn (interpolated between states), not just known.
    await page.waitForFunction(() => window.arenaPage.page.drawnOthers === 2);
    const own = () => page.evaluate(() => {
      const { client, page } = window.arenaPage;
      const acked = page.acked.view.players.find((p) => p.seat === client.room.seat);
      return { acked, drawn: page.me };
    });
    const start = await own();

    await page.locator("#field").focus();
    await page.keyboard.down("ArrowRight");
    await page.waitForFunction((x) => {
      const { client, page } = window.arenaPage;
      return page.acked.view.players.find((p) => p.seat === client.room.seat).x >= x + 100;
    }, start.acked.x);
    await page.keyboard.up("ArrowRight");
    await page.keyboard.down("ArrowDown");
    await page.waitForFunction((y) => window.arenaPage.page.me.y >= y + 50, start.acked.y);
    await page.keyboard.up("ArrowDown");
    const end = await own();
    assert.ok(end.drawn.x >= start.acked.x + 100, `moved right: ${JSON.stringify({ start, end })}`);

    // The server stops the player once the release is acknowledged.
    await page.waitForFunction(() => {
      const { client, page, predictor } = window.arenaPage;
      const me = page.acked.view.players.find((p) => p.seat === client.room.seat);
      return me.dir === 4 && predictor.unacknowledged === 0;
    });
    await page.locator("#overlay", { hasText: " ms" }).waitFor(); // the first ping is back
    const overlay = await text(page, "#overlay");
    assert.match(overlay, /ping\s+\d+(\.\d)? ms/);
    assert.match(overlay, /updates\s+\d+\/s \(\d+% deltas\)/);
    assert.match(overlay, /received\s+\d/);

    // Something other than the background is drawn where the players are.
    const drawn = await page.evaluate(() => {
      const canvas = document.getElementById("field");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let colored = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && data[i] !== data[i + 2]) colored++;
      return colored;
    });
    assert.ok(drawn > 300, `${drawn} coloured pixels`);
    if (screenshots) await page.screenshot({ path: join(screenshots, "arena.png") });
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const bot of bots) bot.close();
  }
});
