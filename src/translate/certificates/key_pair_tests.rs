use super::{check, new_round};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// Each pair with what Go's `tls.X509KeyPair` answered for it (go1.26.8, the fixtures
/// trimmed as KIC trims them; a program run once, its output below).
#[test]
fn agrees_with_go() {
    let cases = [
        ("rsa.crt", "rsa.key", Ok(())),
        ("rsa.crt", "rsa-pkcs1.key", Ok(())),
        // tls: private key does not match public key
        ("rsa.crt", "other-rsa.key", Err("not the private key")),
        ("ec.crt", "ec.key", Ok(())),
        ("ec.crt", "ec-sec1.key", Ok(())),
        ("ec.crt", "other-ec.key", Err("not the private key")),
        ("ec384.crt", "ec384.key", Ok(())),
        ("ed25519.crt", "ed25519.key", Ok(())),
        // tls: private key type does not match public key type
        ("ed25519.crt", "rsa.key", Err("not the private key")),
        ("rsa.crt", "ec.key", Err("not the private key")),
        // tls: failed to parse private key
        (
            "rsa.crt",
            "rsa-encrypted.key",
            Err("tls.key: the key is not"),
        ),
        // tls: failed to find certificate PEM data in certificate input, but did find a
        // private key; PEM inputs may have been switched
        (
            "rsa.key",
            "rsa.crt",
            Err("tls.crt holds no PEM CERTIFICATE"),
        ),
        ("ec384.crt", "ec.key", Err("not the private key")),
    ];
    for (cert, key, want) in cases {
        let got = check(fixture(cert).trim(), fixture(key).trim());
        match want {
            Ok(()) => assert_eq!(got, Ok(()), "{cert} {key}"),
            Err(part) => {
                let err = got.expect_err(&format!("{cert} {key} accepted"));
                assert!(err.contains(part), "{cert} {key}: {err}");
            }
        }
    }
}

#[test]
fn text_around_and_between_blocks_is_skipped() {
    let cert = format!("subject=foo\n{}\n", fixture("rsa.crt"));
    let key = format!("# a comment\n{}", fixture("rsa.key"));
    assert_eq!(check(&cert, &key), Ok(()));
    assert!(check("", &key).is_err());
    assert!(check(&cert, "not a key").is_err());
}

#[test]
fn errors_never_quote_the_key() {
    let key = fixture("other-rsa.key");
    let err = check(&fixture("rsa.crt"), &key).unwrap_err();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!err.contains(line), "{err}");
    }
}

#[test]
fn answers_are_remembered_across_one_round() {
    let (c, k) = (fixture("ec384.crt"), fixture("ec384.key"));
    let bad = fixture("other-ec.key");
    assert_eq!(check(&c, &k), Ok(()));
    assert!(check(&c, &bad).is_err());
    new_round();
    assert_eq!(check(&c, &k), Ok(()));
    assert!(check(&c, &bad).is_err());
}
