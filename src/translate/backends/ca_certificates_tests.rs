use std::path::Path;

use super::*;
use crate::manifests::{Loaded, load_str};

const CA1: &str = "-----BEGIN CERTIFICATE-----\nMIIBjjCCATOgAwIBAgIUVU2jrZx4A8vxlZN6WKhciGNxzP0wCgYIKoZIzj0EAwIw\nEzERMA8GA1UEAwwIY2ExLXJvb3QwIBcNMjYxMjA2MTA0OTMwWhgPMjEyNjExMTIx\nMDQ5MzBaMBMxETAPBgNVBAMMCGNhMS1yb290MFkwEwYHKoZIzj0CAQYIKoZIzj0D\nAQcDQgAE4yH2JC5DuFlhS83yDp7zhCZSrG12t2nMoeh27lGUKKpmIl+AUowDK2Lv\nYnyd8mXxZmeK34bmeSbYcPedUq9Ao6NjMGEwHQYDVR0OBBYEFPwLLDfw4S9D7Hgq\ntVITCmBVW7KtMB8GA1UdIwQYMBaAFPwLLDfw4S9D7HgqtVITCmBVW7KtMA8GA1Ud\nEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0kAMEYCIQCp\nt/itkuGHP4p60+MsldZsChZlAB+XCe5Nh5rWyAxQ4wIhAI9NRhL/G8A+2bY/+3Jc\nso0mBtu9UnHJTmcfN9v+mkpZ\n-----END CERTIFICATE-----\n";
const CA2: &str = "-----BEGIN CERTIFICATE-----\nMIIBjTCCATOgAwIBAgIUHzwjNfV6eE9wrn7yI6wmBZDiSzkwCgYIKoZIzj0EAwIw\nEzERMA8GA1UEAwwIY2EyLXJvb3QwIBcNMjYxMjA2MTA0OTMwWhgPMjEyNjExMTIx\nMDQ5MzBaMBMxETAPBgNVBAMMCGNhMi1yb290MFkwEwYHKoZIzj0CAQYIKoZIzj0D\nAQcDQgAEBcTgZ6b9EIrahLz+TJrG9lYEnf6M7/+e95A2ZGRUAc1SfrVopE61ucbh\n7+gbcyTDaLKaYM/SyoXKgiXB32FhwaNjMGEwHQYDVR0OBBYEFMmZvDEiTw9g5IYK\nsmjAGXKzFnsHMB8GA1UdIwQYMBaAFMmZvDEiTw9g5IYKsmjAGXKzFnsHMA8GA1Ud\nEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0gAMEUCIBVr\nX5Sf65GdkKbxEAomI07sP9r7d3BmXaWLQ1zzZ5fPAiEAtrmQUfzWCDLgewx08/JD\nsCdwf5EiLZ/2vXEs2I/ILYo=\n-----END CERTIFICATE-----\n";
const LEAF: &str = "-----BEGIN CERTIFICATE-----\nMIIDFjCCAf6gAwIBAgIUY+k+m4BF13UoynPpa27rys4apIgwDQYJKoZIhvcNAQEL\nBQAwGzEZMBcGA1UEAwwQbGVhZi5leGFtcGxlLmNvbTAgFw0yNjEyMDYxMTAwMzZa\nGA8yMTI2MTExMjExMDAzNlowGzEZMBcGA1UEAwwQbGVhZi5leGFtcGxlLmNvbTCC\nASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAJU2Jy5s1l1CY/2a1mOEP1EO\n7B0I+9QP1N4lkdwS0eG9qJV6C3ii2xNzv9KacH9UihlR39J+HqcnrM7fOrjgykk/\nATRIm/dn5JsUtMZSDP+8WNfGLvXzUe6vE1VKxlBFs6RP4MQ0pDgbRMuYzmUb3LJC\n4O3Xazd8MHJ9l8tnEHpbePxGxGwivwnlr4J6ToW0YxCyosRWxUg9S2G6cuy8cyDE\ntIAty7ToMo0J7dV8ZjEnG2ynsqe8He5VzA6TBxEUyuyZC90ANOo+spcIw+nPANDN\nZMZfFiWXkNF7MNAXBSlXa7reYX8swl7XAXVG1IZeAtcLrRm75E+GkJlpBc6IirEC\nAwEAAaNQME4wHQYDVR0OBBYEFC5MwNn1DO8gw7Fd3FpPL27saLXbMB8GA1UdIwQY\nMBaAFC5MwNn1DO8gw7Fd3FpPL27saLXbMAwGA1UdEwEB/wQCMAAwDQYJKoZIhvcN\nAQELBQADggEBAEkbnl7BDDIgQKqobgaUyZNHI1mLrk/I1xX9Rn/inbZRvA8f/9xs\nXI7PHgcXgr7O2ui1tebhHFUZQnLKhHk1HVdvqSSnijFqSmTZDAUEpFvab3rV2GVs\nE0M5Hv/NhFw85maqPQWNQQ2w/jONO3eBRzn5WQCR5bNuRVCR45BzsPdMYOmqOZ4v\ncrNKFVSRBiFKIr/HxPqBjTRoO3OG+ROUAwkgl39wC1XkxhOL40EHbani5rhR5DgB\nOs3uA1L7IpAscOB/tm28ZYC3wSI4rHwVQKUIYQqWXSEPMVxCsegR91xM9gCQanML\nbbzoB9WxA51bUmf3/lfZcIa5UcD3WdLJ/S8=\n-----END CERTIFICATE-----\n";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn secret(name: &str, created: &str, data: &[(&str, &str)]) -> String {
    let data: Vec<String> = data
        .iter()
        .map(|(k, v)| format!("{k}: {}", b64(v)))
        .collect();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: default, creationTimestamp: \"{created}\", labels: {{konghq.com/ca-cert: \"true\"}}}}\ndata: {{{}}}\n",
        data.join(", ")
    )
}

