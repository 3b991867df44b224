#!/usr/bin/env python3
"""Keeps a target's corpus small: a greedy cover of its coverage edges, at most N files.

`cargo fuzz cmin` keeps every file that adds a feature, which for a decoder means one file
per error path (decoding stops at the first error), thousands of them. This runs the
target's libFuzzer set-cover merge over corpus/<target> without hit counters (so each
feature it lists is an edge) to learn every file's edges, then picks, again and again, the
file that covers the most edges not yet covered (the smaller on a tie), until every edge
is covered or N files are chosen. It replaces corpus/<target> with the chosen files and
prints what share of the edges they keep.

Usage, from fuzz/, after `cargo fuzz build --sanitizer none <target>`:
    python3 trim_corpus.py <target> [N=300]
"""

import os
import subprocess
import sys
import tempfile


def main() -> None:
    target = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    binary = f"target/x86_64-unknown-linux-gnu/release/{target}"
    corpus = f"corpus/{target}"
    with tempfile.TemporaryDirectory() as tmp:
        control = os.path.join(tmp, "control")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        subprocess.run(
            # set_cover_merge lists every feature of every file (a plain merge lists only
            # the features new at that file); without counters a feature is an edge.
            [
                binary,
                "-set_cover_merge=1",
                "-use_counters=0",
                f"-merge_control_file={control}",
                out,
                corpus,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(control) as f:
            lines = f.read().splitlines()
        count = int(lines[0])
        files = lines[2 : 2 + count]
        edges: dict[int, set[int]] = {}
        for line in lines[2 + count :]:
            parts = line.split()
            if parts and parts[0] == "FT":
                edges[int(parts[1])] = set(map(int, parts[2:]))
        everything = set().union(*edges.values()) if edges else set()
        covered: set[int] = set()
        chosen: list[int] = []
        size = {i: os.path.getsize(files[i]) for i in edges}
        while len(chosen) < limit:
            best = max(
                edges,
                key=lambda i: (len(edges[i] - covered), -size[i]),
                default=None,
            )
            if best is None or not edges[best] - covered:
                break
            chosen.append(best)
            covered |= edges.pop(best)
        keep = {files[i] for i in chosen}
        for name in os.listdir(corpus):
            path = os.path.join(corpus, name)
            if path not in keep:
                os.remove(path)
        print(
            f"{target}: kept {len(chosen)} of {count} files, "
            f"{sum(size[i] for i in chosen)} bytes, "
            f"covering {len(covered)} of {len(everything)} edges"
        )


if __name__ == "__main__":
    main()
