// @ticksync/client 0.1.0: the ticksync TypeScript SDK (clients/ts), compiled with
// tsc and bundled with esbuild into one ES module. Do not edit: run `npm run build` in
// clients/ts. Includes @msgpack/msgpack 3.1.3 (ISC License, copyright 2019 The
// MessagePack Community; https://github.com/msgpack/msgpack-javascript).
var __defProp = Object.defineProperty;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

// dist/protocol.js
var PROTOCOL_VERSION = 2;
var MSGPACK_SUBPROTOCOL = "ticksync.msgpack.v2";
var MSGPACK_V1_SUBPROTOCOL = "ticksync.msgpack.v1";
var SUBPROTOCOLS = [MSGPACK_SUBPROTOCOL, MSGPACK_V1_SUBPROTOCOL];
var ErrorCode = {
  BadMessage: 1,
  UnsupportedVersion: 2,
  HelloRequired: 3,
  TextFrame: 4,
  TooManyErrors: 5,
  UnknownGame: 10,
  NotInRoom: 11,
  AlreadyInRoom: 12,
  AlreadyQueued: 13,
  NotQueued: 14,
  UnknownRoomCode: 20,
  RoomFull: 21,
  GameAlreadyStarted: 22,
  SpectatorsNotAllowed: 23,
  NotAPlayer: 24,
  NotYourTurn: 30,
  IllegalInput: 31,
  GameNotRunning: 32,
  InvalidResumeToken: 40,
  ChatTooLong: 50,
  RateLimited: 51,
  InvalidText: 55,
  ServerBusy: 60,
  TooManyCodeGuesses: 61,
  AuthRequired: 70,
  TokenExpired: 71,
  TokenNotYetValid: 72,
  TokenBadSignature: 73,
  TokenWrongIssuer: 74,
  TokenWrongAudience: 75,
  TokenWrongAlgorithm: 76,
  TokenUnsigned: 77,
  TokenMalformed: 78,
  ShuttingDown: 80,
  RoomClosed: 85,
  Kicked: 86,
  InvalidOptions: 90,
  NoRecords: 110,
  RecordsUnavailable: 111,
  TicketInvalid: 120,
  TicketExpired: 121,
  TicketWrongNode: 122,
  TicketUsed: 123,
  ClusterUnavailable: 124,
  ReservationExpired: 125,
  MatchCalledOff: 126,
  NodeLost: 130,
  TicketWrongPlayer: 131
};
var ERROR_WORDS = {
  1: "The server could not read a message from this client.",
  2: "The server speaks a different protocol version than this client.",
  3: "The connection did not start with a greeting.",
  4: "This client sent text where the server expects binary messages.",
  5: "Too many unreadable messages; the server is closing the connection.",
  10: "The server does not have that game.",
  11: "You are not in a room.",
  12: "You are already in a room. Leave it first.",
  13: "You are already waiting for a match.",
  14: "You were not waiting for a match.",
  20: "No room has that code. Check the code and try again.",
  21: "That room is full.",
  22: "That game has already started.",
  23: "That room does not allow spectators.",
  24: "Spectators cannot play.",
  30: "It is not your turn.",
  31: "That move is not allowed.",
  32: "The game is not running.",
  40: "Your earlier session has ended.",
  50: "A chat message must be 1 to 200 characters.",
  51: "Too fast; slow down a little.",
  55: "A chat message cannot contain control or invisible characters.",
  60: "The server is busy; try again in a moment.",
  61: "Too many room codes that name no room; the server is closing the connection.",
  70: "This server needs you to sign in first.",
  71: "Your sign-in has expired. Sign in again.",
  72: "Your sign-in is not valid yet. Check your device's clock.",
  73: "Your sign-in could not be verified. Sign in again.",
  74: "Your sign-in is from a service this server does not accept.",
  75: "Your sign-in is meant for another server.",
  76: "Your sign-in uses a method this server does not accept.",
  77: "Your sign-in is not signed, so the server refused it.",
  78: "Your sign-in could not be read. Sign in again.",
  80: "The server is shutting down; new games cannot start now.",
  85: "The server's operator closed this room.",
  86: "The server's operator ended your session.",
  90: "The game does not accept those room options.",
  110: "This server keeps no records, so there is no leaderboard.",
  111: "The server's records cannot be read right now; try again.",
  120: "The seat ticket could not be read or verified.",
  121: "The seat ticket has expired.",
  122: "The seat ticket is meant for another server.",
  123: "The seat ticket was already used.",
  124: "The server cannot reach its cluster right now; try again.",
  125: "The seat held for you is gone; find a new match.",
  126: "A player did not arrive, so the match was called off; you are back in the queue.",
  130: "The server that held your game is gone, and the game with it. You have a new session; start another game.",
  131: "That ticket was given to another player, not to the one signed in here."
};
function errorName(code) {
  const entry = Object.entries(ErrorCode).find(([, value]) => value === code);
  return entry ? entry[0] : `Error ${code}`;
}
function describeError(code) {
  return ERROR_WORDS[code] ?? `The server refused the request (code ${code}).`;
}
var CloseCode = {
  NORMAL: 1e3,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  /** No close frame at all (the browser's code for a dropped connection). */
  PROTOCOL_ERROR: 1002,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  /** In a cluster: where the session is could not be looked up; resume again with backoff. */
  TRY_AGAIN_LATER: 1013,
  UNSUPPORTED_VERSION: 4e3,
  HELLO_REQUIRED: 4001,
  SESSION_TAKEN_OVER: 4002,
  TOO_SLOW: 4003,
  IDLE_TIMEOUT: 4004,
  INVALID_RESUME_TOKEN: 4005,
  AUTH_REQUIRED: 4010,
  TOKEN_EXPIRED: 4011,
  TOKEN_NOT_YET_VALID: 4012,
  TOKEN_BAD_SIGNATURE: 4013,
  TOKEN_WRONG_ISSUER: 4014,
  TOKEN_WRONG_AUDIENCE: 4015,
  TOKEN_WRONG_ALGORITHM: 4016,
  TOKEN_UNSIGNED: 4017,
  TOKEN_MALFORMED: 4018,
  TOO_MANY_CODE_GUESSES: 4020,
  KICKED: 4040,
  TICKET_REFUSED: 4050,
  /** In a cluster: the session is on another node (the `Redirect` just before says where). */
  RESUME_ELSEWHERE: 4052
};
function isAuthClose(code) {
  return code >= CloseCode.AUTH_REQUIRED && code <= CloseCode.TOKEN_MALFORMED;
}
var CLOSE_WORDS = {
  1e3: "The connection was closed.",
  1001: "The server is restarting or shutting down.",
  1002: "This client broke the WebSocket protocol, so the server closed the connection.",
  1003: "The server refused a message this client sent.",
  1006: "The connection to the server was lost.",
  1007: "This client sent text that is not valid UTF-8.",
  1008: "The server closed the connection: too many unreadable messages, or too many messages too fast.",
  1009: "This client sent a message that was too large.",
  1011: "The server hit an internal error.",
  1013: "The server could not reach its cluster for a moment.",
  4e3: "The server speaks a different protocol version.",
  4001: "The connection did not start properly.",
  4002: "This session continued in another tab or window.",
  4003: "The connection was too slow to keep up.",
  4004: "The connection was silent for too long.",
  4005: "Your earlier session has ended.",
  4010: "This server needs you to sign in first.",
  4011: "Your sign-in has expired. Sign in again.",
  4012: "Your sign-in is not valid yet. Check your device's clock.",
  4013: "Your sign-in could not be verified. Sign in again.",
  4014: "Your sign-in is from a service this server does not accept.",
  4015: "Your sign-in is meant for another server.",
  4016: "Your sign-in uses a method this server does not accept.",
  4017: "Your sign-in is not signed, so the server refused it.",
  4018: "Your sign-in could not be read. Sign in again.",
  4020: "Too many room codes that name no room; the server closed the connection.",
  4040: "The server's operator ended your session.",
  4050: "The seat ticket was refused.",
  4052: "Your session is on another server of the cluster."
};
function describeClose(code) {
  return CLOSE_WORDS[code] ?? "The connection to the server was lost.";
}

