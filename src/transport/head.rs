//! The first request of a connection, read before hyper sees it: a WebSocket upgrade is
//! answered here, without hyper; anything else goes to hyper with the bytes read so far.
//!
//! Why: hyper starts every connection with an 8 KiB read buffer and an 8 KiB write buffer
//! (its `INIT_BUFFER_SIZE`, not configurable). A burst of joins keeps many of those alive
//! at once, and the holes they leave in the heap stayed as server memory (BENCHMARKS.md,
//! "Down to the transport floor"). An upgrade request is a few hundred bytes; its head is
//! read here into a buffer that starts at [`FIRST_READ_BYTES`] and doubles up to the
//! limit, parsed with `httparse` (hyper's own parser), and checked by the same code as
//! before ([`super::handshake`], the guard, the connection cap).
//!
//! Only a plain upgrade takes this path: `GET`, HTTP/1.1, `Upgrade: websocket`, no body,
//! at most [`MAX_HEADERS`] headers, names and values `http` accepts. Anything else (other
//! requests, a head that does not parse, a larger one, an upgrade with a body) is handed to
//! hyper unchanged ([`Head::Other`] and [`Prefixed`]), which serves or refuses it exactly
//! as before, upgrades included.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Request, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The head buffer's first size: a WebSocket upgrade from a game client or a browser
/// without cookies fits (the loadgen's is about 250 bytes).
pub(crate) const FIRST_READ_BYTES: usize = 512;
/// Headers parsed on the fast path; a request with more goes to hyper (which takes 100).
pub(crate) const MAX_HEADERS: usize = 48;

/// What the first bytes of a connection were.
#[derive(Debug)]
pub(crate) enum Head {
    /// A WebSocket upgrade request (no body), and the bytes read after its head (a
    /// client may send its first frame without waiting for the answer).
    Upgrade(Box<Request<()>>, Bytes),
    /// Anything else: every byte read so far, for hyper to read first.
    Other(Bytes),
    /// The client closed before sending anything.
    Closed,
}

/// Reads until a request head is complete, `limit` bytes are read, or the stream ends.
///
/// # Errors
/// The stream's read error.
pub(crate) async fn read<S: AsyncRead + Unpin>(stream: &mut S, limit: usize) -> io::Result<Head> {
    let mut buf: Vec<u8> = Vec::with_capacity(FIRST_READ_BYTES.min(limit));
    loop {
        if buf.len() == buf.capacity() {
            let more = buf.capacity().min(limit - buf.len());
            buf.reserve_exact(more);
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(if buf.is_empty() {
                Head::Closed
            } else {
                Head::Other(buf.into())
            });
        }
        match parse(&buf) {
            Parsed::Partial if buf.len() < limit => continue,
            Parsed::Partial | Parsed::Other => return Ok(Head::Other(buf.into())),
            Parsed::Upgrade(request, len) => {
                return Ok(Head::Upgrade(request, Bytes::copy_from_slice(&buf[len..])));
            }
        }
    }
}

enum Parsed {
    /// A plain WebSocket upgrade whose head is this many bytes.
    Upgrade(Box<Request<()>>, usize),
    Partial,
    /// Not for the fast path.
    Other,
}

/// Parses `buf` as a request head (a separate function so that the header array lives on
/// the stack only while parsing, not in the connection's future).
fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    if parsed.method != Some("GET") || parsed.version != Some(1) {
        return Parsed::Other;
    }
    let mut builder = Request::get(parsed.path.unwrap_or("/")).version(Version::HTTP_11);
    for h in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return Parsed::Other;
        };
        builder = builder.header(name, value);
    }
    let Ok(request) = builder.body(()) else {
        return Parsed::Other;
    };
    let headers = request.headers();
    // Every `Content-Length`: a request with two (one of them 0) is for hyper to refuse.
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get_all(header::CONTENT_LENGTH)
            .iter()
            .any(|v| v.as_bytes() != b"0");
    if has_body || !super::handshake::is_upgrade_request(&request) {
        return Parsed::Other;
    }
    Parsed::Upgrade(Box::new(request), len)
}

/// A stream whose first bytes are `prefix` (already read from `inner`); writes go to
/// `inner`. Hands hyper a connection whose first request was read by [`read`], and
/// tungstenite a connection's bytes read past its upgrade request (`ReaderIo`). The
/// prefix's memory is let go once it is read.
pub(crate) struct Prefixed<S> {
    prefix: Bytes,
    inner: S,
}

impl<S> Prefixed<S> {
    pub(crate) fn new(prefix: Bytes, inner: S) -> Prefixed<S> {
        Prefixed { prefix, inner }
    }

