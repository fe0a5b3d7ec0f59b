//! Per-algorithm composition of a rustls provider from four engines, end to end: real rustls
//! handshakes over in-memory buffers on mixed selections, record tampering, cross-engine AEAD
//! agreement, policy errors, and `auto` selection with its on-disk cache.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use meshtls_tls_core::autoselect::{AutoSelect, DEFAULT_BUDGET};
use meshtls_tls_core::engine::{AEAD_NONCE_LEN, AEAD_TAG_LEN};
use meshtls_tls_core::registry::Implementation;
use meshtls_tls_core::{
    provider, AlgorithmId, ConfigError, Engine, Policy, Reason, Registry, Selection,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CipherSuite, ClientConfig, ClientConnection, Connection, NamedGroup, ProtocolVersion,
    RootCertStore, ServerConfig, ServerConnection, SupportedProtocolVersion,
};

const ENGINES: [&Engine; 4] = [
    &meshtls_engine_ring::ENGINE,
    &meshtls_engine_aws_lc::ENGINE,
    &meshtls_engine_openssl::ENGINE,
    &meshtls_engine_boring::ENGINE,
];

fn registry() -> Registry {
    Registry::new(ENGINES.to_vec())
}

/// No caching: every call measures what it must.
fn uncached() -> AutoSelect {
    AutoSelect {
        cache_dir: None,
        budget: Duration::from_millis(100),
        remeasure: false,
    }
}

/// The mixed selection of the brief; the rest falls to ring, or `auto` where ring lacks it.
fn mixed_selection() -> Selection {
    let policy = Policy::from_backends([
        "all=ring",
        "aes-128-gcm=boring",
        "chacha20-poly1305=ring",
        "x25519=aws-lc",
        "ecdsa-p256=openssl",
        "sha256=openssl",
        "aes-256-gcm=aws-lc",
        "sha384=boring",
    ])
    .unwrap();
    let selection = registry().select(&policy, &uncached()).unwrap();
    for (id, engine) in [
        (AlgorithmId::Aes128Gcm, "boring"),
        (AlgorithmId::Chacha20Poly1305, "ring"),
        (AlgorithmId::X25519, "aws-lc"),
        (AlgorithmId::EcdsaP256, "openssl"),
        (AlgorithmId::Sha256, "openssl"),
        (AlgorithmId::Ed25519, "ring"),
    ] {
        let chosen = selection.get(id).unwrap();
        assert_eq!(chosen.engine.name, engine, "{id}");
        assert_eq!(chosen.reason, Reason::Explicit, "{id}");
    }
    selection
}

/// A CA, and a server and client leaf it issued, all with keys of `alg`.
struct Pki {
    roots: RootCertStore,
    server: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    client: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

fn pki(alg: &'static rcgen::SignatureAlgorithm) -> Pki {
    let ca_key = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "meshtls compose test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf = |name: &str| {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone(), ca.der().clone()], key)
    };
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    Pki {
        roots,
        server: leaf("localhost"),
        client: leaf("client.localhost"),
    }
}

/// A mutually authenticated client/server pair on `provider`.
fn pair(
    provider: &Arc<CryptoProvider>,
    pki: &Pki,
    version: &'static SupportedProtocolVersion,
) -> (ClientConnection, ServerConnection) {
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(pki.roots.clone()), provider.clone())
            .build()
            .unwrap();
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server.0.clone(), pki.server.1.clone_key())
        .unwrap();
    let client = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(pki.roots.clone())
        .with_client_auth_cert(pki.client.0.clone(), pki.client.1.clone_key())
        .unwrap();
    (
        ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap()).unwrap(),
        ServerConnection::new(Arc::new(server)).unwrap(),
    )
}

/// Moves every pending TLS byte from `from` to `to` and processes it.
fn flush(from: &mut Connection, to: &mut Connection) -> Result<bool, rustls::Error> {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).unwrap();
    }
    deliver(&wire, to)?;
    Ok(!wire.is_empty())
}

fn deliver(mut wire: &[u8], to: &mut Connection) -> Result<(), rustls::Error> {
    while !wire.is_empty() {
        to.read_tls(&mut wire).unwrap();
        to.process_new_packets()?;
    }
    Ok(())
}

/// Runs both sides until neither has anything to send.
fn drive(client: &mut Connection, server: &mut Connection) -> Result<(), rustls::Error> {
    while flush(client, server)? | flush(server, client)? {}
    Ok(())
}