// node_modules/@msgpack/msgpack/dist.esm/utils/utf8.mjs
function utf8Count(str2) {
  const strLength = str2.length;
  let byteLength = 0;
  let pos = 0;
  while (pos < strLength) {
    let value = str2.charCodeAt(pos++);
    if ((value & 4294967168) === 0) {
      byteLength++;
      continue;
    } else if ((value & 4294965248) === 0) {
      byteLength += 2;
    } else {
      if (value >= 55296 && value <= 56319) {
        if (pos < strLength) {
          const extra = str2.charCodeAt(pos);
          if ((extra & 64512) === 56320) {
            ++pos;
            value = ((value & 1023) << 10) + (extra & 1023) + 65536;
          }
        }
      }
      if ((value & 4294901760) === 0) {
        byteLength += 3;
      } else {
        byteLength += 4;
      }
    }
  }
  return byteLength;
}
function utf8EncodeJs(str2, output, outputOffset) {
  const strLength = str2.length;
  let offset = outputOffset;
  let pos = 0;
  while (pos < strLength) {
    let value = str2.charCodeAt(pos++);
    if ((value & 4294967168) === 0) {
      output[offset++] = value;
      continue;
    } else if ((value & 4294965248) === 0) {
      output[offset++] = value >> 6 & 31 | 192;
    } else {
      if (value >= 55296 && value <= 56319) {
        if (pos < strLength) {
          const extra = str2.charCodeAt(pos);
          if ((extra & 64512) === 56320) {
            ++pos;
            value = ((value & 1023) << 10) + (extra & 1023) + 65536;
          }
        }
      }
      if ((value & 4294901760) === 0) {
        output[offset++] = value >> 12 & 15 | 224;
        output[offset++] = value >> 6 & 63 | 128;
      } else {
        output[offset++] = value >> 18 & 7 | 240;
        output[offset++] = value >> 12 & 63 | 128;
        output[offset++] = value >> 6 & 63 | 128;
      }
    }
    output[offset++] = value & 63 | 128;
  }
}
var sharedTextEncoder = new TextEncoder();
var TEXT_ENCODER_THRESHOLD = 50;
function utf8EncodeTE(str2, output, outputOffset) {
  sharedTextEncoder.encodeInto(str2, output.subarray(outputOffset));
}
function utf8Encode(str2, output, outputOffset) {
  if (str2.length > TEXT_ENCODER_THRESHOLD) {
    utf8EncodeTE(str2, output, outputOffset);
  } else {
    utf8EncodeJs(str2, output, outputOffset);
  }
}
var CHUNK_SIZE = 4096;
function utf8DecodeJs(bytes, inputOffset, byteLength) {
  let offset = inputOffset;
  const end = offset + byteLength;
  const units = [];
  let result = "";
  while (offset < end) {
    const byte1 = bytes[offset++];
    if ((byte1 & 128) === 0) {
      units.push(byte1);
    } else if ((byte1 & 224) === 192) {
      const byte2 = bytes[offset++] & 63;
      units.push((byte1 & 31) << 6 | byte2);
    } else if ((byte1 & 240) === 224) {
      const byte2 = bytes[offset++] & 63;
      const byte3 = bytes[offset++] & 63;
      units.push((byte1 & 31) << 12 | byte2 << 6 | byte3);
    } else if ((byte1 & 248) === 240) {
      const byte2 = bytes[offset++] & 63;
      const byte3 = bytes[offset++] & 63;
      const byte4 = bytes[offset++] & 63;
      let unit = (byte1 & 7) << 18 | byte2 << 12 | byte3 << 6 | byte4;
      if (unit > 65535) {
        unit -= 65536;
        units.push(unit >>> 10 & 1023 | 55296);
        unit = 56320 | unit & 1023;
      }
      units.push(unit);
    } else {
      units.push(byte1);
    }
    if (units.length >= CHUNK_SIZE) {
      result += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  if (units.length > 0) {
    result += String.fromCharCode(...units);
  }
  return result;
}
var sharedTextDecoder = new TextDecoder();
var TEXT_DECODER_THRESHOLD = 200;
function utf8DecodeTD(bytes, inputOffset, byteLength) {
  const stringBytes = bytes.subarray(inputOffset, inputOffset + byteLength);
  return sharedTextDecoder.decode(stringBytes);
}
function utf8Decode(bytes, inputOffset, byteLength) {
  if (byteLength > TEXT_DECODER_THRESHOLD) {
    return utf8DecodeTD(bytes, inputOffset, byteLength);
  } else {
    return utf8DecodeJs(bytes, inputOffset, byteLength);
  }
}

// node_modules/@msgpack/msgpack/dist.esm/ExtData.mjs
var ExtData = class {
  constructor(type, data) {
    __publicField(this, "type");
    __publicField(this, "data");
    this.type = type;
    this.data = data;
  }
};

// node_modules/@msgpack/msgpack/dist.esm/DecodeError.mjs
var DecodeError = class _DecodeError extends Error {
  constructor(message) {
    super(message);
    const proto = Object.create(_DecodeError.prototype);
    Object.setPrototypeOf(this, proto);
    Object.defineProperty(this, "name", {
      configurable: true,
      enumerable: false,
      value: _DecodeError.name
    });
  }
};

// node_modules/@msgpack/msgpack/dist.esm/utils/int.mjs
var UINT32_MAX = 4294967295;
function setUint64(view, offset, value) {
  const high = value / 4294967296;
  const low = value;
  view.setUint32(offset, high);
  view.setUint32(offset + 4, low);
}
function setInt64(view, offset, value) {
  const high = Math.floor(value / 4294967296);
  const low = value;
  view.setUint32(offset, high);
  view.setUint32(offset + 4, low);
}
function getInt64(view, offset) {
  const high = view.getInt32(offset);
  const low = view.getUint32(offset + 4);
  return high * 4294967296 + low;
}
function getUint64(view, offset) {
  const high = view.getUint32(offset);
  const low = view.getUint32(offset + 4);
  return high * 4294967296 + low;
}

// node_modules/@msgpack/msgpack/dist.esm/timestamp.mjs
var EXT_TIMESTAMP = -1;
var TIMESTAMP32_MAX_SEC = 4294967296 - 1;
var TIMESTAMP64_MAX_SEC = 17179869184 - 1;
function encodeTimeSpecToTimestamp({ sec, nsec }) {
  if (sec >= 0 && nsec >= 0 && sec <= TIMESTAMP64_MAX_SEC) {
    if (nsec === 0 && sec <= TIMESTAMP32_MAX_SEC) {
      const rv = new Uint8Array(4);
      const view = new DataView(rv.buffer);
      view.setUint32(0, sec);
      return rv;
    } else {
      const secHigh = sec / 4294967296;
      const secLow = sec & 4294967295;
      const rv = new Uint8Array(8);
      const view = new DataView(rv.buffer);
      view.setUint32(0, nsec << 2 | secHigh & 3);
      view.setUint32(4, secLow);
      return rv;
    }
  } else {
    const rv = new Uint8Array(12);
    const view = new DataView(rv.buffer);
    view.setUint32(0, nsec);
    setInt64(view, 4, sec);
    return rv;
  }
}
function encodeDateToTimeSpec(date) {
  const msec = date.getTime();
  const sec = Math.floor(msec / 1e3);
  const nsec = (msec - sec * 1e3) * 1e6;
  const nsecInSec = Math.floor(nsec / 1e9);
  return {
    sec: sec + nsecInSec,
    nsec: nsec - nsecInSec * 1e9
  };
}
function encodeTimestampExtension(object) {
  if (object instanceof Date) {
    const timeSpec = encodeDateToTimeSpec(object);
    return encodeTimeSpecToTimestamp(timeSpec);
  } else {
    return null;
  }
}
function decodeTimestampToTimeSpec(data) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (data.byteLength) {
    case 4: {
      const sec = view.getUint32(0);
      const nsec = 0;
      return { sec, nsec };
    }
    case 8: {
      const nsec30AndSecHigh2 = view.getUint32(0);
      const secLow32 = view.getUint32(4);
      const sec = (nsec30AndSecHigh2 & 3) * 4294967296 + secLow32;
      const nsec = nsec30AndSecHigh2 >>> 2;
      return { sec, nsec };
    }
    case 12: {
      const sec = getInt64(view, 4);
      const nsec = view.getUint32(0);
      return { sec, nsec };
    }
    default:
      throw new DecodeError(`Unrecognized data size for timestamp (expected 4, 8, or 12): ${data.length}`);
  }
}
function decodeTimestampExtension(data) {
  const timeSpec = decodeTimestampToTimeSpec(data);
  return new Date(timeSpec.sec * 1e3 + timeSpec.nsec / 1e6);
}
var timestampExtension = {
  type: EXT_TIMESTAMP,
  encode: encodeTimestampExtension,
  decode: decodeTimestampExtension
};

// node_modules/@msgpack/msgpack/dist.esm/ExtensionCodec.mjs
var _ExtensionCodec = class _ExtensionCodec {
  constructor() {
    // ensures ExtensionCodecType<X> matches ExtensionCodec<X>
    // this will make type errors a lot more clear
    // eslint-disable-next-line @typescript-eslint/naming-convention
    __publicField(this, "__brand");
    // built-in extensions
    __publicField(this, "builtInEncoders", []);
    __publicField(this, "builtInDecoders", []);
    // custom extensions
    __publicField(this, "encoders", []);
    __publicField(this, "decoders", []);
    this.register(timestampExtension);
  }
  register({ type, encode: encode2, decode: decode2 }) {
    if (type >= 0) {
      this.encoders[type] = encode2;
      this.decoders[type] = decode2;
    } else {
      const index = -1 - type;
      this.builtInEncoders[index] = encode2;
      this.builtInDecoders[index] = decode2;
    }
  }
  tryToEncode(object, context) {
    for (let i = 0; i < this.builtInEncoders.length; i++) {
      const encodeExt = this.builtInEncoders[i];
      if (encodeExt != null) {
        const data = encodeExt(object, context);
        if (data != null) {
          const type = -1 - i;
          return new ExtData(type, data);
        }
      }
    }
    for (let i = 0; i < this.encoders.length; i++) {
      const encodeExt = this.encoders[i];
      if (encodeExt != null) {
        const data = encodeExt(object, context);
        if (data != null) {
          const type = i;
          return new ExtData(type, data);
        }
      }
    }
    if (object instanceof ExtData) {
      return object;
    }
    return null;
  }
  decode(data, type, context) {
    const decodeExt = type < 0 ? this.builtInDecoders[-1 - type] : this.decoders[type];
    if (decodeExt) {
      return decodeExt(data, type, context);
    } else {
      return new ExtData(type, data);
    }
  }
};
__publicField(_ExtensionCodec, "defaultCodec", new _ExtensionCodec());
var ExtensionCodec = _ExtensionCodec;

// node_modules/@msgpack/msgpack/dist.esm/utils/typedArrays.mjs
function isArrayBufferLike(buffer) {
  return buffer instanceof ArrayBuffer || typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}
function ensureUint8Array(buffer) {
  if (buffer instanceof Uint8Array) {
    return buffer;
  } else if (ArrayBuffer.isView(buffer)) {
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } else if (isArrayBufferLike(buffer)) {
    return new Uint8Array(buffer);
  } else {
    return Uint8Array.from(buffer);
  }
}

// node_modules/@msgpack/msgpack/dist.esm/Encoder.mjs
var DEFAULT_MAX_DEPTH = 100;
var DEFAULT_INITIAL_BUFFER_SIZE = 2048;
var Encoder = class _Encoder {
  constructor(options) {
    __publicField(this, "extensionCodec");
    __publicField(this, "context");
    __publicField(this, "useBigInt64");
    __publicField(this, "maxDepth");
    __publicField(this, "initialBufferSize");
    __publicField(this, "sortKeys");
    __publicField(this, "forceFloat32");
    __publicField(this, "ignoreUndefined");
    __publicField(this, "forceIntegerToFloat");
    __publicField(this, "pos");
    __publicField(this, "view");
    __publicField(this, "bytes");
    __publicField(this, "entered", false);
    this.extensionCodec = options?.extensionCodec ?? ExtensionCodec.defaultCodec;
    this.context = options?.context;
    this.useBigInt64 = options?.useBigInt64 ?? false;
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.initialBufferSize = options?.initialBufferSize ?? DEFAULT_INITIAL_BUFFER_SIZE;
    this.sortKeys = options?.sortKeys ?? false;
    this.forceFloat32 = options?.forceFloat32 ?? false;
    this.ignoreUndefined = options?.ignoreUndefined ?? false;
    this.forceIntegerToFloat = options?.forceIntegerToFloat ?? false;
    this.pos = 0;
    this.view = new DataView(new ArrayBuffer(this.initialBufferSize));
    this.bytes = new Uint8Array(this.view.buffer);
  }
  clone() {
    return new _Encoder({
      extensionCodec: this.extensionCodec,
      context: this.context,
      useBigInt64: this.useBigInt64,
      maxDepth: this.maxDepth,
      initialBufferSize: this.initialBufferSize,
      sortKeys: this.sortKeys,
      forceFloat32: this.forceFloat32,
      ignoreUndefined: this.ignoreUndefined,
      forceIntegerToFloat: this.forceIntegerToFloat
    });
  }
  reinitializeState() {
    this.pos = 0;
  }
  /**
   * This is almost equivalent to {@link Encoder#encode}, but it returns an reference of the encoder's internal buffer and thus much faster than {@link Encoder#encode}.
   *
   * @returns Encodes the object and returns a shared reference the encoder's internal buffer.
   */
  encodeSharedRef(object) {
    if (this.entered) {
      const instance = this.clone();
      return instance.encodeSharedRef(object);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.doEncode(object, 1);
      return this.bytes.subarray(0, this.pos);
    } finally {
      this.entered = false;
    }
  }
  /**
   * @returns Encodes the object and returns a copy of the encoder's internal buffer.
   */
  encode(object) {
    if (this.entered) {
      const instance = this.clone();
      return instance.encode(object);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.doEncode(object, 1);
      return this.bytes.slice(0, this.pos);
    } finally {
      this.entered = false;
    }
  }
  doEncode(object, depth) {
    if (depth > this.maxDepth) {
      throw new Error(`Too deep objects in depth ${depth}`);
    }
    if (object == null) {
      this.encodeNil();
    } else if (typeof object === "boolean") {
      this.encodeBoolean(object);
    } else if (typeof object === "number") {
      if (!this.forceIntegerToFloat) {
        this.encodeNumber(object);
      } else {
        this.encodeNumberAsFloat(object);
      }
    } else if (typeof object === "string") {
      this.encodeString(object);
    } else if (this.useBigInt64 && typeof object === "bigint") {
      this.encodeBigInt64(object);
    } else {
      this.encodeObject(object, depth);
    }
  }
  ensureBufferSizeToWrite(sizeToWrite) {
    const requiredSize = this.pos + sizeToWrite;
    if (this.view.byteLength < requiredSize) {
      this.resizeBuffer(requiredSize * 2);
    }
  }
  resizeBuffer(newSize) {
    const newBuffer = new ArrayBuffer(newSize);
    const newBytes = new Uint8Array(newBuffer);
    const newView = new DataView(newBuffer);
    newBytes.set(this.bytes);
    this.view = newView;
    this.bytes = newBytes;
  }
  encodeNil() {
    this.writeU8(192);
  }
  encodeBoolean(object) {
    if (object === false) {
      this.writeU8(194);
    } else {
      this.writeU8(195);
    }
  }
  encodeNumber(object) {
    if (!this.forceIntegerToFloat && Number.isSafeInteger(object)) {
      if (object >= 0) {
        if (object < 128) {
          this.writeU8(object);
        } else if (object < 256) {
          this.writeU8(204);
          this.writeU8(object);
        } else if (object < 65536) {
          this.writeU8(205);
          this.writeU16(object);
        } else if (object < 4294967296) {
          this.writeU8(206);
          this.writeU32(object);
        } else if (!this.useBigInt64) {
          this.writeU8(207);
          this.writeU64(object);
        } else {
          this.encodeNumberAsFloat(object);
        }
      } else {
        if (object >= -32) {
          this.writeU8(224 | object + 32);
        } else if (object >= -128) {
          this.writeU8(208);
          this.writeI8(object);
        } else if (object >= -32768) {
          this.writeU8(209);
          this.writeI16(object);
        } else if (object >= -2147483648) {
          this.writeU8(210);
          this.writeI32(object);
        } else if (!this.useBigInt64) {
          this.writeU8(211);
          this.writeI64(object);
        } else {
          this.encodeNumberAsFloat(object);
        }
      }
    } else {
      this.encodeNumberAsFloat(object);
    }
  }
  encodeNumberAsFloat(object) {
    if (this.forceFloat32) {
      this.writeU8(202);
      this.writeF32(object);
    } else {
      this.writeU8(203);
      this.writeF64(object);
    }
  }
  encodeBigInt64(object) {
    if (object >= BigInt(0)) {
      this.writeU8(207);
      this.writeBigUint64(object);
    } else {
      this.writeU8(211);
      this.writeBigInt64(object);
    }
  }
  writeStringHeader(byteLength) {
    if (byteLength < 32) {
      this.writeU8(160 + byteLength);
    } else if (byteLength < 256) {
      this.writeU8(217);
      this.writeU8(byteLength);
    } else if (byteLength < 65536) {
      this.writeU8(218);
      this.writeU16(byteLength);
    } else if (byteLength < 4294967296) {
      this.writeU8(219);
      this.writeU32(byteLength);
    } else {
      throw new Error(`Too long string: ${byteLength} bytes in UTF-8`);
    }
  }
  encodeString(object) {
    const maxHeaderSize = 1 + 4;
    const byteLength = utf8Count(object);
    this.ensureBufferSizeToWrite(maxHeaderSize + byteLength);
    this.writeStringHeader(byteLength);
    utf8Encode(object, this.bytes, this.pos);
    this.pos += byteLength;
  }
  encodeObject(object, depth) {
    const ext = this.extensionCodec.tryToEncode(object, this.context);
    if (ext != null) {
      this.encodeExtension(ext);
    } else if (Array.isArray(object)) {
      this.encodeArray(object, depth);
    } else if (ArrayBuffer.isView(object)) {
      this.encodeBinary(object);
    } else if (typeof object === "object") {
      this.encodeMap(object, depth);
    } else {
      throw new Error(`Unrecognized object: ${Object.prototype.toString.apply(object)}`);
    }
  }
  encodeBinary(object) {
    const size = object.byteLength;
    if (size < 256) {
      this.writeU8(196);
      this.writeU8(size);
    } else if (size < 65536) {
      this.writeU8(197);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(198);
      this.writeU32(size);
    } else {
      throw new Error(`Too large binary: ${size}`);
    }
    const bytes = ensureUint8Array(object);
    this.writeU8a(bytes);
  }
  encodeArray(object, depth) {
    const size = object.length;
    if (size < 16) {
      this.writeU8(144 + size);
    } else if (size < 65536) {
      this.writeU8(220);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(221);
      this.writeU32(size);
    } else {
      throw new Error(`Too large array: ${size}`);
    }
    for (const item of object) {
      this.doEncode(item, depth + 1);
    }
  }
  countWithoutUndefined(object, keys) {
    let count = 0;
    for (const key of keys) {
      if (object[key] !== void 0) {
        count++;
      }
    }
    return count;
  }
  encodeMap(object, depth) {
    const keys = Object.keys(object);
    if (this.sortKeys) {
      keys.sort();
    }
    const size = this.ignoreUndefined ? this.countWithoutUndefined(object, keys) : keys.length;
    if (size < 16) {
      this.writeU8(128 + size);
    } else if (size < 65536) {
      this.writeU8(222);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(223);
      this.writeU32(size);
    } else {
      throw new Error(`Too large map object: ${size}`);
    }
    for (const key of keys) {
      const value = object[key];
      if (!(this.ignoreUndefined && value === void 0)) {
        this.encodeString(key);
        this.doEncode(value, depth + 1);
      }
    }
  }
  encodeExtension(ext) {
    if (typeof ext.data === "function") {
      const data = ext.data(this.pos + 6);
      const size2 = data.length;
      if (size2 >= 4294967296) {
        throw new Error(`Too large extension object: ${size2}`);
      }
      this.writeU8(201);
      this.writeU32(size2);
      this.writeI8(ext.type);
      this.writeU8a(data);
      return;
    }
    const size = ext.data.length;
    if (size === 1) {
      this.writeU8(212);
    } else if (size === 2) {
      this.writeU8(213);
    } else if (size === 4) {
      this.writeU8(214);
    } else if (size === 8) {
      this.writeU8(215);
    } else if (size === 16) {
      this.writeU8(216);
    } else if (size < 256) {
      this.writeU8(199);
      this.writeU8(size);
    } else if (size < 65536) {
      this.writeU8(200);
      this.writeU16(size);
    } else if (size < 4294967296) {
      this.writeU8(201);
      this.writeU32(size);
    } else {
      throw new Error(`Too large extension object: ${size}`);
    }
    this.writeI8(ext.type);
    this.writeU8a(ext.data);
  }
  writeU8(value) {
    this.ensureBufferSizeToWrite(1);
    this.view.setUint8(this.pos, value);
    this.pos++;
  }
  writeU8a(values) {
    const size = values.length;
    this.ensureBufferSizeToWrite(size);
    this.bytes.set(values, this.pos);
    this.pos += size;
  }
  writeI8(value) {
    this.ensureBufferSizeToWrite(1);
    this.view.setInt8(this.pos, value);
    this.pos++;
  }
  writeU16(value) {
    this.ensureBufferSizeToWrite(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }
  writeI16(value) {
    this.ensureBufferSizeToWrite(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }
  writeU32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }
  writeI32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }
  writeF32(value) {
    this.ensureBufferSizeToWrite(4);
    this.view.setFloat32(this.pos, value);
    this.pos += 4;
  }
  writeF64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }
  writeU64(value) {
    this.ensureBufferSizeToWrite(8);
    setUint64(this.view, this.pos, value);
    this.pos += 8;
  }
  writeI64(value) {
    this.ensureBufferSizeToWrite(8);
    setInt64(this.view, this.pos, value);
    this.pos += 8;
  }
  writeBigUint64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setBigUint64(this.pos, value);
    this.pos += 8;
  }
  writeBigInt64(value) {
    this.ensureBufferSizeToWrite(8);
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
  }
};

