/**
 * @ticksync/client: a TypeScript client for the ticksync game server (PROTOCOL.md).
 *
 * - `TicksyncClient` (client.ts): connect, Hello/resume, reconnect with backoff and
 *   jitter, quick match, private rooms, spectating, chat, inputs, acknowledgements.
 * - `protocol.ts`: the typed messages and events, error and close codes in words.
 * - `wire.ts`: the MessagePack codec, with explicit `u64` (`bigint`) handling.
 * - `mirror.ts`: the acknowledged-state mirror (snapshots and deltas).
 * - `clock.ts`: the server tick clock and an interpolation buffer.
 * - `tictactoe.ts`, `arena.ts`, `battleship.ts`: the built-in games' payloads, deltas and
 *   prediction, and Battleship's per-viewer views and events.
 * - `store.ts`: where the resume token lives; `backoff.ts`: reconnect delays.
 */

export * from "./protocol.js";
export * from "./wire.js";
export * from "./mirror.js";
export * from "./clock.js";
export * from "./store.js";
export * from "./backoff.js";
export * from "./emitter.js";
export * from "./client.js";
export * as tictactoe from "./tictactoe.js";
export * as arena from "./arena.js";
export * as battleship from "./battleship.js";
