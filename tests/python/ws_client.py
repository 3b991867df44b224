"""A client on the Python `websockets` library (not ours) for tests/it/python_client.rs.

Usage: ws_client.py URL SUBPROTOCOL COUNT AFTER:HEX [AFTER:HEX ...]

Sends each HEX as a binary message once AFTER binary messages have been received, then
reads until COUNT binary messages came in total, pings the server and
waits for its pong, closes with 1000 and waits for the server's close. Prints one line
per binary message received, `msg HEX`, then `pong ok` and `close CODE`. Exits non-zero
(with the reason on stderr) on any protocol error, a text message or a timeout.
"""

import sys

from websockets.sync.client import connect

WAIT = 20.0


def main() -> int:
    url, subprotocol, count, *messages = sys.argv[1:]
    count = int(count)
    received = 0
    with connect(url, subprotocols=[subprotocol], compression=None, open_timeout=WAIT,
                 ping_interval=None, close_timeout=WAIT) as ws:
        if ws.subprotocol != subprotocol:
            print(f"server chose subprotocol {ws.subprotocol!r}", file=sys.stderr)
            return 1
        def receive() -> bool:
            nonlocal received
            message = ws.recv(timeout=WAIT)
            if not isinstance(message, bytes):
                print("a text message", file=sys.stderr)
                return False
            print("msg", message.hex(), flush=True)
            received += 1
            return True

        for step in messages:
            after, hex_message = step.split(":")
            while received < int(after):
                if not receive():
                    return 1
            ws.send(bytes.fromhex(hex_message))
        while received < count:
            if not receive():
                return 1
        if not ws.ping().wait(WAIT):
            print("no pong", file=sys.stderr)
            return 1
        print("pong ok", flush=True)
        ws.close(1000)
        rcvd = ws.protocol.close_rcvd
        print("close", rcvd.code if rcvd is not None else "none", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
