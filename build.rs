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
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/ticksync.order");
    println!("cargo:rerun-if-env-changed=TICKSYNC_NO_LINK_ORDER");
    if let Some(order) = link_order() {
        println!(
            "cargo:rustc-link-arg-bin=ticksync=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=ticksync=-Wl,--no-warn-symbol-ordering");
    }
}

/// The order file, when this build should use it.
fn link_order() -> Option<std::path::PathBuf> {
    let var = |name: &str| env::var(name).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || env::var_os("TICKSYNC_NO_LINK_ORDER").is_some_and(|v| v != "0")
        // A linker of the builder's own choosing may not take lld's option.
        || env::var_os("RUSTC_LINKER").is_some()
        || var("CARGO_ENCODED_RUSTFLAGS").contains("link")
        || !rustc_links_with_lld()
    {
        return None;
    }
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/ticksync.order");
    order.is_file().then_some(order)
}

/// Whether this rustc links x86_64 Linux programs with its own lld (1.90 and later).
fn rustc_links_with_lld() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("--version").output() else {
        return false;
    };
    let version = String::from_utf8_lossy(&out.stdout);
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let minor = version
        .strip_prefix("rustc 1.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok());
    minor >= Some(90)
}