/// Sends `data` from `from` to `to` in small writes (within rustls' buffer limits) and
/// reads it back out of `to`.
fn send(from: &mut Connection, to: &mut Connection, data: &[u8]) {
    let mut got = Vec::with_capacity(data.len());
    let mut buf = [0u8; 8192];
    for chunk in data.chunks(4096) {
        from.writer().write_all(chunk).unwrap();
        flush(from, to).unwrap();
        loop {
            match to.reader().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
    }
    assert_eq!(got, data);
}

/// `provider` restricted to one suite and, optionally, one group.
fn only(
    provider: &CryptoProvider,
    suite: CipherSuite,
    group: Option<NamedGroup>,
) -> Arc<CryptoProvider> {
    let mut p = provider.clone();
    p.cipher_suites.retain(|s| s.suite() == suite);
    assert_eq!(
        p.cipher_suites.len(),
        1,
        "{suite:?} missing from the provider"
    );
    if let Some(group) = group {
        p.kx_groups.retain(|g| g.name() == group);
        assert_eq!(p.kx_groups.len(), 1, "{group:?} missing from the provider");
    }
    Arc::new(p)
}

/// A full handshake on exactly `suite` (and `group`), then 100 KiB each way.
fn handshake(provider: &CryptoProvider, pki: &Pki, suite: CipherSuite, group: Option<NamedGroup>) {
    let p = only(provider, suite, group);
    let version = match p.cipher_suites[0].version().version {
        ProtocolVersion::TLSv1_2 => &rustls::version::TLS12,
        _ => &rustls::version::TLS13,
    };
    let (client, server) = pair(&p, pki, version);
    let (mut client, mut server) = (Connection::from(client), Connection::from(server));
    drive(&mut client, &mut server).unwrap_or_else(|e| panic!("{suite:?}: {e}"));
    assert!(!client.is_handshaking() && !server.is_handshaking());
    for side in [&client, &server] {
        assert_eq!(side.negotiated_cipher_suite().unwrap().suite(), suite);
        if let Some(group) = group {
            assert_eq!(side.negotiated_key_exchange_group().unwrap().name(), group);
        }
    }
    let data: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    send(&mut client, &mut server, &data);
    send(&mut server, &mut client, &data[..50_000]);
}

#[test]
fn mixed_selection_handshakes_on_every_suite() {
    let provider = provider(&mixed_selection());
    let ecdsa = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    for suite in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        handshake(&provider, &ecdsa, suite, Some(NamedGroup::X25519));
    }
}

#[test]
fn every_group_and_key_type_handshakes() {
    let provider = provider(&mixed_selection());
    let ecdsa = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    for group in [
        NamedGroup::X25519MLKEM768,
        NamedGroup::X25519,
        NamedGroup::secp256r1,
        NamedGroup::secp384r1,
    ] {
        handshake(
            &provider,
            &ecdsa,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            Some(group),
        );
    }
    let p384 = pki(&rcgen::PKCS_ECDSA_P384_SHA384);
    handshake(
        &provider,
        &p384,
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        None,
    );
    let ed25519 = pki(&rcgen::PKCS_ED25519);
    handshake(
        &provider,
        &ed25519,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        None,
    );
    let rsa = pki(&rcgen::PKCS_RSA_SHA256);
    handshake(&provider, &rsa, CipherSuite::TLS13_AES_128_GCM_SHA256, None);
    for suite in [
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        handshake(&provider, &rsa, suite, Some(NamedGroup::secp256r1));
    }
}

#[test]
fn tampered_tls13_record_is_rejected() {
    let provider = provider(&mixed_selection());
    let ecdsa = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    for suite in [
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ] {
        let p = only(&provider, suite, None);
        let version = match p.cipher_suites[0].version().version {
            ProtocolVersion::TLSv1_2 => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        };
        let (client, server) = pair(&p, &ecdsa, version);
        let (mut client, mut server) = (Connection::from(client), Connection::from(server));
        drive(&mut client, &mut server).unwrap();
        client.writer().write_all(b"attack at dawn").unwrap();
        let mut wire = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut wire).unwrap();
        }
        // Flip one ciphertext bit past the 5-byte record header.
        let last = wire.len() - 1;
        wire[last - 3] ^= 0x01;
        let err = deliver(&wire, &mut server).unwrap_err();
        assert_eq!(err, rustls::Error::DecryptError, "{suite:?}");
    }
}

