import subprocess, sys, re
def load(path, inclusive):
    out = subprocess.run(['callgrind_annotate', '--inclusive=' + ('yes' if inclusive else 'no'), '--threshold=100', path], capture_output=True, text=True).stdout
    rows = {}
    total = None
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$', line)
        if not m: continue
        v = int(m.group(1).replace(',', '')); name = m.group(2)
        if 'PROGRAM TOTALS' in name: total = v; continue
        rows[name] = rows.get(name, 0) + v
    return total, rows
def pick(rows, pats):
    return sum(v for k, v in rows.items() if any(re.search(p, k) for p in pats))
cats = [
 ('tick: shard ticks incl. deltas and outbox puts (with_deferred_wakes)', True, [r'ticksync::outbox::with_deferred_wakes ']),
 ('  of which delta building + encoding (FrameCache::delta)', True, [r'FrameCache::delta ']),
 ('writer: envelope encode + WebSocket framing + send call (before: encode_snapshot + SplitSink flush/feed; after: Frames::batch + write_frames)', True, [r'writer::encode_snapshot ', r'SplitSink<S,Item> as futures_sink::Sink<Item>>::poll_flush', r'SplitSink<S,Item> as futures_sink::Sink<Item>>::start_send', r'SplitSink<S,Item> as futures_sink::Sink<Item>>::poll_ready', r'writer::Frames::batch ', r'writer::write_frames']),
 ('reader: tungstenite frame reading (WebSocketStream::poll_next)', True, [r'WebSocketStream<T> as futures_core::stream::Stream>::poll_next ']),
 ('decode client messages (Codec::decode_client_msg)', True, [r'Codec::decode_client_msg ']),
 ('input routing: dispatch to lobby/shard inbox', True, [r'transport::dispatch::dispatch::\{\{closure\}\} ']),
 ('allocation: malloc/free/realloc (self)', False, [r'malloc\.c:', r'__libc_malloc', r'__libc_free', r'_int_']),
 ('wake-ups: Notify/waker registration + wake (self)', False, [r'notify::', r'atomic_waker', r'wake_by', r'schedule_local', r'schedule_remote', r'Notified']),
 ('timers: Sleep/timer entries (self)', False, [r'tokio::time::sleep', r'time::entry', r'TimerEntry', r'timer::', r'time::wheel']),
 ('idle/park: worker park incl. epoll (Context::park_internal)', True, [r'worker::Context::park_internal ']),
 ('startup (ticksync::main thread: runtime build, quanta calibration, accept loop)', True, [r'\?\?\?:ticksync::main ']),
]
labels = sys.argv[1::2]; paths = sys.argv[2::2]
data = [(load(p, True), load(p, False)) for p in paths]
print('| part | ' + ' | '.join(f'{l} (Ir, %)' for l in labels) + ' |')
print('|---|' + '---:|' * len(labels))
print('| **total** | ' + ' | '.join(f'{d[0][0]:,}' for d in data) + ' |')
for name, inc, pats in cats:
    cells = []
    for (ti, ri), (ts, rs) in data:
        v = pick(ri if inc else rs, pats)
        cells.append(f'{v:,} ({100*v/ti:.1f}%)')
    print(f'| {name} | ' + ' | '.join(cells) + ' |')
