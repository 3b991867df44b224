//! Checks the test vectors in PROTOCOL.md byte for byte against every codec.
//!
//! Every ```` ```vector ```` block names a value and a codec and gives the expected bytes.
//! [`value`] builds the Rust value for each name; the test encodes it and compares, then
//! decodes the documented bytes and compares again. A state message (`Snapshot`, `Delta`)
//! is encoded as the server sends it, by its writer's envelope around the encoded body,
//! and decoded as a client does ([`Codec::decode_server`]). Every name in [`NAMES`] must
//! appear in PROTOCOL.md once for `bincode` and once for `msgpack`; the names of
//! [`STATE_NAMES`], whose bytes differ there, once for `msgpack-v1` too; and PROTOCOL.md
//! must hold no other name.
//!
//! To add a vector: add its name to [`NAMES`] and an arm to [`value`] (both in
//! `protocol_vectors/values.rs`), then run
//! `cargo test --test it -- --ignored --nocapture print_vectors` and paste its block.

mod values;

use std::collections::BTreeSet;
use std::fmt::Debug;

use anyhow::{Context, Result, bail, ensure};
use serde::{Serialize, de::DeserializeOwned};
use ticksync::codec::Codec;
use ticksync::protocol::ServerMsg;

use values::{NAMES, Value, value};

const PROTOCOL_MD: &str = include_str!("../../PROTOCOL.md");

/// One parsed ```` ```vector ```` block.
#[derive(Debug)]
struct Vector {
    name: String,
    codec: Codec,
    bytes: Vec<u8>,
}

/// The vectors whose `msgpack-v1` bytes differ from their `msgpack` bytes: the state
/// messages.
const STATE_NAMES: [&str; 2] = ["snapshot", "delta"];

fn parse_codec(s: &str) -> Result<Codec> {
    match s {
        "bincode" => Ok(Codec::Bincode),
        "msgpack" => Ok(Codec::MsgPack),
        "msgpack-v1" => Ok(Codec::MsgPackV1),
        other => bail!("unknown codec {other:?}"),
    }
}

fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Bincode => "bincode",
        Codec::MsgPack => "msgpack",
        Codec::MsgPackV1 => "msgpack-v1",
    }
}

/// The names a codec's blocks hold.
fn names_of(codec: Codec) -> &'static [&'static str] {
    match codec {
        Codec::MsgPackV1 => &STATE_NAMES,
        Codec::Bincode | Codec::MsgPack => NAMES,
    }
}

/// A server message: written as the server sends it ([`as_sent`]) and read as a client
/// reads it.
fn check_server(codec: Codec, msg: &ServerMsg, expected: &[u8]) -> Result<()> {
    let sent = crate::support::as_sent(codec, msg);
    ensure!(
        sent == expected,
        "the server sends other bytes\n  value:    {msg:?}\n  expected: {}\n  actual:   {}",
        to_hex(expected),
        to_hex(&sent)
    );
    let decoded = codec.decode_server(expected)?;
    ensure!(&decoded == msg, "decodes to {decoded:?}, not {msg:?}");
    Ok(())
}

/// Space-separated lowercase byte pairs.
fn parse_hex(s: &str) -> Result<Vec<u8>> {
    s.split(' ')
        .map(|pair| {
            ensure!(
                pair.len() == 2 && pair.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "bad hex byte {pair:?}"
            );
            Ok(u8::from_str_radix(pair, 16)?)
        })
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one block's lines: `name:`, `codec:`, `hex:`, with `hex` continued on lines that
/// start with two spaces.
fn parse_block(lines: &[&str]) -> Result<Vector> {
    let (mut name, mut codec, mut hex) = (None, None, None::<String>);
    let mut last_key = "";
    for line in lines {
        if let Some(rest) = line.strip_prefix("  ") {
            ensure!(last_key == "hex", "continuation line outside hex: {line:?}");
            let hex = hex.as_mut().context("continuation before hex")?;
            hex.push(' ');
            hex.push_str(rest.trim_end());
            continue;
        }
        let (key, val) = line
            .split_once(": ")
            .context(format!("bad line {line:?}"))?;
        let slot = match key {
            "name" => &mut name,
            "codec" => &mut codec,
            "hex" => &mut hex,
            other => bail!("unknown key {other:?}"),
        };
        ensure!(slot.is_none(), "duplicate key {key:?}");
        *slot = Some(val.trim_end().to_string());
        last_key = key;
    }
    let name = name.context("missing name")?;
    let codec = parse_codec(&codec.context("missing codec")?)?;
    let bytes = parse_hex(&hex.context("missing hex")?).context(name.clone())?;
    Ok(Vector { name, codec, bytes })
}

/// Every vector block in PROTOCOL.md, in document order.
fn parse_vectors(doc: &str) -> Result<Vec<Vector>> {
    let mut vectors = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        if line.trim_end() != "```vector" {
            continue;
        }
        let mut block = Vec::new();
        loop {
            let (number, line) = lines.next().context("unterminated vector block")?;
            if line.trim_end() == "```" {
                let vector = parse_block(&block)
                    .with_context(|| format!("vector block ending on line {}", number + 1))?;
                vectors.push(vector);
                break;
            }
            block.push(line);
        }
    }
    Ok(vectors)
}

/// Encodes `value` and compares with `expected`, then decodes `expected` and compares back.
fn check<T>(codec: Codec, value: &T, expected: &[u8]) -> Result<()>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let encoded = codec.encode(value)?;
    ensure!(
        encoded.as_ref() == expected,
        "encoding differs\n  value:    {value:?}\n  expected: {}\n  actual:   {}",
        to_hex(expected),
        to_hex(&encoded)
    );
    let decoded: T = codec.decode(expected)?;
    ensure!(&decoded == value, "decodes to {decoded:?}, not {value:?}");
    Ok(())
}