/// Random bytes from an engine's random source (no extra RNG dependency).
fn random(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    meshtls_engine_ring::ENGINE.random.fill(&mut buf).unwrap();
    buf
}

#[test]
fn every_engine_pair_agrees_on_every_aead() {
    for id in [
        AlgorithmId::Aes128Gcm,
        AlgorithmId::Aes256Gcm,
        AlgorithmId::Chacha20Poly1305,
    ] {
        let key_len = id.aead_key_len().unwrap();
        for round in 0..8 {
            let key = random(key_len);
            let nonce: [u8; AEAD_NONCE_LEN] = random(AEAD_NONCE_LEN).try_into().unwrap();
            let aad = random(round * 7);
            let len = usize::from(random(2)[0]) * 9 + round;
            let plaintext = random(len);
            let mut outputs = Vec::new();
            for sealer in ENGINES {
                let seal_key = sealer.aead(id).unwrap().new_key(&key).unwrap();
                let mut ct = plaintext.clone();
                let tag = seal_key.seal_in_place(&nonce, &aad, &mut ct).unwrap();
                for opener in ENGINES {
                    let open_key = opener.aead(id).unwrap().new_key(&key).unwrap();
                    let mut pt = ct.clone();
                    open_key
                        .open_in_place(&nonce, &aad, &mut pt, &tag)
                        .unwrap_or_else(|e| {
                            panic!(
                                "{id}: {} cannot open {}'s output: {e}",
                                opener.name, sealer.name
                            )
                        });
                    assert_eq!(pt, plaintext, "{id}: {} -> {}", sealer.name, opener.name);
                    let mut bad_tag = tag;
                    bad_tag[round % AEAD_TAG_LEN] ^= 0x80;
                    let mut pt = ct.clone();
                    assert!(open_key
                        .open_in_place(&nonce, &aad, &mut pt, &bad_tag)
                        .is_err());
                }
                outputs.push((sealer.name, ct, tag));
            }
            for (name, ct, tag) in &outputs[1..] {
                assert_eq!(
                    (ct, tag),
                    (&outputs[0].1, &outputs[0].2),
                    "{id}: {name} vs {}",
                    outputs[0].0
                );
            }
        }
    }
}

#[test]
fn policy_errors_are_typed() {
    assert!(matches!(
        Policy::from_backends(["aes-128-gcm"]),
        Err(ConfigError::BadPolicy { .. })
    ));
    assert!(matches!(
        Policy::from_backends(["rc4=openssl"]),
        Err(ConfigError::BadPolicy { .. })
    ));
    let unknown = Policy::from_backends(["sha256=nosuchengine"]).unwrap();
    assert!(matches!(
        registry().select(&unknown, &uncached()),
        Err(ConfigError::UnknownEngine(name)) if name == "nosuchengine"
    ));
    let unknown_default = Policy::from_backends(["all=nosuchengine"]).unwrap();
    assert!(matches!(
        registry().select(&unknown_default, &uncached()),
        Err(ConfigError::UnknownEngine(_))
    ));
    // ring has no ML-KEM: naming it for the hybrid group is an error...
    let lacking = Policy::from_backends(["x25519mlkem768=ring"]).unwrap();
    assert!(matches!(
        registry().select(&lacking, &uncached()),
        Err(ConfigError::EngineLacksAlgorithm { engine, algorithm: AlgorithmId::X25519MlKem768 })
            if engine == "ring"
    ));
    // ...but `all=ring` falls back to auto for it.
    let all_ring = Policy::from_backends(["all=ring"]).unwrap();
    let selection = registry().select(&all_ring, &uncached()).unwrap();
    let hybrid = selection.get(AlgorithmId::X25519MlKem768).unwrap();
    assert_ne!(hybrid.engine.name, "ring");
    assert!(!matches!(hybrid.reason, Reason::Explicit));
    assert_eq!(selection.engine(AlgorithmId::Sha384).unwrap().name, "ring");
}

