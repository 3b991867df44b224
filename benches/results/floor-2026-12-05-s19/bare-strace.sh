#!/usr/bin/env bash
# Syscalls of the bare server per three frames (its mix: 1.8 out, 1.2 in), the arena at N
# clients (30 frames out and 20 in a second each): `strace -c -f` on the server for 8 s of a
# 20 s load, as ../profile/ttt-strace.sh does for ticksync's ttt.
# usage: [OUT=dir] bare-strace.sh [N]
set -u
n=${1:-200}; out=${OUT:-/tmp/bare-strace}; mkdir -p "$out"; B=/tmp/baseline-target/release/baseline
PORT=$((29100 + RANDOM % 300))
$B server --addr 127.0.0.1:$PORT --hz 30 --room-size 8 --frame-bytes 60 > $out/bare.server.log 2>&1 &
spid=$!
sleep 0.5
$B client --url ws://127.0.0.1:$PORT --clients $n --seconds 20 --input-hz 20 --server-pid $spid > $out/bare.client.log 2>&1 &
lp=$!
sleep 6
timeout -s INT 8 strace -c -f -p $spid -o $out/bare.strace > /dev/null 2>&1
wait $lp; kill -9 $spid
fr=$((n*50*8))
awk -v fr=$fr '$NF ~ /^(sendto|recvfrom|epoll_wait|writev|sendmsg|futex|write|read|total)$/ {printf "  %-12s %8d calls  %.3f per 3 frames\n", $NF, $4, $4/fr*3}' $out/bare.strace
