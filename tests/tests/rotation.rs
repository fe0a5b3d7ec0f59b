//! Rotating a server's SVID and bundle (to a new CA, with a bundle carrying old and new CA)
//! never disturbs an established connection, and the next handshake presents the new SVID.
//! Run once per TLS implementation, stack against itself.

use std::sync::Arc;
use std::time::Duration;

use meshtls_ca::KeyType;
use meshtls_tests::pair::pattern;
use meshtls_tests::pki;
use meshtls_tests::stacks::{one_per_implementation, StackUnderTest};
use meshtls_tls_core::spiffe::Authorizer;
use meshtls_tls_core::stack::{ConnectOptions, PeerInfo, TlsAcceptor, TlsConnector, TlsVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SERVER_ID: &str = "spiffe://rotation.test/server";
const CLIENT_ID: &str = "spiffe://rotation.test/client";
/// Chunks the client streams; the server echoes each one.
const CHUNKS: usize = 120;
/// Bytes per chunk: more than one TLS record.
const CHUNK: usize = 20 * 1024;
/// Pacing between chunks, so the stream spans the rotation (CHUNKS x PACE = 1.2 s).
const PACE: Duration = Duration::from_millis(10);
/// The chunk after which both sides rotate.
const ROTATE_AFTER: usize = 40;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Serves every connection: handshake, then echo until the client closes.
async fn echo_server(listener: TcpListener, acceptor: Arc<dyn TlsAcceptor>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(Box::new(tcp)).await else {
                return;
            };
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match tls.io.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tls.io.write_all(&buf[..n]).await.is_err()
                            || tls.io.flush().await.is_err()
                        {
                            break;
                        }
                    }
                }
            }
            let _ = tls.io.shutdown().await;
        });
    }
}

async fn connect(
    connector: &Arc<dyn TlsConnector>,
    addr: std::net::SocketAddr,
) -> meshtls_tls_core::stack::TlsStream {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let options = ConnectOptions {
        expect_id: Some(pki::id(SERVER_ID)),
        server_name: None,
    };
    connector
        .connect(Box::new(tcp), options)
        .await
        .expect("handshake")
}

/// Sends one short message and checks its echo, proving a fresh connection works.
async fn ping(mut tls: meshtls_tls_core::stack::TlsStream) -> PeerInfo {
    tls.io.write_all(b"ping").await.expect("write");
    tls.io.flush().await.expect("flush");
    let mut back = [0u8; 4];
    tls.io.read_exact(&mut back).await.expect("read echo");
    assert_eq!(&back, b"ping");
    tls.io.shutdown().await.expect("shutdown");
    tls.peer
}

async fn rotate_under_load(stack: StackUnderTest) {
    let old_ca = pki::root_ca("rotation.test", KeyType::EcdsaP256);
    let new_ca = pki::root_ca("rotation.test", KeyType::EcdsaP384);
    let old_server = pki::svid(&old_ca, SERVER_ID, KeyType::EcdsaP256);
    let new_server = pki::svid(&new_ca, SERVER_ID, KeyType::EcdsaP384);
    let client_svid = pki::svid(&old_ca, CLIENT_ID, KeyType::EcdsaP256);

    let server_config = stack.config(
        &old_server,
        pki::bundles(&[&old_ca]),
        Authorizer::any_trusted(),
        pki::only(TlsVersion::Tls13),
    );
    let client_config = stack.config(
        &client_svid,
        pki::bundles(&[&old_ca]),
        Authorizer::any_trusted(),
        pki::only(TlsVersion::Tls13),
    );
    let server_store = server_config.identity.clone();
    let client_store = client_config.identity.clone();
    let acceptor = stack.acceptor(&server_config).expect("acceptor");
    let connector = stack.connector(&client_config).expect("connector");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(echo_server(listener, acceptor));

    let stream = connect(&connector, addr).await;
    assert_eq!(stream.peer.peer_chain.first(), old_server.chain_der.first());
    let (mut reader, mut writer) = tokio::io::split(stream.io);

    // What both sides rotate to: the new CA is trusted by both before anything is signed by
    // it reaches a peer; the client keeps its SVID from the old CA.
    let both_cas = pki::bundles(&[&old_ca, &new_ca]);
    let server_next = (new_server.to_svid().expect("new SVID"), both_cas.clone());
    let client_next = (client_svid.to_svid().expect("client SVID"), both_cas);
    let mut next = Some((client_next, server_next));

    // Client -> server: paced chunks; rotation happens mid-stream.
    let writing = tokio::spawn(async move {
        let mut pacing = tokio::time::interval(PACE);
        for i in 0..CHUNKS {
            pacing.tick().await;
            writer.write_all(&pattern(CHUNK, i as u8)).await?;
            writer.flush().await?;
            if i == ROTATE_AFTER {
                if let Some(((client_svid, client_bundles), (server_svid, server_bundles))) =
                    next.take()
                {
                    client_store.rotate(client_svid, client_bundles);
                    server_store.rotate(server_svid, server_bundles);
                }
            }
        }
        writer.shutdown().await?;
        std::io::Result::Ok(())
    });
    // Server -> client: every echoed chunk must come back intact.
    for i in 0..CHUNKS {
        let mut got = vec![0u8; CHUNK];
        reader
            .read_exact(&mut got)
            .await
            .expect("echo during rotation");
        assert!(
            got == pattern(CHUNK, i as u8),
            "{}: chunk {i} corrupted",
            stack.name
        );
        if i == ROTATE_AFTER + 1 {
            // A handshake while the old connection streams already sees the new SVID.
            let fresh = ping(connect(&connector, addr).await).await;
            assert_eq!(
                fresh.peer_chain.first(),
                new_server.chain_der.first(),
                "{}: mid-stream handshake",
                stack.name
            );
        }
    }
    writing.await.expect("writer task").expect("stream writes");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.expect("clean close");
    assert!(rest.is_empty());

    // After the stream: the new SVID, signed by the new CA, with the same ID.
    let after = ping(connect(&connector, addr).await).await;
    assert_eq!(after.peer_id, pki::id(SERVER_ID));
    assert_eq!(
        after.peer_chain.first(),
        new_server.chain_der.first(),
        "{}: new handshake",
        stack.name
    );
    assert_ne!(after.peer_chain.first(), old_server.chain_der.first());
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_does_not_disturb_streams() {
    for stack in one_per_implementation() {
        let name = stack.name;
        tokio::time::timeout(TIMEOUT, rotate_under_load(stack))
            .await
            .unwrap_or_else(|_| panic!("{name}: rotation test timed out"));
        println!("rotation: {name} ok");
    }
}