// node_modules/@msgpack/msgpack/dist.esm/encode.mjs
function encode(value, options) {
  const encoder = new Encoder(options);
  return encoder.encodeSharedRef(value);
}

// node_modules/@msgpack/msgpack/dist.esm/utils/prettyByte.mjs
function prettyByte(byte) {
  return `${byte < 0 ? "-" : ""}0x${Math.abs(byte).toString(16).padStart(2, "0")}`;
}

// node_modules/@msgpack/msgpack/dist.esm/CachedKeyDecoder.mjs
var DEFAULT_MAX_KEY_LENGTH = 16;
var DEFAULT_MAX_LENGTH_PER_KEY = 16;
var CachedKeyDecoder = class {
  constructor(maxKeyLength = DEFAULT_MAX_KEY_LENGTH, maxLengthPerKey = DEFAULT_MAX_LENGTH_PER_KEY) {
    __publicField(this, "hit", 0);
    __publicField(this, "miss", 0);
    __publicField(this, "caches");
    __publicField(this, "maxKeyLength");
    __publicField(this, "maxLengthPerKey");
    this.maxKeyLength = maxKeyLength;
    this.maxLengthPerKey = maxLengthPerKey;
    this.caches = [];
    for (let i = 0; i < this.maxKeyLength; i++) {
      this.caches.push([]);
    }
  }
  canBeCached(byteLength) {
    return byteLength > 0 && byteLength <= this.maxKeyLength;
  }
  find(bytes, inputOffset, byteLength) {
    const records = this.caches[byteLength - 1];
    FIND_CHUNK: for (const record of records) {
      const recordBytes = record.bytes;
      for (let j = 0; j < byteLength; j++) {
        if (recordBytes[j] !== bytes[inputOffset + j]) {
          continue FIND_CHUNK;
        }
      }
      return record.str;
    }
    return null;
  }
  store(bytes, value) {
    const records = this.caches[bytes.length - 1];
    const record = { bytes, str: value };
    if (records.length >= this.maxLengthPerKey) {
      records[Math.random() * records.length | 0] = record;
    } else {
      records.push(record);
    }
  }
  decode(bytes, inputOffset, byteLength) {
    const cachedValue = this.find(bytes, inputOffset, byteLength);
    if (cachedValue != null) {
      this.hit++;
      return cachedValue;
    }
    this.miss++;
    const str2 = utf8DecodeJs(bytes, inputOffset, byteLength);
    const slicedCopyOfBytes = Uint8Array.prototype.slice.call(bytes, inputOffset, inputOffset + byteLength);
    this.store(slicedCopyOfBytes, str2);
    return str2;
  }
};