fn cas(docs: &[String]) -> CaCertificates {
    let mut loaded = Loaded::default();
    load_str(&docs.join("---\n"), Path::new("cas.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    CaCertificates::new(&loaded.snapshot, &Excluded::default())
}

fn why(cas: &CaCertificates, name: &str) -> String {
    match cas.of("Secret", "default", name) {
        Some(Err(why)) => why.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

const ID1: &str = "8a2c2a3c-0b76-4a6e-9b1f-3f1f2d1c0a01";

#[test]
fn a_labelled_ca_becomes_an_entity_in_one_pem_block() {
    let cas = cas(&[secret(
        "ca",
        "2024-01-01T00:00:00Z",
        &[("id", ID1), ("cert", &format!("\n{CA1}\n\n"))],
    )]);
    let e = cas.entities();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].id, ID1);
    // Re-encoded: 64 columns, one trailing newline, the same certificate.
    assert!(
        e[0].cert.starts_with("-----BEGIN CERTIFICATE-----\n")
            && e[0].cert.ends_with("-----END CERTIFICATE-----\n")
    );
    assert!(e[0].cert.lines().all(|l| l.len() <= 64));
    assert_eq!(
        single_certificate(e[0].cert.trim()).ok(),
        single_certificate(CA1.trim()).ok()
    );
    assert_eq!(
        e[0].tags[..3],
        ["k8s-name:ca", "k8s-namespace:default", "k8s-kind:Secret"]
    );
}

#[test]
fn what_kong_refuses_is_left_out_with_the_reason() {
    let cas = cas(&[
        secret("no-id", "2024-01-01T00:00:00Z", &[("cert", CA1)]),
        secret(
            "no-cert",
            "2024-01-01T00:00:00Z",
            &[("id", "8a2c2a3c-0b76-4a6e-9b1f-3f1f2d1c0a05")],
        ),
        secret(
            "two",
            "2024-01-01T00:00:00Z",
            &[
                ("id", "8a2c2a3c-0b76-4a6e-9b1f-3f1f2d1c0a06"),
                ("cert", &format!("{CA1}{CA2}")),
            ],
        ),
        secret(
            "leaf",
            "2024-01-01T00:00:00Z",
            &[
                ("id", "8a2c2a3c-0b76-4a6e-9b1f-3f1f2d1c0a07"),
                ("cert", LEAF),
            ],
        ),
        secret(
            "garbage",
            "2024-01-01T00:00:00Z",
            &[
                ("id", "8a2c2a3c-0b76-4a6e-9b1f-3f1f2d1c0a08"),
                ("cert", "hello"),
            ],
        ),
    ]);
    assert!(why(&cas, "no-id").contains("no `id`"));
    assert!(why(&cas, "no-cert").contains("neither `cert` nor `ca.crt`"));
    assert!(why(&cas, "two").contains("more than one PEM block"));
    assert!(why(&cas, "leaf").contains("not a CA"));
    assert!(why(&cas, "garbage").contains("not PEM"));
    assert!(cas.entities().is_empty());
}

#[test]
fn of_two_objects_with_one_id_the_oldest_wins() {
    let cas = cas(&[
        secret(
            "newer",
            "2025-01-01T00:00:00Z",
            &[("id", ID1), ("cert", CA1)],
        ),
        secret(
            "older",
            "2024-01-01T00:00:00Z",
            &[("id", ID1), ("cert", CA2)],
        ),
    ]);
    assert!(matches!(cas.of("Secret", "default", "older"), Some(Ok(_))));
    assert!(why(&cas, "newer").contains("already the ID of Secret default/older"));
}

#[test]
fn an_expired_ca_is_refused() {
    let der = single_certificate(CA1.trim()).expect("pem");
    assert_eq!(check_ca(&der, std::time::Duration::from_secs(0)), Ok(()));
    // The test CA is valid until 2126.
    let later = std::time::Duration::from_secs(200 * 365 * 24 * 3600);
    assert!(
        check_ca(&der, later)
            .expect_err("expired")
            .contains("expired")
    );
}