fn check_vector(vector: &Vector) -> Result<()> {
    let value = value(&vector.name, vector.codec)?.context("no value for this name")?;
    let (codec, bytes) = (vector.codec, &vector.bytes);
    match &value {
        Value::Client(v) => check(codec, v, bytes),
        Value::Server(v) => {
            check_server(codec, v, bytes)?;
            // serde's own encoding is the version-1 form of a state message.
            let serde = if codec == Codec::MsgPack && STATE_NAMES.contains(&vector.name.as_str()) {
                Codec::MsgPackV1
            } else {
                codec
            };
            if serde == codec {
                check(codec, v, bytes)
            } else {
                Ok(())
            }
        }
        Value::Move(v) => check(codec, v, bytes),
        Value::View(v) => check(codec, v, bytes),
        Value::ArenaInput(v) => check(codec, v, bytes),
        Value::ArenaView(v) => check(codec, v, bytes),
        Value::ArenaDelta(v) => check(codec, v, bytes),
        Value::BsOptions(v) => check(codec, v, bytes),
        Value::BsShot(v) => check(codec, v, bytes),
        Value::BsView(v) => check(codec, v, bytes),
        Value::BsEvent(v) => check(codec, v, bytes),
    }
}

#[test]
fn every_vector_encodes_and_decodes_byte_for_byte() -> Result<()> {
    let vectors = parse_vectors(PROTOCOL_MD)?;
    ensure!(!vectors.is_empty(), "no vector blocks in PROTOCOL.md");
    let mut failures = Vec::new();
    for vector in &vectors {
        if let Err(e) = check_vector(vector) {
            failures.push(format!("{} ({:?}): {e:#}", vector.name, vector.codec));
        }
    }
    ensure!(failures.is_empty(), "\n{}", failures.join("\n"));
    Ok(())
}

#[test]
fn every_name_appears_once_per_codec() -> Result<()> {
    let vectors = parse_vectors(PROTOCOL_MD)?;
    let expected: BTreeSet<&str> = NAMES.iter().copied().collect();
    ensure!(expected.len() == NAMES.len(), "NAMES has duplicates");
    for codec in Codec::ALL {
        let expected: BTreeSet<&str> = names_of(codec).iter().copied().collect();
        let names: Vec<&str> = vectors
            .iter()
            .filter(|v| v.codec == codec)
            .map(|v| v.name.as_str())
            .collect();
        let found: BTreeSet<&str> = names.iter().copied().collect();
        ensure!(
            found.len() == names.len(),
            "{codec:?}: a name appears twice"
        );
        let missing: Vec<_> = expected.difference(&found).collect();
        let unknown: Vec<_> = found.difference(&expected).collect();
        ensure!(
            missing.is_empty() && unknown.is_empty(),
            "{codec:?}: missing {missing:?}, unknown {unknown:?}"
        );
    }
    Ok(())
}

#[test]
fn unknown_names_have_no_value() -> Result<()> {
    ensure!(value("no_such_vector", Codec::Bincode)?.is_none());
    for name in NAMES {
        ensure!(
            value(name, Codec::MsgPack)?.is_some(),
            "{name} has no value"
        );
    }
    Ok(())
}

#[test]
fn parser_rejects_malformed_blocks() {
    let bad = [
        "```vector\nname: x\ncodec: bincode\nhex: 0A\n```\n",
        "```vector\nname: x\ncodec: json\nhex: 00\n```\n",
        "```vector\nname: x\ncodec: bincode\nhex: 000\n```\n",
        "```vector\nname: x\ncodec: bincode\n```\n",
        "```vector\nname: x\n  00\ncodec: bincode\nhex: 00\n```\n",
        "```vector\nname: x\ncodec: bincode\nhex: 00\n",
    ];
    for doc in bad {
        assert!(parse_vectors(doc).is_err(), "accepted {doc:?}");
    }
    let good = "```vector\nname: x\ncodec: msgpack\nhex: 00 01\n  ff\n```\n";
    let parsed = parse_vectors(good).unwrap();
    assert_eq!(parsed[0].bytes, [0, 1, 0xff]);
    assert_eq!(parsed[0].codec, Codec::MsgPack);
}

/// Prints a vector block for every name, for pasting into PROTOCOL.md.
#[test]
#[ignore = "prints PROTOCOL.md vector blocks; run by hand when adding vectors"]
fn print_vectors() -> Result<()> {
    for name in NAMES {
        for codec in Codec::ALL {
            if !names_of(codec).contains(name) {
                continue;
            }
            let bytes = match value(name, codec)?.context("no value")? {
                Value::Client(v) => codec.encode(&v)?,
                Value::Server(v) => crate::support::as_sent(codec, &v),
                Value::Move(v) => codec.encode(&v)?,
                Value::View(v) => codec.encode(&v)?,
                Value::ArenaInput(v) => codec.encode(&v)?,
                Value::ArenaView(v) => codec.encode(&v)?,
                Value::ArenaDelta(v) => codec.encode(&v)?,
                Value::BsOptions(v) => codec.encode(&v)?,
                Value::BsShot(v) => codec.encode(&v)?,
                Value::BsView(v) => codec.encode(&v)?,
                Value::BsEvent(v) => codec.encode(&v)?,
            };
            let codec_name = codec_name(codec);
            let lines: Vec<String> = bytes.chunks(16).map(to_hex).collect();
            println!(
                "```vector\nname: {name}\ncodec: {codec_name}\nhex: {}\n```",
                lines.join("\n  ")
            );
        }
    }
    Ok(())
}