// node_modules/@msgpack/msgpack/dist.esm/Decoder.mjs
var STATE_ARRAY = "array";
var STATE_MAP_KEY = "map_key";
var STATE_MAP_VALUE = "map_value";
var mapKeyConverter = (key) => {
  if (typeof key === "string" || typeof key === "number") {
    return key;
  }
  throw new DecodeError("The type of key must be string or number but " + typeof key);
};
var StackPool = class {
  constructor() {
    __publicField(this, "stack", []);
    __publicField(this, "stackHeadPosition", -1);
  }
  get length() {
    return this.stackHeadPosition + 1;
  }
  top() {
    return this.stack[this.stackHeadPosition];
  }
  pushArrayState(size) {
    const state = this.getUninitializedStateFromPool();
    state.type = STATE_ARRAY;
    state.position = 0;
    state.size = size;
    state.array = new Array(size);
  }
  pushMapState(size) {
    const state = this.getUninitializedStateFromPool();
    state.type = STATE_MAP_KEY;
    state.readCount = 0;
    state.size = size;
    state.map = {};
  }
  getUninitializedStateFromPool() {
    this.stackHeadPosition++;
    if (this.stackHeadPosition === this.stack.length) {
      const partialState = {
        type: void 0,
        size: 0,
        array: void 0,
        position: 0,
        readCount: 0,
        map: void 0,
        key: null
      };
      this.stack.push(partialState);
    }
    return this.stack[this.stackHeadPosition];
  }
  release(state) {
    const topStackState = this.stack[this.stackHeadPosition];
    if (topStackState !== state) {
      throw new Error("Invalid stack state. Released state is not on top of the stack.");
    }
    if (state.type === STATE_ARRAY) {
      const partialState = state;
      partialState.size = 0;
      partialState.array = void 0;
      partialState.position = 0;
      partialState.type = void 0;
    }
    if (state.type === STATE_MAP_KEY || state.type === STATE_MAP_VALUE) {
      const partialState = state;
      partialState.size = 0;
      partialState.map = void 0;
      partialState.readCount = 0;
      partialState.type = void 0;
    }
    this.stackHeadPosition--;
  }
  reset() {
    this.stack.length = 0;
    this.stackHeadPosition = -1;
  }
};
var HEAD_BYTE_REQUIRED = -1;
var EMPTY_VIEW = new DataView(new ArrayBuffer(0));
var EMPTY_BYTES = new Uint8Array(EMPTY_VIEW.buffer);
try {
  EMPTY_VIEW.getInt8(0);
} catch (e) {
  if (!(e instanceof RangeError)) {
    throw new Error("This module is not supported in the current JavaScript engine because DataView does not throw RangeError on out-of-bounds access");
  }
}
var MORE_DATA = new RangeError("Insufficient data");
var sharedCachedKeyDecoder = new CachedKeyDecoder();
var Decoder = class _Decoder {
  constructor(options) {
    __publicField(this, "extensionCodec");
    __publicField(this, "context");
    __publicField(this, "useBigInt64");
    __publicField(this, "rawStrings");
    __publicField(this, "maxStrLength");
    __publicField(this, "maxBinLength");
    __publicField(this, "maxArrayLength");
    __publicField(this, "maxMapLength");
    __publicField(this, "maxExtLength");
    __publicField(this, "keyDecoder");
    __publicField(this, "mapKeyConverter");
    __publicField(this, "totalPos", 0);
    __publicField(this, "pos", 0);
    __publicField(this, "view", EMPTY_VIEW);
    __publicField(this, "bytes", EMPTY_BYTES);
    __publicField(this, "headByte", HEAD_BYTE_REQUIRED);
    __publicField(this, "stack", new StackPool());
    __publicField(this, "entered", false);
    this.extensionCodec = options?.extensionCodec ?? ExtensionCodec.defaultCodec;
    this.context = options?.context;
    this.useBigInt64 = options?.useBigInt64 ?? false;
    this.rawStrings = options?.rawStrings ?? false;
    this.maxStrLength = options?.maxStrLength ?? UINT32_MAX;
    this.maxBinLength = options?.maxBinLength ?? UINT32_MAX;
    this.maxArrayLength = options?.maxArrayLength ?? UINT32_MAX;
    this.maxMapLength = options?.maxMapLength ?? UINT32_MAX;
    this.maxExtLength = options?.maxExtLength ?? UINT32_MAX;
    this.keyDecoder = options?.keyDecoder !== void 0 ? options.keyDecoder : sharedCachedKeyDecoder;
    this.mapKeyConverter = options?.mapKeyConverter ?? mapKeyConverter;
  }
  clone() {
    return new _Decoder({
      extensionCodec: this.extensionCodec,
      context: this.context,
      useBigInt64: this.useBigInt64,
      rawStrings: this.rawStrings,
      maxStrLength: this.maxStrLength,
      maxBinLength: this.maxBinLength,
      maxArrayLength: this.maxArrayLength,
      maxMapLength: this.maxMapLength,
      maxExtLength: this.maxExtLength,
      keyDecoder: this.keyDecoder
    });
  }
  reinitializeState() {
    this.totalPos = 0;
    this.headByte = HEAD_BYTE_REQUIRED;
    this.stack.reset();
  }
  setBuffer(buffer) {
    const bytes = ensureUint8Array(buffer);
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }
  appendBuffer(buffer) {
    if (this.headByte === HEAD_BYTE_REQUIRED && !this.hasRemaining(1)) {
      this.setBuffer(buffer);
    } else {
      const remainingData = this.bytes.subarray(this.pos);
      const newData = ensureUint8Array(buffer);
      const newBuffer = new Uint8Array(remainingData.length + newData.length);
      newBuffer.set(remainingData);
      newBuffer.set(newData, remainingData.length);
      this.setBuffer(newBuffer);
    }
  }
  hasRemaining(size) {
    return this.view.byteLength - this.pos >= size;
  }
  createExtraByteError(posToShow) {
    const { view, pos } = this;
    return new RangeError(`Extra ${view.byteLength - pos} of ${view.byteLength} byte(s) found at buffer[${posToShow}]`);
  }
  /**
   * @throws {@link DecodeError}
   * @throws {@link RangeError}
   */
  decode(buffer) {
    if (this.entered) {
      const instance = this.clone();
      return instance.decode(buffer);
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.setBuffer(buffer);
      const object = this.doDecodeSync();
      if (this.hasRemaining(1)) {
        throw this.createExtraByteError(this.pos);
      }
      return object;
    } finally {
      this.entered = false;
    }
  }
  *decodeMulti(buffer) {
    if (this.entered) {
      const instance = this.clone();
      yield* instance.decodeMulti(buffer);
      return;
    }
    try {
      this.entered = true;
      this.reinitializeState();
      this.setBuffer(buffer);
      while (this.hasRemaining(1)) {
        yield this.doDecodeSync();
      }
    } finally {
      this.entered = false;
    }
  }
  async decodeAsync(stream) {
    if (this.entered) {
      const instance = this.clone();
      return instance.decodeAsync(stream);
    }
    try {
      this.entered = true;
      let decoded = false;
      let object;
      for await (const buffer of stream) {
        if (decoded) {
          this.entered = false;
          throw this.createExtraByteError(this.totalPos);
        }
        this.appendBuffer(buffer);
        try {
          object = this.doDecodeSync();
          decoded = true;
        } catch (e) {
          if (!(e instanceof RangeError)) {
            throw e;
          }
        }
        this.totalPos += this.pos;
      }
      if (decoded) {
        if (this.hasRemaining(1)) {
          throw this.createExtraByteError(this.totalPos);
        }
        return object;
      }
      const { headByte, pos, totalPos } = this;
      throw new RangeError(`Insufficient data in parsing ${prettyByte(headByte)} at ${totalPos} (${pos} in the current buffer)`);
    } finally {
      this.entered = false;
    }
  }
  decodeArrayStream(stream) {
    return this.decodeMultiAsync(stream, true);
  }
  decodeStream(stream) {
    return this.decodeMultiAsync(stream, false);
  }
  async *decodeMultiAsync(stream, isArray) {
    if (this.entered) {
      const instance = this.clone();
      yield* instance.decodeMultiAsync(stream, isArray);
      return;
    }
    try {
      this.entered = true;
      let isArrayHeaderRequired = isArray;
      let arrayItemsLeft = -1;
      for await (const buffer of stream) {
        if (isArray && arrayItemsLeft === 0) {
          throw this.createExtraByteError(this.totalPos);
        }
        this.appendBuffer(buffer);
        if (isArrayHeaderRequired) {
          arrayItemsLeft = this.readArraySize();
          isArrayHeaderRequired = false;
          this.complete();
        }
        try {
          while (true) {
            yield this.doDecodeSync();
            if (--arrayItemsLeft === 0) {
              break;
            }
          }
        } catch (e) {
          if (!(e instanceof RangeError)) {
            throw e;
          }
        }
        this.totalPos += this.pos;
      }
    } finally {
      this.entered = false;
    }
  }
  doDecodeSync() {
    DECODE: while (true) {
      const headByte = this.readHeadByte();
      let object;
      if (headByte >= 224) {
        object = headByte - 256;
      } else if (headByte < 192) {
        if (headByte < 128) {
          object = headByte;
        } else if (headByte < 144) {
          const size = headByte - 128;
          if (size !== 0) {
            this.pushMapState(size);
            this.complete();
            continue DECODE;
          } else {
            object = {};
          }
        } else if (headByte < 160) {
          const size = headByte - 144;
          if (size !== 0) {
            this.pushArrayState(size);
            this.complete();
            continue DECODE;
          } else {
            object = [];
          }
        } else {
          const byteLength = headByte - 160;
          object = this.decodeString(byteLength, 0);
        }
      } else if (headByte === 192) {
        object = null;
      } else if (headByte === 194) {
        object = false;
      } else if (headByte === 195) {
        object = true;
      } else if (headByte === 202) {
        object = this.readF32();
      } else if (headByte === 203) {
        object = this.readF64();
      } else if (headByte === 204) {
        object = this.readU8();
      } else if (headByte === 205) {
        object = this.readU16();
      } else if (headByte === 206) {
        object = this.readU32();
      } else if (headByte === 207) {
        if (this.useBigInt64) {
          object = this.readU64AsBigInt();
        } else {
          object = this.readU64();
        }
      } else if (headByte === 208) {
        object = this.readI8();
      } else if (headByte === 209) {
        object = this.readI16();
      } else if (headByte === 210) {
        object = this.readI32();
      } else if (headByte === 211) {
        if (this.useBigInt64) {
          object = this.readI64AsBigInt();
        } else {
          object = this.readI64();
        }
      } else if (headByte === 217) {
        const byteLength = this.lookU8();
        object = this.decodeString(byteLength, 1);
      } else if (headByte === 218) {
        const byteLength = this.lookU16();
        object = this.decodeString(byteLength, 2);
      } else if (headByte === 219) {
        const byteLength = this.lookU32();
        object = this.decodeString(byteLength, 4);
      } else if (headByte === 220) {
        const size = this.readU16();
        if (size !== 0) {
          this.pushArrayState(size);
          this.complete();
          continue DECODE;
        } else {
          object = [];
        }
      } else if (headByte === 221) {
        const size = this.readU32();
        if (size !== 0) {
          this.pushArrayState(size);
          this.complete();
          continue DECODE;
        } else {
          object = [];
        }
      } else if (headByte === 222) {
        const size = this.readU16();
        if (size !== 0) {
          this.pushMapState(size);
          this.complete();
          continue DECODE;
        } else {
          object = {};
        }
      } else if (headByte === 223) {
        const size = this.readU32();
        if (size !== 0) {
          this.pushMapState(size);
          this.complete();
          continue DECODE;
        } else {
          object = {};
        }
      } else if (headByte === 196) {
        const size = this.lookU8();
        object = this.decodeBinary(size, 1);
      } else if (headByte === 197) {
        const size = this.lookU16();
        object = this.decodeBinary(size, 2);
      } else if (headByte === 198) {
        const size = this.lookU32();
        object = this.decodeBinary(size, 4);
      } else if (headByte === 212) {
        object = this.decodeExtension(1, 0);
      } else if (headByte === 213) {
        object = this.decodeExtension(2, 0);
      } else if (headByte === 214) {
        object = this.decodeExtension(4, 0);
      } else if (headByte === 215) {
        object = this.decodeExtension(8, 0);
      } else if (headByte === 216) {
        object = this.decodeExtension(16, 0);
      } else if (headByte === 199) {
        const size = this.lookU8();
        object = this.decodeExtension(size, 1);
      } else if (headByte === 200) {
        const size = this.lookU16();
        object = this.decodeExtension(size, 2);
      } else if (headByte === 201) {
        const size = this.lookU32();
        object = this.decodeExtension(size, 4);
      } else {
        throw new DecodeError(`Unrecognized type byte: ${prettyByte(headByte)}`);
      }
      this.complete();
      const stack = this.stack;
      while (stack.length > 0) {
        const state = stack.top();
        if (state.type === STATE_ARRAY) {
          state.array[state.position] = object;
          state.position++;
          if (state.position === state.size) {
            object = state.array;
            stack.release(state);
          } else {
            continue DECODE;
          }
        } else if (state.type === STATE_MAP_KEY) {
          if (object === "__proto__") {
            throw new DecodeError("The key __proto__ is not allowed");
          }
          state.key = this.mapKeyConverter(object);
          state.type = STATE_MAP_VALUE;
          continue DECODE;
        } else {
          state.map[state.key] = object;
          state.readCount++;
          if (state.readCount === state.size) {
            object = state.map;
            stack.release(state);
          } else {
            state.key = null;
            state.type = STATE_MAP_KEY;
            continue DECODE;
          }
        }
      }
      return object;
    }
  }
  readHeadByte() {
    if (this.headByte === HEAD_BYTE_REQUIRED) {
      this.headByte = this.readU8();
    }
    return this.headByte;
  }
  complete() {
    this.headByte = HEAD_BYTE_REQUIRED;
  }
  readArraySize() {
    const headByte = this.readHeadByte();
    switch (headByte) {
      case 220:
        return this.readU16();
      case 221:
        return this.readU32();
      default: {
        if (headByte < 160) {
          return headByte - 144;
        } else {
          throw new DecodeError(`Unrecognized array type byte: ${prettyByte(headByte)}`);
        }
      }
    }
  }
  pushMapState(size) {
    if (size > this.maxMapLength) {
      throw new DecodeError(`Max length exceeded: map length (${size}) > maxMapLengthLength (${this.maxMapLength})`);
    }
    this.stack.pushMapState(size);
  }
  pushArrayState(size) {
    if (size > this.maxArrayLength) {
      throw new DecodeError(`Max length exceeded: array length (${size}) > maxArrayLength (${this.maxArrayLength})`);
    }
    this.stack.pushArrayState(size);
  }
  decodeString(byteLength, headerOffset) {
    if (!this.rawStrings || this.stateIsMapKey()) {
      return this.decodeUtf8String(byteLength, headerOffset);
    }
    return this.decodeBinary(byteLength, headerOffset);
  }
  /**
   * @throws {@link RangeError}
   */
  decodeUtf8String(byteLength, headerOffset) {
    if (byteLength > this.maxStrLength) {
      throw new DecodeError(`Max length exceeded: UTF-8 byte length (${byteLength}) > maxStrLength (${this.maxStrLength})`);
    }
    if (this.bytes.byteLength < this.pos + headerOffset + byteLength) {
      throw MORE_DATA;
    }
    const offset = this.pos + headerOffset;
    let object;
    if (this.stateIsMapKey() && this.keyDecoder?.canBeCached(byteLength)) {
      object = this.keyDecoder.decode(this.bytes, offset, byteLength);
    } else {
      object = utf8Decode(this.bytes, offset, byteLength);
    }
    this.pos += headerOffset + byteLength;
    return object;
  }
  stateIsMapKey() {
    if (this.stack.length > 0) {
      const state = this.stack.top();
      return state.type === STATE_MAP_KEY;
    }
    return false;
  }
  /**
   * @throws {@link RangeError}
   */
  decodeBinary(byteLength, headOffset) {
    if (byteLength > this.maxBinLength) {
      throw new DecodeError(`Max length exceeded: bin length (${byteLength}) > maxBinLength (${this.maxBinLength})`);
    }
    if (!this.hasRemaining(byteLength + headOffset)) {
      throw MORE_DATA;
    }
    const offset = this.pos + headOffset;
    const object = this.bytes.subarray(offset, offset + byteLength);
    this.pos += headOffset + byteLength;
    return object;
  }
  decodeExtension(size, headOffset) {
    if (size > this.maxExtLength) {
      throw new DecodeError(`Max length exceeded: ext length (${size}) > maxExtLength (${this.maxExtLength})`);
    }
    const extType = this.view.getInt8(this.pos + headOffset);
    const data = this.decodeBinary(
      size,
      headOffset + 1
      /* extType */
    );
    return this.extensionCodec.decode(data, extType, this.context);
  }
  lookU8() {
    return this.view.getUint8(this.pos);
  }
  lookU16() {
    return this.view.getUint16(this.pos);
  }
  lookU32() {
    return this.view.getUint32(this.pos);
  }
  readU8() {
    const value = this.view.getUint8(this.pos);
    this.pos++;
    return value;
  }
  readI8() {
    const value = this.view.getInt8(this.pos);
    this.pos++;
    return value;
  }
  readU16() {
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }
  readI16() {
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }
  readU32() {
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }
  readI32() {
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }
  readU64() {
    const value = getUint64(this.view, this.pos);
    this.pos += 8;
    return value;
  }
  readI64() {
    const value = getInt64(this.view, this.pos);
    this.pos += 8;
    return value;
  }
  readU64AsBigInt() {
    const value = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return value;
  }
  readI64AsBigInt() {
    const value = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return value;
  }
  readF32() {
    const value = this.view.getFloat32(this.pos);
    this.pos += 4;
    return value;
  }
  readF64() {
    const value = this.view.getFloat64(this.pos);
    this.pos += 8;
    return value;
  }
};

// node_modules/@msgpack/msgpack/dist.esm/decode.mjs
function decode(buffer, options) {
  const decoder = new Decoder(options);
  return decoder.decode(buffer);
}

