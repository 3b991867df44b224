//! A WebSocket connection's socket, split between its reader and its writer.
//!
//! Once the upgrade is answered the connection's byte stream is split: a plain TCP stream
//! into its owned halves (no lock between them), anything else (TLS) with
//! [`tokio::io::split`] ([`Socket`]). Bytes already read past the request are served
//! first. Most upgrades never reach hyper ([`super::head`]); one that did is taken back
//! from it ([`split`]).
//!
//! The **read half** becomes a [`ReaderIo`], under tokio-tungstenite, which reads and checks
//! every client frame and answers pings and close frames by *writing* them. Those writes
//! never reach the socket directly: [`ReaderIo`] hands them to the connection's outbox as
//! raw control frames, and the writer sends them in its next batch. The writer is the only
//! one to write to the **write half**, so frames never interleave.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::head::Prefixed;
use crate::outbox::Outbox;

/// A byte stream of any kind (TLS, or one hyper upgraded), boxed.
pub(crate) trait AnyIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AnyIo for T {}
type BoxedIo = Box<dyn AnyIo>;

/// The read half of a connection's stream.
pub(crate) enum ConnRead {
    Tcp(OwnedReadHalf),
    Other(ReadHalf<BoxedIo>),
}

/// The write half of a connection's stream, owned by its writer.
pub(crate) enum ConnWrite {
    Tcp(OwnedWriteHalf),
    Other(WriteHalf<BoxedIo>),
}

/// The halves of a connection's socket, and the bytes already read from it past the
/// upgrade request.
pub(crate) struct Halves {
    pub(crate) read: ConnRead,
    pub(crate) ahead: Bytes,
    pub(crate) write: ConnWrite,
}

/// An accepted connection's stream, as it comes from the accept loop.
pub(crate) trait Socket: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// Splits the stream into what the reader and the writer own.
    fn into_halves(self) -> (ConnRead, ConnWrite);
}

impl Socket for TcpStream {
    fn into_halves(self) -> (ConnRead, ConnWrite) {
        let (read, write) = self.into_split();
        (ConnRead::Tcp(read), ConnWrite::Tcp(write))
    }
}

impl Socket for tokio_rustls::server::TlsStream<TcpStream> {
    fn into_halves(self) -> (ConnRead, ConnWrite) {
        let (read, write) = tokio::io::split(Box::new(self) as BoxedIo);
        (ConnRead::Other(read), ConnWrite::Other(write))
    }
}

/// Splits a connection hyper upgraded.
pub(crate) fn split(upgraded: Upgraded) -> Halves {
    match upgraded.downcast::<TokioIo<Prefixed<TcpStream>>>() {
        Ok(parts) => {
            let (prefix, stream) = parts.io.into_inner().into_parts();
            let (read, write) = stream.into_halves();
            // `read_buf` is a view of hyper's whole read buffer (8 KiB or more): keeping it
            // would keep that buffer alive for the connection's life. The few bytes read
            // ahead (usually a `Hello`, or none), and any of the prefix hyper had not read,
            // are copied out instead.
            let mut ahead = Vec::with_capacity(parts.read_buf.len() + prefix.len());
            ahead.extend_from_slice(&parts.read_buf);
            ahead.extend_from_slice(&prefix);
            Halves {
                read,
                ahead: ahead.into(),
                write,
            }
        }
        Err(upgraded) => {
            let (read, write) = tokio::io::split(Box::new(TokioIo::new(upgraded)) as BoxedIo);
            Halves {
                read: ConnRead::Other(read),
                ahead: Bytes::new(),
                write: ConnWrite::Other(write),
            }
        }
    }
}

impl AsyncRead for ConnRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnRead::Tcp(read) => Pin::new(read).poll_read(cx, buf),
            ConnRead::Other(read) => Pin::new(read).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ConnWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ConnWrite::Tcp(write) => Pin::new(write).poll_write(cx, buf),
            ConnWrite::Other(write) => Pin::new(write).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ConnWrite::Tcp(write) => Pin::new(write).poll_write_vectored(cx, bufs),
            ConnWrite::Other(write) => Pin::new(write).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ConnWrite::Tcp(write) => write.is_write_vectored(),
            ConnWrite::Other(write) => write.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnWrite::Tcp(write) => Pin::new(write).poll_flush(cx),
            ConnWrite::Other(write) => Pin::new(write).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnWrite::Tcp(write) => Pin::new(write).poll_shutdown(cx),
            ConnWrite::Other(write) => Pin::new(write).poll_shutdown(cx),
        }
    }
}

/// What tokio-tungstenite reads from and "writes" to: reads come from the socket (after
/// the bytes already read past the upgrade request); writes (pongs, close replies, already framed) go to the
/// outbox for the writer to send.
pub(crate) struct ReaderIo {
    read: Prefixed<ConnRead>,
    outbox: Arc<Outbox>,
}

impl ReaderIo {
    pub(crate) fn new(read: ConnRead, ahead: Bytes, outbox: Arc<Outbox>) -> ReaderIo {
        ReaderIo {
            read: Prefixed::new(ahead, read),
            outbox,
        }
    }
}

impl AsyncRead for ReaderIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().read).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReaderIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Closed, or the client made us queue too many control frames (the outbox is
        // then closing the connection): the bytes are dropped, and the writer's close
        // ends the connection.
        self.outbox.push_control(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl ReaderIo {
    /// The socket's read half, to drain after the close.
    pub(crate) fn read_half(&mut self) -> &mut ConnRead {
        self.read.inner_mut()
    }
}
