//! HTTPS end to end: the shipped sample case against the simulator served
//! over TLS with a private CA, and every way TLS goes wrong (untrusted CA,
//! wrong name, client certificate missing, TLS vs plain HTTP) ending as a
//! one-line transport error that names the host and the fix.

mod common;

use cms_contract::case::Case;
use cms_contract::embedded::Simulated;
use cms_contract::result::{CaseResult, FailureKind, Outcome, TransportError};
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use cms_sim::tls::{self, ClientAuth, PkiFiles, TestPki};
use cms_sim::{SimConfig, Simulator, DEFAULT_AK, DEFAULT_SK};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder for one test's files.
fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cms-contract-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn env() -> Env {
    [("CMS_AK", DEFAULT_AK), ("CMS_SK", DEFAULT_SK)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Settings for a real (non-embedded) target with the reference variables.
fn opts(target: Option<String>) -> Layer {
    Layer {
        target: target.map(|t| t.parse().expect("a base URL")),
        vars: cms_sim::reference_vars()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        timeout: Some("5".parse().unwrap()),
        ..Layer::default()
    }
}

/// The session `opts` make.
fn session(opts: &Layer) -> Session {
    Session::prepare(
        SessionOptions {
            flags: opts.clone(),
            schemas: Some(root().join("schemas")),
            embedded: Some(Simulated::default().shared()),
            force_embedded: false,
        },
        &env(),
    )
    .expect("session")
}

fn make_pki(tag: &str, names: &[&str]) -> (TestPki, PkiFiles) {
    let pki = tls::generate(names).expect("generate test certificates");
    let files = pki.write_to(&tmp(tag)).expect("write test certificates");
    (pki, files)
}

async fn tls_sim(pki: &TestPki, auth: ClientAuth) -> Simulator {
    let server = pki.server_config(auth).expect("server config");
    Simulator::start_tls(SimConfig::default(), server)
        .await
        .expect("start the TLS simulator")
}

/// The shipped sample case(s), loaded with the session's variables.
fn sample_cases(session: &Session) -> Vec<Case> {
    let cases: Vec<Case> = session
        .load(&[root().join("cases/agentbyworkno")], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .expect("shipped cases load")
        .into_iter()
        .filter(|c| c.tags.iter().any(|t| t == "sample"))
        .collect();
    assert!(!cases.is_empty(), "the shipped suite has a sample case");
    cases
}

/// Run the sample case(s) under `opts`.
async fn run_sample(opts: &Layer) -> Vec<CaseResult> {
    let session = session(opts);
    let cases = sample_cases(&session);
    let live = session.start().await.expect("runner");
    live.runner.run_all(&cases, 2, |_| {}).await
}

fn assert_pass(results: &[CaseResult]) {
    for r in results {
        assert_eq!(
            r.outcome(),
            Outcome::Pass,
            "{}",
            cms_contract::report::text::render(r, Default::default())
        );
    }
}

/// The single transport error of an erroring result, checked for shape: one
/// line, and the request that caused it is recorded.
fn transport(r: &CaseResult) -> (TransportError, &str) {
    assert_eq!(r.outcome(), Outcome::Error, "{r:?}");
    assert_eq!(r.request.method, "POST", "the request is reported");
    assert!(
        r.request.url.contains("/agentbyworkno"),
        "{}",
        r.request.url
    );
    let f = r
        .failures
        .iter()
        .find(|f| matches!(f.kind, FailureKind::Transport(_)))
        .expect("a transport failure");
    assert!(!f.message.contains('\n'), "one line: {:?}", f.message);
    eprintln!("{}: {}", r.id, f.message);
    match f.kind {
        FailureKind::Transport(k) => (k, f.message.as_str()),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_in_the_profile_makes_the_sample_pass_over_https() {
    let (pki, files) = make_pki("profile", &["localhost", "127.0.0.1"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let dir = files.ca.parent().expect("folder");
    let profile = dir.join("target.yaml");
    // `cacert` is relative to the profile's folder.
    std::fs::write(
        &profile,
        format!("base_url: {}\ntls:\n  cacert: ca.pem\n", sim.base_url()),
    )
    .expect("write profile");
    let o = Layer {
        profile: Some(profile),
        ..opts(None)
    };
    let results = run_sample(&o).await;
    assert_pass(&results);
    assert!(sim.hits() >= 1);

    // The same CA given as --cacert, and the name `localhost` instead of the IP.
    let o = Layer {
        cacert: Some(files.ca.clone()),
        ..opts(Some(format!("https://localhost:{}", sim.addr().port())))
    };
    assert_pass(&run_sample(&o).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_names_the_host_and_cacert_and_the_server_survives() {
    let (pki, files) = make_pki("untrusted", &["localhost", "127.0.0.1"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    let results = run_sample(&opts(Some(sim.base_url()))).await;
    let (kind, msg) = transport(&results[0]);
    assert_eq!(kind, TransportError::Tls, "{msg}");
    let host = sim.addr().to_string();
    assert!(msg.contains(&host), "names the host: {msg}");
    assert!(msg.contains("not signed by a trusted CA"), "{msg}");
    assert!(msg.contains("--cacert FILE"), "{msg}");
    assert!(msg.contains("tls.cacert"), "{msg}");
    assert!(msg.contains("--insecure"), "{msg}");
    assert_eq!(results[0].retries, 0, "TLS errors are not retried");

    // A failed handshake and a peer speaking garbage end their connection
    // only: the accept loop keeps serving.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(sim.addr())
            .await
            .expect("connect");
        let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    }
    assert!(
        sim.handshake_failures() >= 2,
        "{}",
        sim.handshake_failures()
    );
    let o = Layer {
        cacert: Some(files.ca.clone()),
        ..opts(Some(sim.base_url()))
    };
    assert_pass(&run_sample(&o).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_a_name_error() {
    let (pki, files) = make_pki("mismatch", &["example.invalid", "10.9.8.7"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    let port = sim.addr().port();
    for (host, url) in [
        ("127.0.0.1", sim.base_url()),
        ("localhost", format!("https://localhost:{port}")),
    ] {
        let o = Layer {
            cacert: Some(files.ca.clone()),
            ..opts(Some(url))
        };
        let results = run_sample(&o).await;
        let (kind, msg) = transport(&results[0]);
        assert_eq!(kind, TransportError::Tls, "{msg}");
        assert!(
            msg.contains(&format!("{host}:{port}")),
            "names the host: {msg}"
        );
        assert!(
            msg.contains(&format!(
                "is not valid for the name `{host}`, only for example.invalid, 10.9.8.7;"
            )),
            "{msg}"
        );
        assert!(
            msg.contains("a name the certificate was issued for"),
            "{msg}"
        );
        assert!(!msg.contains("--cacert"), "the CA is fine here: {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skips_verification_and_warns() {
    // Wrong name and an unknown CA: only --insecure lets this through.
    let (pki, _files) = make_pki("insecure", &["example.invalid"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    let o = Layer {
        insecure: Some(true),
        ..opts(Some(sim.base_url()))
    };
    let s = session(&o);
    assert!(
        s.notices.iter().any(|n| n.contains("--insecure")),
        "{:?}",
        s.notices
    );
    assert_pass(&run_sample(&o).await);

    // `tls.insecure: true` in a profile does the same.
    let dir = tmp("insecure-profile");
    let profile = dir.join("target.yaml");
    std::fs::write(
        &profile,
        format!("base_url: {}\ntls:\n  insecure: true\n", sim.base_url()),
    )
    .expect("write profile");
    let o = Layer {
        profile: Some(profile),
        ..opts(None)
    };
    assert_pass(&run_sample(&o).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_client_certificate_passes_with_it_and_fails_clearly_without() {
    let (pki, files) = make_pki("mtls", &["localhost", "127.0.0.1"]);
    let sim = tls_sim(&pki, ClientAuth::Required).await;
    let with_ca = || Layer {
        cacert: Some(files.ca.clone()),
        ..opts(Some(sim.base_url()))
    };

    let o = Layer {
        client_cert: Some(files.client_cert.clone()),
        client_key: Some(files.client_key.clone()),
        ..with_ca()
    };
    assert_pass(&run_sample(&o).await);

    // One file holding both the certificate and the key.
    let both = files.ca.with_file_name("client-both.pem");
    std::fs::write(
        &both,
        format!("{}{}", pki.client_cert_pem, pki.client_key_pem),
    )
    .expect("write");
    let o = Layer {
        client_cert: Some(both),
        ..with_ca()
    };
    assert_pass(&run_sample(&o).await);

    let hits = sim.hits();
    let results = run_sample(&with_ca()).await;
    let (kind, msg) = transport(&results[0]);
    assert_eq!(kind, TransportError::Tls, "{msg}");
    assert!(msg.contains(&sim.addr().to_string()), "{msg}");
    assert!(msg.contains("requires a client certificate"), "{msg}");
    assert!(msg.contains("--cert FILE"), "{msg}");
    assert_eq!(
        sim.hits(),
        hits,
        "nothing was answered without a client certificate"
    );

    // A client certificate from another CA is refused too.
    let (_, stranger) = make_pki("mtls-stranger", &["localhost"]);
    let o = Layer {
        client_cert: Some(stranger.client_cert.clone()),
        client_key: Some(stranger.client_key.clone()),
        ..with_ca()
    };
    let results = run_sample(&o).await;
    let (kind, msg) = transport(&results[0]);
    assert_eq!(kind, TransportError::Tls, "{msg}");
    assert!(msg.contains("refused the client certificate"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_server_and_http_to_a_tls_server_say_which_scheme() {
    let plain = Simulator::start(SimConfig::default()).await.expect("start");
    let url = format!("https://{}", plain.addr());
    let results = run_sample(&opts(Some(url))).await;
    let (kind, msg) = transport(&results[0]);
    assert_eq!(kind, TransportError::Tls, "{msg}");
    assert!(msg.contains("use an http:// URL"), "{msg}");

    let (pki, _files) = make_pki("scheme", &["127.0.0.1"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    let url = format!("http://{}", sim.addr());
    let results = run_sample(&opts(Some(url))).await;
    let (kind, msg) = transport(&results[0]);
    assert_eq!(kind, TransportError::Protocol, "{msg}");
    assert!(msg.contains("use an https:// URL"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_warns_about_insecure_on_stderr() {
    let (pki, _files) = make_pki("cli", &["localhost", "127.0.0.1"]);
    let sim = tls_sim(&pki, ClientAuth::Off).await;
    let target = sim.base_url();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.current_dir(root())
            .args(["run", "--target", &target, "--insecure"])
            .args(common::REAL_TARGET_VARS)
            .args(["--tag", "sample", "--timeout", "5", "--run-timeout", "60"])
            .env("NO_COLOR", "1")
            .env("CMS_AK", DEFAULT_AK)
            .env("CMS_SK", DEFAULT_SK);
        for k in ["CMS_BASE_URL", "CMS_PROFILE"] {
            c.env_remove(k);
        }
        c.output()
    })
    .await
    .expect("join")
    .expect("run cms-contract");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("warning") && l.contains("--insecure")),
        "stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr:\n{stderr}\nstdout:\n{stdout}"
    );
    assert!(sim.hits() >= 1);
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// `serve --tls DIR` generates a CA, serves HTTPS, and `run --cacert` trusts it.
#[test]
fn serve_tls_and_run_with_cacert_end_to_end() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("cms-contract-serve-tls-{}", std::process::id()));
    let exe = env!("CARGO_BIN_EXE_cms-contract");
    let mut server = Command::new(exe)
        .args(["serve", "--port", "0", "--tls"])
        .arg(&dir)
        .env_remove("CMS_AK")
        .env_remove("CMS_SK")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = server.stderr.take().unwrap();
    let url = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("https://"))
                .map(str::to_string)
        });
    let run = |extra: &[&str]| {
        Command::new(exe)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "run",
                "--tag",
                "sample",
                "--target",
                url.as_deref().unwrap_or("https://none"),
            ])
            .args(common::REAL_TARGET_VARS)
            .args(extra)
            .env("CMS_AK", "cms-contract-ak")
            .env("CMS_SK", "cms-contract-sk")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let trusted = run(&["--cacert", dir.join("ca.pem").to_str().unwrap()]);
    let untrusted = run(&[]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(url.is_some(), "serve printed no https:// URL");
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted));
    assert_eq!(untrusted.status.code(), Some(1), "{}", text(&untrusted));
    assert!(
        text(&untrusted).contains("--cacert FILE"),
        "{}",
        text(&untrusted)
    );
}