// dist/wire.js
var WireError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "WireError";
  }
};
var OPTIONS = { useBigInt64: true };
var TWO_POW_32 = 2n ** 32n;
var U64_MAX = 2n ** 64n - 1n;
function pack(value) {
  return encode(value, OPTIONS);
}
function unpack(bytes) {
  try {
    return decode(bytes, OPTIONS);
  } catch (error) {
    throw new WireError(`not MessagePack: ${error.message}`);
  }
}
function u64Out(value) {
  const big = BigInt(value);
  if (big < 0n || big > U64_MAX)
    throw new WireError(`u64 out of range: ${big}`);
  return big < TWO_POW_32 ? Number(big) : big;
}
function u16Out(value) {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new WireError(`u16 out of range: ${value}`);
  }
  return value;
}
function isMap(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
function struct(value, what) {
  if (!isMap(value))
    throw new WireError(`${what}: expected a map`);
  return value;
}
function positional(value, names, what) {
  if (!Array.isArray(value))
    return struct(value, what);
  if (value.length !== names.length) {
    throw new WireError(`${what}: expected ${names.length} fields, got ${value.length}`);
  }
  return Object.fromEntries(names.map((name, i) => [name, value[i]]));
}
function field(map, name, what) {
  if (!(name in map))
    throw new WireError(`${what}: missing field ${name}`);
  return map[name];
}
function int(value, what, max) {
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
    throw new WireError(`${what}: expected an integer from 0 to ${max}`);
  }
  return n;
}
function uint(map, name, what, bits) {
  return int(field(map, name, what), `${what}.${name}`, 2 ** bits - 1);
}
function u64(map, name, what) {
  return u64Value(field(map, name, what), `${what}.${name}`);
}
function u64Value(value, what) {
  if (typeof value === "bigint") {
    if (value < 0n || value > U64_MAX)
      throw new WireError(`${what}: out of range`);
    return value;
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  throw new WireError(`${what}: expected an unsigned integer`);
}
function i8(map, name, what) {
  const value = field(map, name, what);
  if (typeof value !== "number" || !Number.isInteger(value) || value < -128 || value > 127) {
    throw new WireError(`${what}.${name}: expected an i8`);
  }
  return value;
}
function str(map, name, what) {
  const value = field(map, name, what);
  if (typeof value !== "string")
    throw new WireError(`${what}.${name}: expected a string`);
  return value;
}
function bool(map, name, what) {
  const value = field(map, name, what);
  if (typeof value !== "boolean")
    throw new WireError(`${what}.${name}: expected a bool`);
  return value;
}
function bin(map, name, what) {
  const value = field(map, name, what);
  if (!(value instanceof Uint8Array))
    throw new WireError(`${what}.${name}: expected bin`);
  return value;
}
function optional(map, name, read) {
  return map[name] === null || map[name] === void 0 ? null : read(map);
}
function list(map, name, what) {
  const value = field(map, name, what);
  if (!Array.isArray(value))
    throw new WireError(`${what}.${name}: expected an array`);
  return value;
}
function variant(value, what) {
  if (typeof value === "string")
    return [value, null];
  if (isMap(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1)
      return [keys[0], value[keys[0]]];
  }
  throw new WireError(`${what}: expected a variant name or a one-entry map`);
}
function oneOf(value, names, what) {
  const [name] = variant(value, what);
  if (!names.includes(name)) {
    throw new WireError(`${what}: unknown variant ${name}`);
  }
  return name;
}
function clientValue(msg) {
  switch (msg.type) {
    case "Hello":
      return {
        Hello: {
          version: msg.version,
          resume_token: msg.resume_token,
          last_event_seq: u64Out(msg.last_event_seq),
          auth_token: msg.auth_token ?? null,
          ticket: msg.ticket ?? null
        }
      };
    case "Ping":
      return { Ping: { nonce: u64Out(msg.nonce) } };
    case "FindMatch":
      return { FindMatch: { game: msg.game, options: msg.options ?? new Uint8Array() } };
    case "CancelMatch":
    case "LeaveRoom":
    case "ListRooms":
      return msg.type;
    case "CreateRoom":
      return {
        CreateRoom: {
          game: msg.game,
          settings: {
            allow_spectators: msg.settings.allow_spectators,
            relay: msg.settings.relay,
            ranked: msg.settings.ranked,
            options: msg.settings.options
          }
        }
      };
    case "JoinRoom":
      return { JoinRoom: { code: msg.code, spectate: msg.spectate } };
    case "Input":
      return { Input: { seq: msg.seq, ack_tick: u64Out(msg.ack_tick), data: msg.data } };
    case "Chat":
      return { Chat: { text: msg.text } };
    case "Ack":
      return { Ack: { tick: u64Out(msg.tick) } };
    case "ListRoomsAfter":
      return { ListRoomsAfter: { after: u64Out(msg.after), limit: u16Out(msg.limit) } };
    case "Leaderboard":
      return { Leaderboard: { game: msg.game, limit: u16Out(msg.limit) } };
  }
}
function encodeClientMsg(msg) {
  return pack(clientValue(msg));
}
function roomJoined(body, what) {
  const m = struct(body, what);
  return {
    room_id: u64(m, "room_id", what),
    code: str(m, "code", what),
    game: str(m, "game", what),
    seat: optional(m, "seat", (m2) => uint(m2, "seat", what, 8)),
    seats: uint(m, "seats", what, 8),
    // Appended: older servers leave it out.
    bots: m.bots === void 0 ? [] : list(m, "bots", what).map((seat) => int(seat, `${what}.bots`, 255))
  };
}
var ROOM_STATUSES = ["Waiting", "Running", "Finished"];
var END_REASONS = [
  "Win",
  "Draw",
  "TurnTimeout",
  "Abandoned",
  "ServerShutdown",
  "Closed"
];
function roomSummary(value) {
  const what = "RoomSummary";
  const m = struct(value, what);
  return {
    room_id: u64(m, "room_id", what),
    game: str(m, "game", what),
    status: oneOf(field(m, "status", what), ROOM_STATUSES, `${what}.status`),
    players: uint(m, "players", what, 8),
    seats: uint(m, "seats", what, 8),
    spectators: uint(m, "spectators", what, 32),
    public: bool(m, "public", what),
    code: optional(m, "code", (m2) => str(m2, "code", what))
  };
}
function leaderboardRow(value) {
  const what = "LeaderboardRow";
  const m = struct(value, what);
  return {
    rank: uint(m, "rank", what, 32),
    player: str(m, "player", what),
    name: str(m, "name", what),
    rating: uint(m, "rating", what, 16),
    games: uint(m, "games", what, 32),
    wins: uint(m, "wins", what, 32)
  };
}
function frameInput(value) {
  const what = "FrameInput";
  const m = struct(value, what);
  return {
    seat: uint(m, "seat", what, 8),
    seq: uint(m, "seq", what, 32),
    data: bin(m, "data", what)
  };
}
function roomEvent(value) {
  const [name, body] = variant(value, "RoomEvent");
  const what = `RoomEvent.${name}`;
  const m = () => struct(body, what);
  switch (name) {
    case "PlayerJoined":
    case "PlayerLeft":
    case "PlayerReconnected":
      return { type: name, seat: uint(m(), "seat", what, 8) };
    case "PlayerDisconnected": {
      const b = m();
      return {
        type: name,
        seat: uint(b, "seat", what, 8),
        deadline_tick: u64(b, "deadline_tick", what),
        grace_ms: uint(b, "grace_ms", what, 32)
      };
    }
    case "GameStarted":
      return { type: name };
    case "GameOver": {
      const b = m();
      return {
        type: name,
        winner: optional(b, "winner", (b2) => uint(b2, "winner", what, 8)),
        reason: oneOf(field(b, "reason", what), END_REASONS, `${what}.reason`)
      };
    }
    case "Chat": {
      const b = m();
      return {
        type: name,
        from_session: u64(b, "from_session", what),
        seat: optional(b, "seat", (b2) => uint(b2, "seat", what, 8)),
        text: str(b, "text", what)
      };
    }
    case "Occupancy": {
      const b = m();
      return {
        type: name,
        players: uint(b, "players", what, 8),
        spectators: uint(b, "spectators", what, 32)
      };
    }
    default:
      return null;
  }
}
function decodeInputFrame(bytes) {
  const what = "InputFrame";
  const m = struct(unpack(bytes), what);
  return {
    frame: u64(m, "frame", what),
    inputs: list(m, "inputs", what).map(frameInput)
  };
}
function snapshot(body) {
  const what = "Snapshot";
  const b = positional(body, ["tick", "input_seq", "state"], what);
  return {
    type: what,
    tick: u64(b, "tick", what),
    input_seq: uint(b, "input_seq", what, 32),
    state: bin(b, "state", what)
  };
}
function delta(body) {
  const what = "Delta";
  const b = positional(body, ["tick", "base_tick", "input_seq", "delta"], what);
  return {
    type: what,
    tick: u64(b, "tick", what),
    base_tick: u64(b, "base_tick", what),
    input_seq: uint(b, "input_seq", what, 32),
    delta: bin(b, "delta", what)
  };
}
function shortState(value) {
  const [first, ...fields] = value;
  const index = typeof first === "bigint" ? Number(first) : first;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
    throw new WireError("ServerMsg: an array not led by a variant index");
  }
  switch (index) {
    case 6:
      return snapshot(fields);
    case 11:
      return delta(fields);
    default:
      return null;
  }
}
function decodeServerMsg(bytes) {
  const value = unpack(bytes);
  if (Array.isArray(value))
    return shortState(value);
  const [name, body] = variant(value, "ServerMsg");
  const what = name;
  const m = () => struct(body, what);
  switch (name) {
    case "Welcome": {
      const b = m();
      return {
        type: name,
        version: uint(b, "version", what, 16),
        session_id: u64(b, "session_id", what),
        resume_token: str(b, "resume_token", what),
        resumed: bool(b, "resumed", what),
        tick_hz: uint(b, "tick_hz", what, 16)
      };
    }
    case "Pong":
      return { type: name, nonce: u64(m(), "nonce", what) };
    case "Queued": {
      const b = m();
      return {
        type: name,
        game: str(b, "game", what),
        position: uint(b, "position", what, 32),
        queue_size: uint(b, "queue_size", what, 32)
      };
    }
    case "MatchFound":
    case "RoomJoined":
      return { type: name, ...roomJoined(body, what) };
    case "RoomLeft":
      return { type: name, room_id: u64(m(), "room_id", what) };
    case "Snapshot":
      return snapshot(body);
    case "Event": {
      const b = m();
      const event = roomEvent(field(b, "event", what));
      if (event == null)
        return null;
      return { type: name, seq: u64(b, "seq", what), tick: u64(b, "tick", what), event };
    }
    case "Error": {
      const b = m();
      return {
        type: name,
        code: uint(b, "code", what, 16),
        message: str(b, "message", what),
        input_seq: optional(b, "input_seq", (b2) => uint(b2, "input_seq", what, 32))
      };
    }
    case "RoomList":
      return { type: name, rooms: list(m(), "rooms", what).map(roomSummary) };
    case "MatchCancelled":
      return { type: name, game: str(m(), "game", what) };
    case "Delta":
      return delta(body);
    case "ServerShutdown": {
      const b = m();
      return {
        type: name,
        retry_after_ms: uint(b, "retry_after_ms", what, 32),
        drain_ms: uint(b, "drain_ms", what, 32)
      };
    }
    case "RatingChanged": {
      const b = m();
      return {
        type: name,
        match_id: u64(b, "match_id", what),
        game: str(b, "game", what),
        previous: uint(b, "previous", what, 16),
        rating: uint(b, "rating", what, 16)
      };
    }
    case "Leaderboard": {
      const b = m();
      return {
        type: name,
        game: str(b, "game", what),
        rows: list(b, "rows", what).map(leaderboardRow)
      };
    }
    case "GameEvent": {
      const b = m();
      return {
        type: name,
        seq: u64(b, "seq", what),
        tick: u64(b, "tick", what),
        data: bin(b, "data", what)
      };
    }
    case "Redirect": {
      const b = m();
      return { type: name, url: str(b, "url", what), ticket: str(b, "ticket", what) };
    }
    default:
      return null;
  }
}

// dist/mirror.js
var MirrorError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "MirrorError";
  }
};
var MIRROR_CAPACITY = 128;
var StateMirror = class {
  constructor(game, capacity = MIRROR_CAPACITY) {
    this.game = game;
    this.capacity = capacity;
    this.states = /* @__PURE__ */ new Map();
    this.newest = null;
  }
  /** Stores a full state; returns it. */
  applySnapshot(tick, bytes) {
    return this.store(tick, this.game.decodeState(bytes));
  }
  /** Rebuilds the state at `tick` from the one at `baseTick`; returns it. */
  applyDelta(tick, baseTick, bytes) {
    const { decodeDelta: decodeDelta2, applyDelta: applyDelta2 } = this.game;
    if (!decodeDelta2 || !applyDelta2)
      throw new MirrorError("this game has no deltas");
    const base = this.states.get(baseTick);
    if (base === void 0)
      throw new MirrorError(`no state for base tick ${baseTick}`);
    if (tick < baseTick)
      throw new MirrorError(`delta goes back from ${baseTick} to ${tick}`);
    return this.store(tick, applyDelta2(base, decodeDelta2(bytes), tick - baseTick));
  }
  /** The newest tick held (what to acknowledge), or `null`. */
  get tick() {
    return this.newest;
  }
  /** The newest state, or `undefined`. */
  get state() {
    return this.newest == null ? void 0 : this.states.get(this.newest);
  }
  /** The state stored under `tick`, if still held. */
  at(tick) {
    return this.states.get(tick);
  }
  /** Every (tick, state) held, oldest first. */
  entries() {
    return [...this.states.entries()];
  }
  /** Forgets every state (a new room, or none). */
  clear() {
    this.states.clear();
    this.newest = null;
  }
  store(tick, state) {
    if (this.newest != null && tick < this.newest) {
      return state;
    }
    this.states.delete(tick);
    this.states.set(tick, state);
    this.newest = tick;
    while (this.states.size > this.capacity) {
      const oldest = this.states.keys().next().value;
      this.states.delete(oldest);
    }
    return state;
  }
};

