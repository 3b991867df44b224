//! Release builds of the `ticksync` server lay its code out in the order of
//! `link/ticksync.order`: the functions a server runs (starting, then serving the arena and
//! tic-tac-toe loads), hottest first, packed together at the start of the text, and the
//! rest after (lld's `--symbol-ordering-file`). A serving process then has about 1.8 MB less
//! of the binary resident, and a load's first connections page in a third of the code they
//! did (link/README.md, BENCHMARKS.md "Eighteenth session").
//!
//! Only where rustc links with lld by itself (x86_64 Linux, Rust 1.90 and later) and no
//! other linker is configured; `TICKSYNC_NO_LINK_ORDER=1` turns it off. Names in the file
//! that the binary does not have (a dependency or the toolchain updated since the file was
//! made) are skipped silently: the layout is then only partly ordered, never wrong;
//! `link/refresh.sh` makes the file again.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/ticksync.order");
    println!("cargo:rerun-if-env-changed=TICKSYNC_NO_LINK_ORDER");
    let Some((order, rustc)) = link_order() else {
        return;
    };
    println!(
        "cargo:rustc-link-arg-bin=ticksync=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bin=ticksync=-Wl,--no-warn-symbol-ordering");
    // The file's first line names the rustc it was made with (lld skips `#` lines): a new
    // toolchain renames every symbol, so the order would no longer apply.
    let made_with = std::fs::read_to_string(&order)
        .ok()
        .and_then(|text| text.lines().next().map(str::to_owned))
        .and_then(|line| line.strip_prefix("# ").map(str::to_owned));
    if made_with.as_deref().is_some_and(|made| made != rustc) {
        println!(
            "cargo:warning=link/ticksync.order was made with {}, this build uses {rustc}: \
             its names no longer match (link/check.sh); link/refresh.sh makes it again",
            made_with.unwrap_or_default()
        );
    }
}

/// The order file and this rustc's version line, when this build should use the file.
fn link_order() -> Option<(PathBuf, String)> {
    let var = |name: &str| env::var(name).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || env::var_os("TICKSYNC_NO_LINK_ORDER").is_some_and(|v| v != "0")
        // A linker of the builder's own choosing may not take lld's option.
        || env::var_os("RUSTC_LINKER").is_some()
        || var("CARGO_ENCODED_RUSTFLAGS").contains("link")
    {
        return None;
    }
    let rustc = rustc_with_lld()?;
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/ticksync.order");
    order.is_file().then_some((order, rustc))
}

/// This rustc's version line ("rustc 1.95.0 (59807616e 2026-04-14)"), when it links x86_64
/// Linux programs with its own lld (1.90 and later).
fn rustc_with_lld() -> Option<String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let minor = version
        .strip_prefix("rustc 1.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok())?;
    (minor >= 90).then_some(version)
}