/// Every algorithm some engine implements is selected, with a reason that fits the number
/// of candidates.
fn check_auto(selection: &Selection, registry: &Registry, cached: bool) {
    for id in AlgorithmId::ALL.iter().copied() {
        let candidates = registry.candidates(id);
        let Some(chosen) = selection.get(id) else {
            assert!(
                candidates.is_empty(),
                "{id} has candidates but was not selected"
            );
            continue;
        };
        assert!(matches!(
            Implementation::find(chosen.engine, id),
            Some(i) if i.algorithm().id() == id
        ));
        match (candidates.len(), chosen.reason) {
            (1, Reason::OnlyCandidate) => {}
            (n, Reason::Measured { score }) if n > 1 && !cached => {
                assert!(score > 0.0);
                assert!(
                    chosen.candidates.iter().all(|c| c.score.is_some()),
                    "{id}: an engine failed its measurement: {:?}",
                    chosen.candidates
                );
                let best = chosen
                    .candidates
                    .iter()
                    .filter_map(|c| c.score)
                    .fold(0.0, f64::max);
                assert_eq!(score, best, "{id}: chose a slower engine");
            }
            (n, Reason::Cached { score }) if n > 1 && cached => assert!(score > 0.0),
            (n, reason) => panic!("{id}: {n} candidates, reason {reason:?}, cached {cached}"),
        }
    }
}

fn cache_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read(dir.join("autoselect.json")).unwrap();
    serde_json::from_slice(&text).unwrap()
}

#[test]
fn auto_selects_caches_and_remeasures_on_a_new_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let auto = AutoSelect {
        cache_dir: Some(dir.path().to_owned()),
        budget: DEFAULT_BUDGET,
        remeasure: false,
    };
    let registry = registry();
    let policy = Policy::default();

    let started = Instant::now();
    let measured = registry.select(&policy, &auto).unwrap();
    let took = started.elapsed();
    println!(
        "auto selection over {} engines took {took:?}",
        ENGINES.len()
    );
    println!("{}", serde_json::to_string_pretty(&measured).unwrap());
    // A sanity bound only: alone this takes about 0.5 s; beside other tests on 2 cores, more.
    assert!(took < Duration::from_secs(10), "auto took {took:?}");
    check_auto(&measured, &registry, false);
    let json = cache_json(dir.path());
    assert!(json["scores"]["aes-128-gcm"].as_object().unwrap().len() >= 2);

    let started = Instant::now();
    let cached = registry.select(&policy, &auto).unwrap();
    println!("cached selection took {:?}", started.elapsed());
    check_auto(&cached, &registry, true);
    for (a, b) in measured.iter().zip(cached.iter()) {
        assert_eq!((a.algorithm, a.engine.name), (b.algorithm, b.engine.name));
    }

    // Another CPU (or binary) in the fingerprint: measure again.
    let mut json = cache_json(dir.path());
    json["fingerprint"]["cpu_model"] = "some other CPU".into();
    std::fs::write(dir.path().join("autoselect.json"), json.to_string()).unwrap();
    check_auto(&registry.select(&policy, &auto).unwrap(), &registry, false);
    check_auto(&registry.select(&policy, &auto).unwrap(), &registry, true);

    // Other engines registered: another fingerprint too.
    let fewer = Registry::new(vec![
        &meshtls_engine_ring::ENGINE,
        &meshtls_engine_boring::ENGINE,
    ]);
    check_auto(&fewer.select(&policy, &auto).unwrap(), &fewer, false);

    // Forced re-measure ignores a matching cache.
    let forced = AutoSelect {
        remeasure: true,
        ..auto.clone()
    };
    check_auto(&fewer.select(&policy, &forced).unwrap(), &fewer, false);
}

#[test]
fn unwritable_cache_still_selects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let auto = AutoSelect {
        cache_dir: Some(file.join("meshtls")),
        budget: Duration::from_millis(50),
        remeasure: false,
    };
    let registry = registry();
    let selection = registry.select(&Policy::default(), &auto).unwrap();
    check_auto(&selection, &registry, false);
    // The auto-selected provider handshakes too.
    let ecdsa = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    handshake(
        &provider(&selection),
        &ecdsa,
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        None,
    );
}

#[test]
fn report_serializes_candidates_and_reasons() {
    let selection = mixed_selection();
    let report = serde_json::to_value(&selection).unwrap();
    let rows = report.as_array().unwrap();
    let aes = rows
        .iter()
        .find(|r| r["algorithm"] == "aes-128-gcm")
        .unwrap();
    assert_eq!(aes["engine"], "boring");
    assert_eq!(aes["reason"], "explicit");
    assert_eq!(aes["kind"], "aead");
    assert_eq!(aes["candidates"].as_array().unwrap().len(), 4);
    assert!(aes["candidates"][0]["cpu_features"].is_array());
    assert_eq!(selection.random_engine().name, "boring");
}
