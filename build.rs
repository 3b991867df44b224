//! Release builds of the `ticksync` server lay its code out in the order of
//! `link/ticksync.order`: the functions a server runs (starting, then serving the arena and
//! tic-tac-toe loads), hottest first, packed together at the start of the text, and the
//! rest after (lld's `--symbol-ordering-file`). A serving process then has about 1.8 MB less
//! of the binary resident, and a load's first connections page in a third of the code they
//! did (link/README.md, BENCHMARKS.md "Eighteenth session").
//!
//! Only on x86_64 Linux, where no other linker is configured and rustc's linker takes the
//! option (checked by linking an empty program with it: rustc's own lld, the default from
//! Rust 1.90 as the Rust project builds it); `TICKSYNC_NO_LINK_ORDER=1` turns it off. Names
//! in the file that the binary does not have (a dependency or the toolchain updated since
//! the file was made) are skipped silently: the layout is then only partly ordered, never
//! wrong; `link/refresh.sh` makes the file again.

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
    let text = std::fs::read_to_string(&order).unwrap_or_default();
    if let Some(made) = text.lines().next().and_then(|line| line.strip_prefix("# "))
        && made != rustc
    {
        println!(
            "cargo:warning=link/ticksync.order was made with {made}, this build uses {rustc}: \
             its names no longer match (link/check.sh); link/refresh.sh makes it again"
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
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/ticksync.order");
    if !order.is_file() {
        return None;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc).arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    links_with_ordering(&rustc, &var("TARGET"), &var("OUT_DIR")).then_some((order, version))
}

/// Whether this rustc's linker takes the options: an empty program linked with them and
/// an empty order. rustc links with its own lld from 1.90 as the Rust project builds it;
/// a toolchain built otherwise (some distributions') links with the system's `ld`, which
/// does not know them.
fn links_with_ordering(rustc: &str, target: &str, out_dir: &str) -> bool {
    let dir = Path::new(out_dir).join("link-probe");
    if std::fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let (source, order) = (dir.join("probe.rs"), dir.join("probe.order"));
    if std::fs::write(&source, "fn main() {}\n").is_err()
        || std::fs::write(&order, "main\n").is_err()
    {
        return false;
    }
    Command::new(rustc)
        .arg("--target")
        .arg(target)
        .arg("--crate-name")
        .arg("probe")
        .arg("-C")
        .arg(format!(
            "link-arg=-Wl,--symbol-ordering-file={}",
            order.display()
        ))
        .arg("-C")
        .arg("link-arg=-Wl,--no-warn-symbol-ordering")
        .arg("--out-dir")
        .arg(&dir)
        .arg(&source)
        .output()
        .is_ok_and(|out| out.status.success())
}
