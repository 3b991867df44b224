//! Replays every committed fuzz case through the fuzz targets' own bodies, on the stable
//! toolchain: `fuzz/corpus/<target>/` (the minimized corpus) and `fuzz/regressions/<target>/`
//! (every crash the fuzzer found, kept after its fix). The bodies live in
//! `ticksync::fuzzing`; fuzz/README.md says how the corpus was made and how to grow it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use ticksync::fuzzing::TARGETS;

/// Fewest committed cases a target may have: fewer means the corpus went missing.
const MIN_CASES: usize = 10;

fn cases(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let body = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = cases(&fuzz.join("corpus").join(target));
    let regressions = cases(&fuzz.join("regressions").join(target));
    let failed: Vec<String> = corpus
        .iter()
        .chain(&regressions)
        .filter(|path| {
            let data = std::fs::read(path).expect("readable corpus file");
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: these cases panic: {failed:#?}"
    );
    assert!(
        corpus.len() >= MIN_CASES,
        "{target}: {} corpus files under fuzz/corpus/{target}",
        corpus.len()
    );
}

#[test]
fn fuzz_corpus_client_msg_bincode_replays() {
    replay("client_msg_bincode");
}

#[test]
fn fuzz_corpus_client_msg_msgpack_replays() {
    replay("client_msg_msgpack");
}

#[test]
fn fuzz_corpus_game_tictactoe_replays() {
    replay("game_tictactoe");
}

#[test]
fn fuzz_corpus_game_arena_replays() {
    replay("game_arena");
}

#[test]
fn fuzz_corpus_handshake_replays() {
    replay("handshake");
}

#[test]
fn every_fuzz_target_has_a_replay_test_and_a_target_file() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let this = include_str!("fuzz_corpus.rs");
    for (name, _) in TARGETS {
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs"
        );
        assert!(
            this.contains(&format!("replay(\"{name}\")")),
            "{name} is replayed"
        );
    }
}
