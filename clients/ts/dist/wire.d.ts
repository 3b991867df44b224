/**
 * Bytes and messages in the MessagePack codec, `ticksync.msgpack.v1` (PROTOCOL.md
 * "MessagePack"). Pure functions: no sockets, no state.
 *
 * Encoding writes the canonical forms the vectors show: structs as maps in declaration
 * order, unit variants as strings, other variants as one-entry maps, integers in their
 * smallest format. A `u64` below 2^32 is written as a number (smallest format) and one at
 * or above 2^32 as a uint64 (`cf`); never as a float, which the server refuses.
 *
 * Decoding checks every field's presence and type and turns every `u64` into a `bigint`
 * whatever format it arrived in. A variant this SDK does not know decodes to `null` (a
 * newer server may append variants: skip the message); anything malformed throws
 * `WireError`.
 */
import type { ClientMsg, RoomEvent, ServerMsg } from "./protocol.js";
/** A message, or a payload inside one, that does not have the shape PROTOCOL.md gives. */
export declare class WireError extends Error {
    constructor(message: string);
}
/** Encodes any value with the protocol's MessagePack options. */
export declare function pack(value: unknown): Uint8Array;
/** Decodes one MessagePack value (the whole input, nothing left over). */
export declare function unpack(bytes: Uint8Array): unknown;
/** The value to give the encoder for a `u64`: a number below 2^32, else a bigint. */
export declare function u64Out(value: bigint | number): number | bigint;
type Fields = Record<string, unknown>;
/** A struct map. */
export declare function struct(value: unknown, what: string): Fields;
/** Reads an unsigned integer field of at most 32 bits. */
export declare function uint(map: Fields, name: string, what: string, bits: 8 | 16 | 32): number;
/** Reads a `u64` field as a `bigint`, whatever integer format it arrived in. */
export declare function u64(map: Fields, name: string, what: string): bigint;
/** Reads an `i8` field. */
export declare function i8(map: Fields, name: string, what: string): number;
/** Splits an enum value into its variant name and body (`null` for a unit variant). */
export declare function variant(value: unknown, what: string): [string, unknown];
/** The MessagePack value of a client message, in the canonical form. */
export declare function clientValue(msg: ClientMsg): unknown;
/** Encodes a client message. */
export declare function encodeClientMsg(msg: ClientMsg): Uint8Array;
/** Decodes a `RoomEvent` value; `null` for a variant this SDK does not know. */
export declare function roomEvent(value: unknown): RoomEvent | null;
/** Decodes a server message; `null` for a variant this SDK does not know. */
export declare function decodeServerMsg(bytes: Uint8Array): ServerMsg | null;
export {};
