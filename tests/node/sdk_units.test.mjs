// The SDK's logic without a server: reconnect delays, the state mirror's ring, prediction
// replaying unacknowledged inputs, the tick clock and interpolation, and the words.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  backoffDelay, StateMirror, MirrorError, TickClock, Interpolator, arena,
  describeError, describeClose, errorName, ErrorCode, pack,
} from "../../assets/sdk/ticksync.js";

test("backoff: the ceiling doubles up to the maximum, delays lie in its upper half", () => {
  const options = { initialMs: 500, maxMs: 5000 };
  const ceilings = [500, 1000, 2000, 4000, 5000, 5000, 5000];
  ceilings.forEach((ceiling, attempt) => {
    assert.equal(backoffDelay(attempt, options, () => 0), ceiling / 2, `attempt ${attempt} low`);
    assert.equal(backoffDelay(attempt, options, () => 0.999999), ceiling / 2 + (ceiling / 2) * 0.999999);
  });
  assert.equal(backoffDelay(1e6, options, () => 1), 5000, "no overflow after many attempts");
});

const view = (...players) => ({ players: players.map(([seat, x, y, dir]) => ({ seat, x, y, dir })) });
// The wire forms (PROTOCOL.md "Arena"): a view is an array of [seat, x, y, dir] arrays; a
// delta one flat array, each changed player's four fields and each removed seat s as -1 - s.
const wireView = (...players) => pack(players);
const wireDelta = (changed, removed) => pack([...changed.flat(), ...removed.map((s) => -1 - s)]);

test("mirror: deltas apply to the state of their base tick, which need not be the newest", () => {
  const mirror = new StateMirror(arena.arenaGame);
  mirror.applySnapshot(100n, wireView([0, 100, 100, 7]));
  // Delta against 100 → 103: seat 0 moved 3 ticks right (predicted), nothing changed.
  const at103 = mirror.applyDelta(103n, 100n, wireDelta([], []));
  assert.deepEqual(at103, view([0, 115, 100, 7]));
  // Latest-wins: the client never saw 104..105; a delta against 100 again (its newest ack).
  const at106 = mirror.applyDelta(106n, 100n, wireDelta([[1, 5, 5, 4]], []));
  assert.deepEqual(at106, view([0, 130, 100, 7], [1, 5, 5, 4]));
  assert.equal(mirror.tick, 106n);
  assert.throws(() => mirror.applyDelta(107n, 99n, wireDelta([], [])), MirrorError);
});

test("mirror: keeps the newest 128 states", () => {
  const mirror = new StateMirror(arena.arenaGame);
  for (let tick = 1n; tick <= 200n; tick++) mirror.applySnapshot(tick, wireView());
  assert.equal(mirror.entries().length, 128);
  assert.equal(mirror.at(72n), undefined);
  assert.ok(mirror.at(73n));
  mirror.clear();
  assert.equal(mirror.tick, null);
});

test("prediction: unacknowledged inputs are replayed on the acknowledged position", () => {
  const predictor = new arena.ArenaPredictor();
  const acked = { seat: 0, x: 500, y: 500, dir: arena.STILL };
  predictor.record(1, { dx: 1, dy: 0 }, 100.5); // applied at tick 101
  // At tick 104, server state of tick 100 (input_seq 0): 4 ticks right from 101 on.
  assert.deepEqual(predictor.predict(acked, 100n, 0, 104), { seat: 0, x: 520, y: 500, dir: 7 });
  predictor.record(2, { dx: 0, dy: 1 }, 102.2); // applied at tick 103
  assert.deepEqual(predictor.predict(acked, 100n, 0, 104), { seat: 0, x: 510, y: 510, dir: 5 });
  // The server's state of tick 102 includes input 1 (x 510, moving right); input 2,
  // applied at 103, turns it down from there: the same place as predicted before.
  const at102 = { seat: 0, x: 510, y: 500, dir: 7 };
  assert.deepEqual(predictor.predict(at102, 102n, 1, 104), { seat: 0, x: 510, y: 510, dir: 5 });
  assert.equal(predictor.unacknowledged, 1);
  // Everything acknowledged: plain prediction along the known direction, clamped.
  assert.deepEqual(predictor.predict({ seat: 0, x: 995, y: 10, dir: 5 }, 110n, 2, 112), { seat: 0, x: 995, y: 20, dir: 5 });
  assert.equal(predictor.unacknowledged, 0);
  assert.deepEqual(arena.advance({ seat: 0, x: 998, y: 3, dir: 6 }, 10), { seat: 0, x: 1000, y: 0, dir: 6 });
});

test("tick clock: follows the earliest arrivals; interpolation brackets the render tick", () => {
  let now = 0;
  const clock = new TickClock(20, () => now);
  assert.equal(clock.synced, false);
  clock.observe(1000n); // at 0 ms
  now = 500; // 10 ticks later
  clock.observe(1008n); // arrived late: ignored but for a slow sink
  assert.ok(Math.abs(clock.tick() - 1010) < 0.02, String(clock.tick()));
  clock.observe(1011n); // earlier than the estimate: taken at once
  assert.equal(clock.tick(), 1011);

  const interp = new Interpolator();
  interp.push(10n, "a");
  interp.push(14n, "b");
  interp.push(12n, "stale"); // older than the newest: ignored
  assert.deepEqual(interp.sample(11), { from: "a", to: "b", fromTick: 10, toTick: 14, alpha: 0.25 });
  assert.equal(interp.sample(9).alpha, 0);
  assert.equal(interp.sample(20).to, "b");
});

test("errors and close codes in words; unknown ones still read as words", () => {
  assert.equal(errorName(ErrorCode.RoomFull), "RoomFull");
  assert.equal(describeError(ErrorCode.UnknownRoomCode), "No room has that code. Check the code and try again.");
  assert.equal(errorName(999), "Error 999");
  assert.match(describeError(999), /refused/);
  assert.equal(describeClose(1006), "The connection to the server was lost.");
  assert.equal(describeClose(1001), "The server is restarting or shutting down.");
  assert.equal(describeClose(4321), "The connection to the server was lost.");
  for (const code of Object.values(ErrorCode)) assert.doesNotMatch(describeError(code), /^[A-Z][a-z]+[A-Z]/);
});