    /// The stream, past the prefix.
    pub(crate) fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The prefix's bytes not read yet, and the stream.
    pub(crate) fn into_parts(self) -> (Bytes, S) {
        (self.prefix, self.inner)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.has_remaining() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            if this.prefix.is_empty() {
                this.prefix = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The bytes of an HTTP/1.1 response with a complete body, ending the connection
/// (`Connection: close`): a refused upgrade on the fast path.
pub(crate) fn response_bytes(head: &hyper::http::response::Parts, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(head.status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(
        head.status
            .canonical_reason()
            .unwrap_or("Unknown")
            .as_bytes(),
    );
    out.extend_from_slice(b"\r\n");
    let switching = head.status == hyper::StatusCode::SWITCHING_PROTOCOLS;
    for (name, value) in &head.headers {
        if !switching && (name == header::CONNECTION || name == header::CONTENT_LENGTH) {
            continue;
        }
        header_line(&mut out, name.as_str(), value.as_bytes());
    }
    if !switching {
        header_line(
            &mut out,
            "content-length",
            itoa::Buffer::new().format(body.len()).as_bytes(),
        );
        header_line(&mut out, "connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn header_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"GET /?token=a.b.c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\
        Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: ticksync.bincode.v1\r\n\r\n";

    /// A reader that hands out `bytes` `chunk` bytes at a time.
    struct Chunks {
        bytes: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl AsyncRead for Chunks {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let end = (this.at + this.chunk)
                .min(this.bytes.len())
                .min(this.at + buf.remaining());
            buf.put_slice(&this.bytes[this.at..end]);
            this.at = end;
            Poll::Ready(Ok(()))
        }
    }

    fn read_all(bytes: &[u8], chunk: usize, limit: usize) -> Head {
        let mut stream = Chunks {
            bytes: bytes.to_vec(),
            at: 0,
            chunk,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(read(&mut stream, limit))
            .unwrap()
    }

    #[test]
    fn an_upgrade_is_read_whole_or_byte_by_byte_with_what_follows_it() {
        let mut bytes = UPGRADE.to_vec();
        bytes.extend_from_slice(&[0x82, 0x01, 0x00]);
        for chunk in [1, 7, 4096] {
            let Head::Upgrade(request, ahead) = read_all(&bytes, chunk, 16 * 1024) else {
                panic!("chunk {chunk}: not an upgrade");
            };
            assert_eq!(request.uri().query(), Some("token=a.b.c"));
            assert_eq!(request.headers().len(), 6);
            assert_eq!(
                super::super::handshake::check(&request).unwrap().accept_key,
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
            );
            // Byte by byte, the head completes before the frame is read.
            let expected: &[u8] = if chunk == 1 { &[] } else { &[0x82, 0x01, 0x00] };
            if chunk != 7 {
                assert_eq!(&ahead[..], expected, "chunk {chunk}");
            }
        }
    }

    #[test]
    fn everything_else_goes_to_hyper_with_every_byte_read() {
        let post = b"POST / HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n";
        let plain = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n";
        let old = b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n";
        let body = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc";
        let chunked = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n";
        let two = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n";
        let garbage = b"\x16\x03\x01\x02\x00 hello\r\n\r\n";
        for bytes in [&post[..], plain, old, body, chunked, two, garbage] {
            let Head::Other(read) = read_all(bytes, 4096, 16 * 1024) else {
                panic!("{:?}", String::from_utf8_lossy(bytes));
            };
            assert_eq!(&read[..], bytes);
        }
        let mut many = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let Head::Other(read) = read_all(&many, 4096, 16 * 1024) else {
            panic!("too many headers took the fast path");
        };
        assert_eq!(read.len(), many.len());
    }

    #[test]
    fn a_head_past_the_limit_or_cut_short_goes_to_hyper() {
        let long = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 3000]].concat();
        let Head::Other(read) = read_all(&long, 100, 1024) else {
            panic!("a head past the limit was kept");
        };
        assert_eq!(read.len(), 1024);
        let Head::Other(read) = read_all(&UPGRADE[..40], 4096, 1024) else {
            panic!("a head cut short");
        };
        assert_eq!(&read[..], &UPGRADE[..40]);
        assert!(matches!(read_all(b"", 4096, 1024), Head::Closed));
    }

    #[test]
    fn a_prefixed_stream_reads_its_prefix_then_the_stream() {
        let stream = Chunks {
            bytes: b"world".to_vec(),
            at: 0,
            chunk: 2,
        };
        let mut prefixed = Prefixed::new(Bytes::from_static(b"hello "), stream);
        let mut out = Vec::new();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let mut byte = [0u8; 4];
                loop {
                    let n = prefixed.read(&mut byte).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&byte[..n]);
                }
            });
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn an_answer_is_a_whole_response_and_a_refusal_closes() {
        let response = hyper::Response::builder()
            .status(hyper::StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, "3")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(())
            .unwrap();
        let (head, ()) = response.into_parts();
        let bytes = response_bytes(&head, b"slow down\n");
        let switching = hyper::Response::builder()
            .status(hyper::StatusCode::SWITCHING_PROTOCOLS)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "Upgrade")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert_eq!(
            String::from_utf8(response_bytes(&switching, b"")).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n"
        );
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 3\r\ncontent-type: text/plain\r\n\
             content-length: 10\r\nconnection: close\r\n\r\nslow down\n"
        );
    }
}