// dist/clock.js
var TickClock = class {
  /**
   * @param tickHz ticks per second (`Welcome.tick_hz`)
   * @param now local milliseconds (default `performance.now()`, else `Date.now()`)
   */
  constructor(tickHz, now2 = defaultNow) {
    this.tickHz = tickHz;
    this.now = now2;
    this.offset = null;
  }
  /** Notes that the state of `tick` arrived now. */
  observe(tick) {
    const sample = Number(tick) - this.localTicks();
    if (this.offset == null || sample > this.offset) {
      this.offset = sample;
    } else {
      this.offset = Math.max(sample, this.offset - 0.01);
    }
  }
  /** Whether a tick has been observed yet. */
  get synced() {
    return this.offset != null;
  }
  /** The server's current tick, estimated; fractional. `NaN` before any observation. */
  tick() {
    return this.offset == null ? Number.NaN : this.localTicks() + this.offset;
  }
  /** Forgets the offset (a new connection). */
  reset() {
    this.offset = null;
  }
  localTicks() {
    return this.now() * this.tickHz / 1e3;
  }
};
function defaultNow() {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
var Interpolator = class {
  constructor(keep = 32) {
    this.keep = keep;
    this.samples = [];
  }
  /** Adds a state; ticks must increase (older ones are ignored). */
  push(tick, state) {
    const t = Number(tick);
    const last = this.samples[this.samples.length - 1];
    if (last && t <= last.tick)
      return;
    this.samples.push({ tick: t, state });
    if (this.samples.length > this.keep)
      this.samples.shift();
  }
  /**
   * The states on either side of `renderTick`. Before the first sample both are the
   * first; after the last both are the last (no extrapolation). `null` when empty.
   */
  sample(renderTick) {
    const s = this.samples;
    if (s.length === 0)
      return null;
    if (renderTick <= s[0].tick)
      return bracket(s[0], s[0], 0);
    for (let i = 1; i < s.length; i++) {
      if (s[i].tick >= renderTick) {
        const alpha = (renderTick - s[i - 1].tick) / (s[i].tick - s[i - 1].tick);
        return bracket(s[i - 1], s[i], alpha);
      }
    }
    const last = s[s.length - 1];
    return bracket(last, last, 0);
  }
  clear() {
    this.samples = [];
  }
};
function bracket(a, b, alpha) {
  return { from: a.state, to: b.state, fromTick: a.tick, toTick: b.tick, alpha };
}

// dist/store.js
function memoryTokenStore() {
  let token = null;
  return {
    load: () => token,
    save: (value) => {
      token = value;
    },
    clear: () => {
      token = null;
    }
  };
}
function webStorageTokenStore(storage, key = "ticksync.token") {
  return {
    load: () => storage.getItem(key),
    save: (value) => storage.setItem(key, value),
    clear: () => storage.removeItem(key)
  };
}

// dist/backoff.js
function backoffDelay(attempt, options = {}, random = Math.random) {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 5e3;
  const ceiling = Math.min(initial * 2 ** Math.min(attempt, 30), max);
  return ceiling / 2 + random() * ceiling / 2;
}

// dist/emitter.js
var TimeoutError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "TimeoutError";
  }
};
var Emitter = class {
  constructor() {
    this.listeners = /* @__PURE__ */ new Map();
  }
  /** Calls `listener` on every `type` event until the returned function is called. */
  on(type, listener) {
    let set = this.listeners.get(type);
    if (!set)
      this.listeners.set(type, set = /* @__PURE__ */ new Set());
    set.add(listener);
    return () => this.off(type, listener);
  }
  /** Removes a listener added with `on`. */
  off(type, listener) {
    this.listeners.get(type)?.delete(listener);
  }
  /**
   * The next `type` event for which `filter` holds. Rejects with `TimeoutError` after
   * `timeoutMs` (default 10 s).
   */
  next(type, filter = () => true, timeoutMs = 1e4) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new TimeoutError(`no ${String(type)} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (payload) => {
        if (!filter(payload))
          return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }
  /** Calls every listener of `type`; a throwing listener does not stop the others. */
  emit(type, payload) {
    for (const listener of [...this.listeners.get(type) ?? []]) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
};

// dist/arena.js
var arena_exports = {};
__export(arena_exports, {
  ARENA: () => ARENA,
  ARENA_SIZE: () => ARENA_SIZE,
  ARENA_SPEED: () => ARENA_SPEED,
  ArenaPredictor: () => ArenaPredictor,
  STILL: () => STILL,
  advance: () => advance,
  applyDelta: () => applyDelta,
  arenaGame: () => arenaGame,
  decodeDelta: () => decodeDelta,
  decodeInput: () => decodeInput,
  decodeView: () => decodeView,
  encodeInput: () => encodeInput,
  packDir: () => packDir,
  unpackDir: () => unpackDir
});
var ARENA = "arena";
var ARENA_SPEED = 5;
var ARENA_SIZE = 1e3;
var STILL = 4;
function packDir(dx, dy) {
  return (dx + 1) * 3 + (dy + 1);
}
function unpackDir(dir) {
  return { dx: Math.floor(dir / 3) - 1, dy: dir % 3 - 1 };
}
function encodeInput(input) {
  for (const c of [input.dx, input.dy]) {
    if (c !== -1 && c !== 0 && c !== 1)
      throw new WireError(`direction component ${c}`);
  }
  return pack([input.dx, input.dy]);
}
function decodeInput(bytes) {
  const what = "ArenaInput";
  const value = unpack(bytes);
  if (Array.isArray(value)) {
    if (value.length !== 2)
      throw new WireError(`${what}: expected [dx, dy]`);
    const [dx, dy] = value;
    return { dx: i8({ dx }, "dx", what), dy: i8({ dy }, "dy", what) };
  }
  const m = struct(value, what);
  return { dx: i8(m, "dx", what), dy: i8(m, "dy", what) };
}
function int2(value, what, max) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new WireError(`${what}: expected an integer from 0 to ${max}`);
  }
  return value;
}
function player(fields, what) {
  const [seat, x, y, dir] = fields;
  const p = {
    seat: int2(seat, `${what}.seat`, 255),
    x: int2(x, `${what}.x`, 65535),
    y: int2(y, `${what}.y`, 65535),
    dir: int2(dir, `${what}.dir`, 255)
  };
  if (p.dir > 8)
    throw new WireError(`${what}.dir: ${p.dir} is not 0 to 8`);
  return p;
}
function array(value, what) {
  if (!Array.isArray(value))
    throw new WireError(`${what}: expected an array`);
  return value;
}
function decodeView(bytes) {
  const what = "ArenaView";
  const players = array(unpack(bytes), what).map((value, i) => {
    const fields = array(value, `${what}[${i}]`);
    if (fields.length !== 4)
      throw new WireError(`${what}[${i}]: expected 4 fields`);
    return player(fields, `${what}[${i}]`);
  });
  return { players };
}
function decodeDelta(bytes) {
  const what = "ArenaDelta";
  const items = array(unpack(bytes), what);
  const delta2 = { changed: [], removed: [] };
  let i = 0;
  while (i < items.length) {
    const lead = items[i];
    if (typeof lead === "number" && Number.isInteger(lead) && lead < 0 && lead >= -128) {
      delta2.removed.push(-1 - lead);
      i += 1;
    } else {
      if (i + 4 > items.length)
        throw new WireError(`${what}[${i}]: a player needs 4 fields`);
      const p = player(items.slice(i, i + 4), `${what}[${i}]`);
      if (p.seat > 127)
        throw new WireError(`${what}[${i}]: seat ${p.seat} is not 0 to 127`);
      delta2.changed.push(p);
      i += 4;
    }
  }
  return delta2;
}
var clamp = (v) => Math.min(ARENA_SIZE, Math.max(0, v));
function advance(p, ticks) {
  const { dx, dy } = unpackDir(p.dir);
  return {
    seat: p.seat,
    x: clamp(p.x + ARENA_SPEED * ticks * dx),
    y: clamp(p.y + ARENA_SPEED * ticks * dy),
    dir: p.dir
  };
}
function applyDelta(base, delta2, ticks) {
  const n = Number(ticks);
  const removed = new Set(delta2.removed);
  const bySeat = /* @__PURE__ */ new Map();
  for (const p of base.players) {
    if (!removed.has(p.seat))
      bySeat.set(p.seat, advance(p, n));
  }
  for (const p of delta2.changed)
    bySeat.set(p.seat, { ...p });
  return { players: [...bySeat.values()].sort((a, b) => a.seat - b.seat) };
}
var arenaGame = { decodeState: decodeView, decodeDelta, applyDelta };
var ArenaPredictor = class {
  constructor() {
    this.pending = [];
  }
  /** Notes an input sent with `seq` at the estimated server tick `sentTick`. */
  record(seq, input, sentTick) {
    this.pending.push({ seq, dir: packDir(input.dx, input.dy), sentTick });
  }
  /** Inputs sent and not yet included in a state. */
  get unacknowledged() {
    return this.pending.length;
  }
  /** The direction of the newest input sent, if any is unacknowledged. */
  get latestDir() {
    return this.pending.length ? this.pending[this.pending.length - 1].dir : null;
  }
  /**
   * Where the own player is at server tick `nowTick` (fractional), given `acked`, the
   * player in the state of tick `ackedTick` whose `input_seq` is `inputSeq`. Inputs up
   * to `inputSeq` are dropped; each later one takes effect at the tick after it was sent
   * (and not before `ackedTick + 1`), the applying tick already moving along it.
   */
  predict(acked, ackedTick, inputSeq, nowTick) {
    this.pending = this.pending.filter((p2) => p2.seq > inputSeq);
    let at = Number(ackedTick);
    let p = acked;
    for (const input of this.pending) {
      const applies = Math.max(at + 1, Math.ceil(input.sentTick));
      if (applies > nowTick + 1)
        break;
      p = advance(p, Math.max(0, applies - 1 - at));
      at = Math.max(at, applies - 1);
      p = { ...p, dir: input.dir };
    }
    return advance(p, Math.max(0, nowTick - at));
  }
  /** Forgets every input (a new room or connection). */
  clear() {
    this.pending = [];
  }
};

// dist/tictactoe.js
var tictactoe_exports = {};
__export(tictactoe_exports, {
  TICTACTOE: () => TICTACTOE,
  decodeMove: () => decodeMove,
  decodeView: () => decodeView2,
  encodeMove: () => encodeMove,
  encodeOptions: () => encodeOptions,
  winningLine: () => winningLine
});
var TICTACTOE = "tictactoe";
function encodeOptions(options) {
  return pack({ turn_seconds: options.turn_seconds ?? null });
}
function encodeMove(move) {
  return pack({ cell: move.cell });
}
function decodeMove(bytes) {
  return { cell: uint(struct(unpack(bytes), "TicTacToeMove"), "cell", "TicTacToeMove", 8) };
}
function decodeView2(bytes) {
  const what = "TicTacToeView";
  const m = struct(unpack(bytes), what);
  const board2 = m.board;
  if (!Array.isArray(board2) || board2.length !== 9) {
    throw new WireError(`${what}.board: expected an array of nine integers`);
  }
  const cells = board2.map((cell, i) => uint({ cell }, "cell", `${what}.board[${i}]`, 8));
  const seat = (name) => m[name] == null ? null : uint(m, name, what, 8);
  const over = m.over;
  if (typeof over !== "boolean")
    throw new WireError(`${what}.over: expected a bool`);
  return {
    board: cells,
    to_move: seat("to_move"),
    turn_deadline: u64(m, "turn_deadline", what),
    winner: seat("winner"),
    over
  };
}
function winningLine(view) {
  if (view.winner == null)
    return null;
  const mark = view.winner + 1;
  const lines = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6]
  ];
  return lines.find((line) => line.every((cell) => view.board[cell] === mark)) ?? null;
}

// dist/client.js
var OPEN = 1;
var GAMES = {
  tictactoe: { decodeState: decodeView2 },
  arena: arenaGame
};
var TICKET_LIFETIME_MS = 1e4;
var FIND_MATCH_REFUSALS = /* @__PURE__ */ new Set([
  ErrorCode.ClusterUnavailable,
  ErrorCode.UnknownGame,
  ErrorCode.InvalidOptions,
  ErrorCode.AlreadyInRoom,
  ErrorCode.AlreadyQueued,
  ErrorCode.ServerBusy,
  ErrorCode.ShuttingDown
]);
var JOIN_REFUSALS = /* @__PURE__ */ new Set([
  ErrorCode.RateLimited,
  ErrorCode.TooManyCodeGuesses,
  ErrorCode.UnknownRoomCode,
  ErrorCode.AlreadyInRoom,
  ErrorCode.AlreadyQueued,
  ErrorCode.SpectatorsNotAllowed,
  ErrorCode.ShuttingDown,
  ErrorCode.ServerBusy,
  ErrorCode.ClusterUnavailable
]);
var NotConnectedError = class extends Error {
  constructor() {
    super("not connected to the server");
    this.name = "NotConnectedError";
  }
};
var TicksyncClient = class extends Emitter {
  constructor(options) {
    super();
    this.ws = null;
    this.attempts = 0;
    this.retryTimer = null;
    this.ackTimer = null;
    this.lastAckAt = -Infinity;
    this.ackedTick = 0n;
    this.nonce = 0n;
    this.resuming = false;
    this.pings = /* @__PURE__ */ new Map();
    this.rejoin = { kind: "none" };
    this.rewatching = null;
    this.requeueing = false;
    this.shutdownRetryMs = null;
    this.kicked = false;
    this.ticket = null;
    this.sentTicket = null;
    this.connWelcomed = false;
    this.redirecting = false;
    this.redirected = false;
    this.calledOff = false;
    this.unresumedRoom = null;
    this.redirectRewatch = null;
    this.requeuedAfterTicket = false;
    this.connection = "stopped";
    this.sessionId = null;
    this.tickHz = 30;
    this.room = null;
    this.queued = false;
    this.queuedFor = null;
    this.queuedOptions = new Uint8Array();
    this.lastEventSeq = 0n;
    this.inputSeq = 0;
    this.currentMirror = new StateMirror({ decodeState: (bytes) => bytes });
    this.received = { bytes: 0, messages: 0 };
    this.url = toWebSocketUrl(options.url);
    this.entryUrl = this.url;
    this.wsUrl = this.url;
    this.store = options.store ?? memoryTokenStore();
    const WS = options.WebSocket ?? globalThis.WebSocket;
    if (!WS)
      throw new Error("no WebSocket: pass options.WebSocket (e.g. the ws package)");
    this.WS = WS;
    this.games = { ...GAMES, ...options.games };
    this.autoAck = options.autoAck ?? true;
    this.ackIntervalMs = options.ackIntervalMs ?? 100;
    this.reconnectOptions = options.reconnect ?? {};
    this.authToken = options.authToken ?? null;
    this.clock = new TickClock(this.tickHz);
  }
  /** The states of the current room (its adapter follows the room's game). */
  get mirror() {
    return this.currentMirror;
  }
  // -------------------------------------------------------------------------------------
  // Connection
  // -------------------------------------------------------------------------------------
  /** Opens the connection (and keeps it open); resolves on the first `Welcome`. */
  connect(timeoutMs = 1e4) {
    const welcome = this.next("welcome", () => true, timeoutMs);
    if (this.connection === "stopped")
      this.open();
    return welcome;
  }
  /** Closes with 1000, which ends the session at once (a player in a game forfeits). */
  close() {
    this.stop("You closed the connection.", CloseCode.NORMAL);
    this.store.clear();
    this.ticket = null;
    this.url = this.entryUrl;
  }
  /**
   * Closes the socket without ending the session (code 3000), as a network failure
   * would; the client then reconnects and resumes by its policy.
   */
  drop() {
    this.ws?.close(3e3, "drop");
  }
  /**
   * Sets the sign-in token (or a function giving it) for the next `Hello`s; the current
   * connection keeps its identity. Pass `null` for none.
   */
  setAuthToken(token) {
    this.authToken = token;
  }
  /** Whether messages can be sent now (`Welcome` received on this connection). */
  get isOpen() {
    return this.connection === "open" && this.ws?.readyState === OPEN;
  }
  /**
   * Where the next connection goes: a ticket's node; else the session's node (`url`) on
   * the first attempts and every other one after, the entry on the others (a node that
   * cannot be reached may be gone: the entry knows where the session is now).
   */
  target() {
    if (this.ticket)
      return { url: this.ticket.url, ticket: this.ticket };
    const viaEntry = this.attempts >= 2 && this.attempts % 2 === 0;
    return { url: viaEntry ? this.entryUrl : this.url, ticket: null };
  }
  open() {
    this.clearTimers();
    const { url, ticket } = this.target();
    const ws = new this.WS(url, [...SUBPROTOCOLS]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.wsUrl = url;
    this.sentTicket = ticket;
    this.connWelcomed = false;
    this.setStatus({ state: this.attempts ? "reconnecting" : "connecting", attempt: this.attempts });
    ws.onopen = () => {
      if (ws !== this.ws)
        return;
      this.ackedTick = 0n;
      this.clock.reset();
      const auth = typeof this.authToken === "function" ? this.authToken() : this.authToken;
      this.sendRaw({
        type: "Hello",
        version: PROTOCOL_VERSION,
        resume_token: this.store.load(),
        last_event_seq: this.lastEventSeq,
        auth_token: auth ?? null,
        ticket: ticket?.value ?? null
      });
    };
    ws.onmessage = ({ data }) => {
      if (ws === this.ws)
        this.receive(data);
    };
    ws.onerror = () => {
    };
    ws.onclose = ({ code }) => {
      if (ws === this.ws)
        this.closed(code);
    };
  }
  closed(code) {
    this.ws = null;
    this.clearTimers();
    const wasQueued = this.queued;
    this.queued = false;
    this.requeueing = false;
    this.pings.clear();
    const shutdownRetryMs = this.shutdownRetryMs;
    this.shutdownRetryMs = null;
    const reason = describeClose(code);
    if (this.connection === "stopped")
      return;
    if (this.redirecting) {
      this.redirecting = false;
      if (this.connWelcomed)
        this.attempts = 0;
      this.open();
      return;
    }
    const sent = this.connWelcomed ? null : this.sentTicket;
    if (sent?.kind === "resume") {
      this.ticket = null;
    }
    if (code === CloseCode.TICKET_REFUSED && sent && sent.kind !== "resume") {
      this.ticket = null;
      this.url = sent.url;
      this.store.clear();
      if (sent.kind === "match" && this.queuedFor) {
        this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
      }
      this.attempts = 0;
      this.open();
      return;
    }
    if (sent && sent.kind !== "resume" && this.ticket === sent && now() >= sent.expiresAt) {
      this.ticket = null;
      this.url = this.entryUrl;
      this.store.clear();
      if (sent.kind === "match" && this.queuedFor) {
        this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
      }
    }
    if (this.kicked || code === CloseCode.KICKED) {
      this.kicked = false;
      this.store.clear();
      this.leaveRoomState();
      this.stop(describeClose(CloseCode.KICKED), code);
      return;
    }
    if (code === CloseCode.SESSION_TAKEN_OVER || code === CloseCode.UNSUPPORTED_VERSION || code === CloseCode.TOO_MANY_CODE_GUESSES || isAuthClose(code)) {
      this.stop(reason, code);
      return;
    }
    if (code === CloseCode.INVALID_RESUME_TOKEN) {
      if (this.rejoin.kind === "none")
        this.endSession(reason);
      else
        this.store.clear();
      this.attempts = 0;
      this.open();
      return;
    }
    if (this.connWelcomed && this.room?.seat == null) {
      this.rejoin = this.room ? { kind: "watch", room: this.room } : wasQueued && this.queuedFor ? { kind: "queue", game: this.queuedFor, options: this.queuedOptions } : { kind: "idle" };
    }
    const policy = this.reconnectOptions;
    if (policy === false || this.attempts >= (policy.maxAttempts ?? Infinity)) {
      this.stop(reason, code);
      return;
    }
    const delay = Math.max(backoffDelay(this.attempts, policy), shutdownRetryMs ?? 0);
    this.attempts += 1;
    this.setStatus({
      state: "reconnecting",
      reason,
      closeCode: code,
      retryInMs: delay,
      attempt: this.attempts
    });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
  stop(reason, code) {
    const ws = this.ws;
    this.ws = null;
    this.clearTimers();
    this.queued = false;
    this.requeueing = false;
    this.rejoin = { kind: "none" };
    this.rewatching = null;
    this.shutdownRetryMs = null;
    this.kicked = false;
    this.setStatus({ state: "stopped", reason, closeCode: code });
    if (ws && ws.readyState <= OPEN)
      ws.close(CloseCode.NORMAL);
  }
  /** The server no longer knows this session: forget it and everything tied to it. */
  endSession(reason) {
    const lostRoom = this.room;
    this.store.clear();
    this.leaveRoomState();
    this.emit("sessionEnded", { reason, lostRoom, nodeLost: false });
  }
  clearTimers() {
    if (this.retryTimer)
      clearTimeout(this.retryTimer);
    if (this.ackTimer)
      clearTimeout(this.ackTimer);
    this.retryTimer = null;
    this.ackTimer = null;
  }
  setStatus(status) {
    this.connection = status.state;
    this.emit("status", status);
  }
  // -------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------
  receive(data) {
    const bytes = toBytes(data);
    if (!bytes)
      return;
    this.received.bytes += bytes.byteLength;
    this.received.messages += 1;
    let msg;
    try {
      msg = decodeServerMsg(bytes);
    } catch (error) {
      this.emit("error", {
        code: 0,
        name: "Undecodable",
        words: "A message from the server could not be read.",
        message: error.message,
        input_seq: null
      });
      return;
    }
    if (msg == null)
      return;
    this.emit("message", msg);
    this.handle(msg);
  }
  handle(msg) {
    switch (msg.type) {
      case "Welcome": {
        this.store.save(msg.resume_token);
        const sent = this.sentTicket;
        this.redirected = sent?.kind === "match" && msg.resumed;
        this.ticket = null;
        this.connWelcomed = true;
        this.url = this.wsUrl;
        this.attempts = 0;
        this.unresumedRoom = !msg.resumed && this.rejoin.kind === "none" ? this.room : null;
        this.requeuedAfterTicket = false;
        if (sent?.kind === "match" && !msg.resumed && this.queuedFor) {
          this.rejoin = { kind: "queue", game: this.queuedFor, options: this.queuedOptions };
          this.requeuedAfterTicket = true;
        }
        this.sessionId = msg.session_id;
        this.tickHz = msg.tick_hz;
        this.clock.tickHz = msg.tick_hz;
        this.queued = false;
        this.requeueing = false;
        const rejoin = msg.resumed ? { kind: "none" } : this.rejoin;
        this.rejoin = { kind: "none" };
        this.rewatching = null;
        const joining = sent?.kind === "join" ? this.redirectRewatch : null;
        this.redirectRewatch = null;
        if (rejoin.kind === "watch") {
          this.rewatching = rejoin.room;
        } else if (joining) {
          this.rewatching = joining;
        } else if (!msg.resumed) {
          this.leaveRoomState();
        }
        this.resuming = msg.resumed;
        this.setStatus({ state: "open" });
        if (rejoin.kind === "watch") {
          this.sendRaw({ type: "JoinRoom", code: rejoin.room.code, spectate: true });
        } else if (rejoin.kind === "queue") {
          this.sendRaw({ type: "FindMatch", game: rejoin.game, options: rejoin.options });
          this.queued = true;
          this.requeueing = true;
        }
        this.emit("welcome", {
          session_id: msg.session_id,
          resumed: msg.resumed,
          tick_hz: msg.tick_hz,
          redirect: sent?.kind ?? null
        });
        return;
      }
      case "ServerShutdown":
        this.shutdownRetryMs = msg.retry_after_ms;
        this.emit("serverShutdown", {
          retry_after_ms: msg.retry_after_ms,
          drain_ms: msg.drain_ms
        });
        return;
      case "Pong": {
        const sent = this.pings.get(msg.nonce);
        this.pings.delete(msg.nonce);
        if (sent !== void 0)
          this.emit("pong", { nonce: msg.nonce, rttMs: now() - sent });
        return;
      }
      case "Queued":
        this.calledOff = false;
        this.queued = true;
        this.requeueing = false;
        this.queuedFor = msg.game;
        this.emit("queued", { game: msg.game, position: msg.position, queue_size: msg.queue_size });
        return;
      case "MatchCancelled":
        this.queued = false;
        this.emit("matchCancelled", { game: msg.game });
        return;
      case "MatchFound":
      case "RoomJoined": {
        const { type, ...joined } = msg;
        this.calledOff = false;
        this.queued = false;
        this.requeueing = false;
        const redirected = this.redirected && type === "RoomJoined";
        this.redirected = false;
        const same = !redirected && this.room != null && this.room.room_id === joined.room_id;
        const resumed = !redirected && (same || this.resuming && type === "RoomJoined");
        this.resuming = false;
        this.rewatching = null;
        if (!same) {
          this.lastEventSeq = 0n;
          this.inputSeq = 0;
        }
        this.mirror.clear();
        const matched = redirected || type === "MatchFound" || same && (this.room?.matched ?? false);
        this.room = { ...joined, matched };
        this.emit("roomJoined", { room: this.room, resumed });
        return;
      }
      case "RoomLeft": {
        this.resuming = false;
        this.rewatching = null;
        const room = this.room;
        this.leaveRoomState();
        if (this.calledOff) {
          this.calledOff = false;
          this.queued = true;
          this.requeueing = true;
          if (room)
            this.queuedFor = room.game;
        }
        this.emit("roomLeft", { room_id: msg.room_id, room });
        return;
      }
      case "Snapshot":
      case "Delta":
        this.onState(msg);
        return;
      case "Event":
        if (msg.seq <= this.lastEventSeq)
          return;
        this.lastEventSeq = msg.seq;
        this.emit("event", { seq: msg.seq, tick: msg.tick, event: msg.event });
        return;
      case "GameEvent":
        if (msg.seq <= this.lastEventSeq)
          return;
        this.lastEventSeq = msg.seq;
        this.emit("gameEvent", { seq: msg.seq, tick: msg.tick, data: msg.data });
        return;
      case "Error":
        if (msg.code === ErrorCode.InvalidResumeToken) {
          return;
        }
        if (msg.code === ErrorCode.MatchCalledOff && msg.input_seq == null) {
          this.calledOff = true;
          this.emit("matchCalledOff", {
            room: this.room,
            words: describeError(msg.code),
            message: msg.message
          });
          return;
        }
        if (msg.input_seq == null && this.requeuedAfterTicket && msg.code === ErrorCode.ReservationExpired) {
          this.requeuedAfterTicket = false;
          this.emit("matchCalledOff", {
            room: null,
            words: describeError(ErrorCode.MatchCalledOff),
            message: msg.message
          });
          return;
        }
        if (msg.code === ErrorCode.NodeLost && msg.input_seq == null) {
          const lostRoom = this.unresumedRoom;
          this.unresumedRoom = null;
          this.emit("sessionEnded", { reason: describeError(msg.code), lostRoom, nodeLost: true });
          return;
        }
        if (this.rewatching && msg.input_seq == null && JOIN_REFUSALS.has(msg.code)) {
          const room = this.room;
          this.rewatching = null;
          this.leaveRoomState();
          if (room)
            this.emit("roomLeft", { room_id: room.room_id, room });
          return;
        }
        if (msg.code === ErrorCode.Kicked)
          this.kicked = true;
        if (this.requeueing && msg.input_seq == null && FIND_MATCH_REFUSALS.has(msg.code)) {
          this.requeueing = false;
          this.queued = false;
        }
        this.emit("error", {
          code: msg.code,
          name: errorName(msg.code),
          words: describeError(msg.code),
          message: msg.message,
          input_seq: msg.input_seq
        });
        return;
      case "RoomList":
        this.emit("roomList", msg.rooms);
        return;
      case "Redirect": {
        let url;
        try {
          url = toWebSocketUrl(msg.url);
        } catch (error) {
          this.emit("error", {
            code: 0,
            name: "Undecodable",
            words: "The server sent this client to an address it could not read.",
            message: error.message,
            input_seq: null
          });
          return;
        }
        if (!this.connWelcomed) {
          if (this.sentTicket?.kind === "resume")
            return;
          this.ticket = {
            kind: "resume",
            value: msg.ticket,
            url,
            expiresAt: now() + TICKET_LIFETIME_MS
          };
        } else {
          this.ticket = {
            kind: this.queued ? "match" : "join",
            value: msg.ticket,
            url,
            expiresAt: now() + TICKET_LIFETIME_MS
          };
          this.store.clear();
          this.queued = false;
          this.requeueing = false;
          this.redirectRewatch = this.rewatching;
        }
        this.url = url;
        this.redirecting = true;
        this.ws?.close(CloseCode.NORMAL, "redirect");
        return;
      }
    }
  }
  onState(msg) {
    const game = this.room ? this.games[this.room.game] : void 0;
    const mirror = this.mirrorFor(game);
    let state;
    try {
      state = msg.type === "Snapshot" ? mirror.applySnapshot(msg.tick, msg.state) : mirror.applyDelta(msg.tick, msg.base_tick, msg.delta);
    } catch (error) {
      this.emit("error", {
        code: 0,
        name: "Undecodable",
        words: "A game state from the server could not be read.",
        message: error.message,
        input_seq: msg.input_seq
      });
      return;
    }
    this.clock.observe(msg.tick);
    this.inputSeq = Math.max(this.inputSeq, msg.input_seq);
    this.emit("state", {
      tick: msg.tick,
      input_seq: msg.input_seq,
      state,
      full: msg.type === "Snapshot"
    });
    if (this.autoAck && game?.applyDelta)
      this.scheduleAck();
  }
  mirrorFor(game) {
    const adapter = game ?? { decodeState: (bytes) => bytes };
    if (this.currentMirror.game.decodeState !== adapter.decodeState) {
      this.currentMirror = new StateMirror(adapter);
    }
    return this.currentMirror;
  }
  scheduleAck() {
    if (this.ackTimer)
      return;
    const wait = Math.max(0, this.lastAckAt + this.ackIntervalMs - now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.ack();
    }, wait);
  }
  leaveRoomState() {
    this.room = null;
    this.lastEventSeq = 0n;
    this.inputSeq = 0;
    this.mirror.clear();
  }
  // -------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------
  sendRaw(msg) {
    if (this.ws?.readyState !== OPEN)
      throw new NotConnectedError();
    this.ws.send(encodeClientMsg(msg));
  }
  /** Sends a message; throws `NotConnectedError` before `Welcome` or while reconnecting. */
  send(msg) {
    if (!this.isOpen)
      throw new NotConnectedError();
    if (msg.type === "FindMatch" || msg.type === "CreateRoom" || msg.type === "JoinRoom") {
      this.resuming = false;
    }
    this.sendRaw(msg);
  }
  /**
   * Joins the quick-match queue for `game`, with the game's room options (MessagePack, e.g.
   * `tictactoe.encodeOptions`; empty for the defaults): players are matched only with
   * players who asked for the same options.
   */
  findMatch(game, options = new Uint8Array()) {
    this.queuedOptions = options;
    this.send({ type: "FindMatch", game, options });
  }
  /** Leaves the quick-match queue. */
  cancelMatch() {
    this.send({ type: "CancelMatch" });
  }
  /** Creates a private room; the client takes seat 0 and gets its code in `roomJoined`. */
  createRoom(game, settings = {}) {
    this.send({
      type: "CreateRoom",
      game,
      settings: {
        allow_spectators: settings.allow_spectators ?? false,
        relay: settings.relay ?? false,
        ranked: settings.ranked ?? false,
        options: settings.options ?? new Uint8Array()
      }
    });
  }
  /** Joins a room by code, as a player or (`spectate`) a spectator. */
  joinRoom(code, spectate = false) {
    this.send({ type: "JoinRoom", code: code.trim().toUpperCase(), spectate });
  }
  /** Leaves the room (a player in a running game forfeits). */
  leaveRoom() {
    this.send({ type: "LeaveRoom" });
  }
  /** Says something to everyone in the room (1 to 200 characters). */
  chat(text) {
    this.send({ type: "Chat", text });
  }
  /** The room directory's first page (up to 100 open rooms, oldest first). */
  listRooms(timeoutMs = 1e4) {
    const list2 = this.next("roomList", () => true, timeoutMs);
    this.send({ type: "ListRooms" });
    return list2;
  }
  /**
   * One page of the room directory: up to `limit` (at most 100) rooms whose `room_id` is
   * above `after` (0 for the first page; else the last `room_id` of the previous page).
   * A page shorter than `limit` is the last.
   */
  listRoomsAfter(after, limit = 100, timeoutMs = 1e4) {
    const list2 = this.next("roomList", () => true, timeoutMs);
    this.send({ type: "ListRoomsAfter", after, limit });
    return list2;
  }
  /** Measures one round trip with `Ping`; resolves with milliseconds. */
  ping(timeoutMs = 1e4) {
    this.nonce += 1n;
    const nonce = this.nonce;
    const pong = this.next("pong", (p) => p.nonce === nonce, timeoutMs);
    this.pings.set(nonce, now());
    this.send({ type: "Ping", nonce });
    return pong.then((p) => p.rttMs);
  }
  /**
   * Sends one game input (already encoded with the game's codec, e.g. `encodeMove`),
   * acknowledging the newest state held. Returns the input's `seq`.
   */
  sendInput(data) {
    if (!this.isOpen)
      throw new NotConnectedError();
    const seq = this.inputSeq + 1;
    const ackTick = this.mirror.tick ?? 0n;
    this.send({ type: "Input", seq, ack_tick: ackTick, data });
    this.inputSeq = seq;
    this.noteAck(ackTick);
    return seq;
  }
  /** Sends any value as a game input, MessagePack-encoded. */
  sendGameInput(value) {
    return this.sendInput(pack(value));
  }
  /** Acknowledges the newest state held, if it is newer than the last acknowledged. */
  ack() {
    const tick = this.mirror.tick;
    if (tick == null || tick <= this.ackedTick || !this.isOpen)
      return;
    this.send({ type: "Ack", tick });
    this.noteAck(tick);
  }
  noteAck(tick) {
    if (tick > this.ackedTick)
      this.ackedTick = tick;
    this.lastAckAt = now();
  }
};
function now() {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
function toBytes(data) {
  if (data instanceof ArrayBuffer)
    return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}
function toWebSocketUrl(url) {
  const parsed = new URL(url);
  if (parsed.protocol === "http:")
    parsed.protocol = "ws:";
  else if (parsed.protocol === "https:")
    parsed.protocol = "wss:";
  return parsed.toString();
}

// dist/battleship.js
var battleship_exports = {};
__export(battleship_exports, {
  BATTLESHIP: () => BATTLESHIP,
  CELL: () => CELL,
  decodeEvent: () => decodeEvent,
  decodeOptions: () => decodeOptions,
  decodeShot: () => decodeShot,
  decodeView: () => decodeView3,
  encodeOptions: () => encodeOptions2,
  encodeShot: () => encodeShot
});
var BATTLESHIP = "battleship";
var CELL = { UNKNOWN: 0, MISS: 1, HIT: 2, SUNK: 3, SHIP: 4 };
var FLEETS = ["Classic", "Quick"];
function encodeOptions2(options) {
  return pack({
    size: options.size ?? null,
    fleet: options.fleet ?? null,
    turn_seconds: options.turn_seconds ?? null
  });
}
function decodeOptions(bytes) {
  const what = "BattleshipOptions";
  const m = struct(unpack(bytes), what);
  const fleet = m.fleet == null ? null : variant(m.fleet, `${what}.fleet`)[0];
  if (fleet !== null && !FLEETS.includes(fleet)) {
    throw new WireError(`${what}.fleet: unknown fleet ${fleet}`);
  }
  return {
    size: m.size == null ? null : uint(m, "size", what, 8),
    fleet,
    turn_seconds: m.turn_seconds == null ? null : uint(m, "turn_seconds", what, 32)
  };
}
function encodeShot(shot) {
  return pack({ cell: shot.cell });
}
function decodeShot(bytes) {
  return { cell: uint(struct(unpack(bytes), "BattleshipShot"), "cell", "BattleshipShot", 8) };
}
function board(value, what) {
  const m = struct(value, what);
  if (!Array.isArray(m.cells))
    throw new WireError(`${what}.cells: expected an array`);
  const cells = m.cells.map((cell, i) => {
    const code = uint({ cell }, "cell", `${what}.cells[${i}]`, 8);
    if (code > CELL.SHIP)
      throw new WireError(`${what}.cells[${i}]: unknown code ${code}`);
    return code;
  });
  return { cells, afloat: uint(m, "afloat", what, 8) };
}
function decodeView3(bytes) {
  const what = "BattleshipView";
  const m = struct(unpack(bytes), what);
  const size = uint(m, "size", what, 8);
  if (!Array.isArray(m.boards) || m.boards.length !== 2) {
    throw new WireError(`${what}.boards: expected an array of two boards`);
  }
  const boards = m.boards.map((b, i) => board(b, `${what}.boards[${i}]`));
  for (const [i, b] of boards.entries()) {
    if (b.cells.length !== size * size) {
      throw new WireError(`${what}.boards[${i}]: expected ${size * size} cells`);
    }
  }
  const seat = (name) => m[name] == null ? null : uint(m, name, what, 8);
  const over = m.over;
  if (typeof over !== "boolean")
    throw new WireError(`${what}.over: expected a bool`);
  return {
    size,
    you: seat("you"),
    boards: [boards[0], boards[1]],
    to_move: seat("to_move"),
    turn_deadline: u64(m, "turn_deadline", what),
    winner: seat("winner"),
    over
  };
}
function decodeEvent(bytes) {
  const what = "BattleshipEvent";
  const [name, body] = variant(unpack(bytes), what);
  const m = struct(body, `${what}.${name}`);
  const by = uint(m, "by", what, 8);
  switch (name) {
    case "Miss":
    case "Hit": {
      const auto = m.auto;
      if (typeof auto !== "boolean")
        throw new WireError(`${what}.auto: expected a bool`);
      return { type: name, by, cell: uint(m, "cell", what, 8), auto };
    }
    case "Sunk": {
      if (!Array.isArray(m.cells))
        throw new WireError(`${what}.cells: expected an array`);
      const cells = m.cells.map((cell, i) => uint({ cell }, "cell", `${what}.cells[${i}]`, 8));
      return { type: "Sunk", by, ship: uint(m, "ship", what, 8), cells };
    }
    default:
      throw new WireError(`${what}: unknown variant ${name}`);
  }
}
export {
  CloseCode,
  Emitter,
  ErrorCode,
  GAMES,
  Interpolator,
  MIRROR_CAPACITY,
  MSGPACK_SUBPROTOCOL,
  MSGPACK_V1_SUBPROTOCOL,
  MirrorError,
  NotConnectedError,
  PROTOCOL_VERSION,
  SUBPROTOCOLS,
  StateMirror,
  TickClock,
  TicksyncClient,
  TimeoutError,
  WireError,
  arena_exports as arena,
  backoffDelay,
  battleship_exports as battleship,
  clientValue,
  decodeInputFrame,
  decodeServerMsg,
  describeClose,
  describeError,
  encodeClientMsg,
  errorName,
  i8,
  isAuthClose,
  memoryTokenStore,
  pack,
  roomEvent,
  struct,
  tictactoe_exports as tictactoe,
  toWebSocketUrl,
  u64,
  u64Out,
  uint,
  unpack,
  variant,
  webStorageTokenStore
};
