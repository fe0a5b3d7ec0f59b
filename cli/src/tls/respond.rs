//! What `tls serve` does with an established connection: answer an HTTP/1.1 request with a
//! short 200 naming the peer, or echo bytes back until EOF.

use meshtls_tls_core::spiffe::SpiffeId;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Request methods recognised at the start of the first bytes (RFC 9110, 9.1).
const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// Largest request head (request line + headers) we read before answering anyway.
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body we drain before answering (so closing does not reset the peer).
const MAX_BODY: usize = 1 << 20;

/// What the first bytes say the peer speaks.
#[derive(Debug, PartialEq, Eq)]
enum Protocol {
    Http,
    Echo,
    /// Too few bytes yet: they are a prefix of some request method.
    Undecided,
}

fn classify(first: &[u8]) -> Protocol {
    if METHODS.iter().any(|m| first.starts_with(m)) {
        Protocol::Http
    } else if METHODS.iter().any(|m| m.starts_with(first)) {
        Protocol::Undecided
    } else {
        Protocol::Echo
    }
}

/// Serves one connection until the peer's EOF (echo) or the response is sent (HTTP), then
/// closes our side.
pub(crate) async fn serve<S>(mut io: S, peer: &SpiffeId) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = io.read(&mut chunk).await?;
        buf.extend_from_slice(&chunk[..n]);
        match classify(&buf) {
            Protocol::Http => return http(io, buf, peer).await,
            Protocol::Echo => {
                io.write_all(&buf).await?;
                return echo(io, &mut chunk).await;
            }
            Protocol::Undecided if n == 0 => {
                io.write_all(&buf).await?;
                return io.shutdown().await;
            }
            Protocol::Undecided => {}
        }
    }
}

async fn echo<S>(mut io: S, chunk: &mut [u8]) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let n = io.read(chunk).await?;
        if n == 0 {
            return io.shutdown().await;
        }
        io.write_all(&chunk[..n]).await?;
    }
}

async fn http<S>(mut io: S, mut buf: Vec<u8>, peer: &SpiffeId) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut chunk = vec![0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break Some(i + 4);
        }
        if buf.len() > MAX_HEAD {
            break None;
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            break None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    // Drain a declared body so that closing does not reset the connection under the reply.
    if let Some(end) = head_end {
        let mut left = content_length(&buf[..end])
            .unwrap_or(0)
            .min(MAX_BODY)
            .saturating_sub(buf.len() - end);
        while left > 0 {
            let n = io.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
    }
    let body = format!("hello {peer}\n");
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !buf.starts_with(b"HEAD ") {
        response.push_str(&body);
    }
    io.write_all(response.as_bytes()).await?;
    io.shutdown().await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The Content-Length header of a request head, if present and numeric.
fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head)
        .lines()
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SpiffeId {
        SpiffeId::parse("spiffe://example.org/client").unwrap()
    }

    async fn exchange(request: &[u8]) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let id = peer();
        let task = tokio::spawn(async move { serve(server, &id).await });
        client.write_all(request).await.unwrap();
        client.shutdown().await.unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        task.await.unwrap().unwrap();
        reply
    }

    #[test]
    fn classifies_first_bytes() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Protocol::Http);
        assert_eq!(classify(b"GE"), Protocol::Undecided);
        assert_eq!(classify(b""), Protocol::Undecided);
        assert_eq!(classify(b"GET"), Protocol::Undecided);
        assert_eq!(classify(b"GETTING"), Protocol::Echo);
        assert_eq!(classify(b"hello"), Protocol::Echo);
    }

    #[tokio::test]
    async fn echoes_until_eof() {
        assert_eq!(exchange(b"hello mesh").await, b"hello mesh");
        assert_eq!(exchange(b"GE").await, b"GE");
        assert_eq!(exchange(b"").await, b"");
    }

    #[tokio::test]
    async fn answers_http_with_the_peer_id() {
        let reply = exchange(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc").await;
        let text = String::from_utf8(reply).unwrap();
        let body = "hello spiffe://example.org/client\n";
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(
            text.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{text}"
        );
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert!(text.ends_with(body), "{text}");
        let head = exchange(b"HEAD / HTTP/1.1\r\n\r\n").await;
        assert!(String::from_utf8(head).unwrap().ends_with("\r\n\r\n"));
    }
}
