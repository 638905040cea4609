//! The `cms-contract` binary end to end: exit codes, located load errors,
//! reports, dry runs, signing, and that secrets never reach any output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root()).args(args).env("NO_COLOR", "1");
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK"] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cms-contract")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cms-contract-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_shipped_suite_passes_against_the_embedded_simulator() {
    let o = cli(&["run"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains(" passed, 0 failed"), "{t}");
}

#[test]
fn a_contract_violation_exits_1_with_path_row_and_diff() {
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "vdn-mismatch",
            "--filter",
            "agent_vdn3",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL agentbyworkno::agent_vdn3"), "{t}");
    assert!(t.contains("/resultDesc/vdnId"), "{t}");
    assert!(t.contains("Table 4 row 2.2"), "{t}");
    assert!(t.contains("-    \"vdnId\": 3"), "{t}");
    assert!(t.contains("+    \"vdnId\": 4"), "{t}");
    assert!(t.contains("0 passed, 1 failed"), "{t}");
}

#[test]
fn a_malformed_case_file_gives_a_located_error_and_exit_2() {
    let d = tmp("malformed");
    std::fs::create_dir_all(d.join("s")).unwrap();
    std::fs::write(d.join("s/bad.yaml"), "cases:\n  - name: one\n    request: {method: POST, path: /x}\n    expcet:\n      status: 200\n").unwrap();
    let o = cli(&["run", d.join("s").to_str().unwrap()], &[]);
    let t = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("error: unknown field `expcet`"), "{t}");
    assert!(t.contains("bad.yaml:4:5"), "{t}");
    assert!(t.contains("^ did you mean `expect`?"), "{t}");
    std::fs::write(
        d.join("s/bad.yaml"),
        "cases:\n  - name: one\n    request: {method: POST, path: /x\n",
    )
    .unwrap();
    let o = cli(&["check", d.join("s").to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad.yaml:"), "{}", text(&o));
}

#[test]
fn an_empty_selection_or_folder_is_a_failure() {
    let d = tmp("empty");
    let o = cli(&["run", d.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no case files"), "{}", text(&o));
    let o = cli(&["run", "--filter", "no-such-case"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no case matches"), "{}", text(&o));
}

#[test]
fn undefined_variables_are_errors_against_a_real_target() {
    // Credentials set, so the variables are the only thing missing.
    let o = cli(
        &["check", "--target", "https://cms.invalid:28080"],
        &[("CMS_AK", "a"), ("CMS_SK", "b")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    // One error for the whole run, with what each variable is for and
    // ready templates, not one per use.
    assert_eq!(t.matches("error: ").count(), 2, "{t}");
    assert!(
        t.contains("error: 7 variables the cases need are not defined"),
        "{t}"
    );
    assert!(t.contains("      unknown_agent  an in-range work number that names no agent in that VDN (open question 4)  [1 use"), "{t}");
    assert!(t.contains("--var agentId=VALUE --var ccId=VALUE --var known_agents=VALUE --var unknown_agent=VALUE --var unknown_vdn=VALUE --var vdn=VALUE --var vdn_count=VALUE"), "{t}");
    assert!(
        t.contains("        ccId: \"\"  # the call center id of the deployment (Table 2 row 1)\n"),
        "{t}"
    );
}

#[test]
fn junit_and_json_reports_are_written() {
    let d = tmp("reports");
    let (junit, json) = (d.join("r.xml"), d.join("r.json"));
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "text-plain",
            "--tag",
            "sample",
            "cases/agentbyworkno",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let suite = xml
        .lines()
        .find(|l| l.contains("<testsuite name=\"agentbyworkno\""))
        .unwrap_or_else(|| panic!("{xml}"));
    assert!(
        suite.contains(" tests=\"1\"") && suite.contains(" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"sample_exchange\""), "{xml}");
    assert!(xml.contains("<failure message="), "{xml}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["cases"][0]["failures"][0]["kind"], "content type");
}

#[test]
fn html_report_is_self_contained_and_shows_the_diff() {
    let d = tmp("html");
    let html = d.join("r.html");
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "vdn-mismatch",
            "--filter",
            "agent_vdn3",
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("FAIL</span> agentbyworkno::agent_vdn3"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"del\">-    &quot;vdnId&quot;: 3</span>"),
        "{page}"
    );
    assert!(page.contains("Table 4 row 2.2"), "{page}");
    for external in ["<script", "<link", "src=\"http", "href=\"http"] {
        assert!(!page.contains(external), "not self-contained: {external}");
    }
}

#[test]
fn secrets_never_appear_in_output_or_reports() {
    let d = tmp("secrets");
    let junit = d.join("r.xml");
    let html = d.join("r.html");
    let env = [("CMS_AK", "my-ak"), ("CMS_SK", "very-secret-sk-value")];
    for args in [
        vec![
            "run",
            "--sim-fault",
            "result-disagrees",
            "--junit",
            junit.to_str().unwrap(),
        ],
        vec!["run", "--dry-run"],
    ] {
        let o = cli(&args, &env);
        let t = text(&o)
            + &std::fs::read_to_string(&junit).unwrap_or_default()
            + &std::fs::read_to_string(&html).unwrap_or_default();
        assert!(!t.contains("very-secret-sk-value"), "SK leaked");
        assert!(
            t.contains("auth-v2/my-ak/"),
            "the AK and timestamp stay visible: {t}"
        );
        assert!(t.contains("/host/<redacted>"), "{t}");
        // No 64-hex-digit signature anywhere.
        let hex_run = t.as_bytes().windows(64).any(|w| {
            w.iter()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        });
        assert!(!hex_run, "a signature leaked");
    }
}

#[test]
fn sign_prints_the_spec_vector() {
    let o = cli(
        &[
            "sign",
            "--contract",
            "agentbyworkno",
            "--host",
            "10.22.26.181:28080",
            "--timestamp",
            "2024-01-01T00:00:00Z",
            "--body",
            r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#,
        ],
        &[("CMS_AK", "globalaktest"), ("CMS_SK", "example-secret-key")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "Authorization: auth-v2/globalaktest/2024-01-01T00:00:00Z/host/2da95fd4bf39ceb59782ffe762256861457efda80e2a2701cca0b565f27f894b"
    );
    let o = cli(&["sign", "--host", "h:1", "--path", "/p"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("CMS_AK"));
}

#[test]
fn sign_checks_its_flags_like_the_profile_and_rewrites_nothing() {
    let keys = [("CMS_AK", "ak"), ("CMS_SK", "sign-secret-value")];
    let base = ["sign", "--host", "h:1", "--path", "/p"];
    for (bad, says) in [
        ("hst", "did you mean `host`?"),
        ("host,accept", "cannot sign header `accept`"),
        ("host,", "empty header name"),
    ] {
        let o = cli(&[&base[..], &["--signed-headers", bad]].concat(), &keys);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains(says), "{bad}: {}", text(&o));
    }
    for bad in ["h 1", "h:1/gw", "", "a@h:1"] {
        let o = cli(&["sign", "--host", bad, "--path", "/p"], &keys);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
        assert!(text(&o).contains("is not a Host value"), "{}", text(&o));
    }
    // Signed exactly as given: the canonical request shows it, and a
    // default port is kept (with a note saying what a client would send).
    let o = cli(
        &[
            "sign",
            "--host",
            "CMS.example:443",
            "--path",
            "/p",
            "--verbose",
        ],
        &keys,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("  host:CMS.example%3A443⏎"), "{t}");
    assert!(t.contains("puts `CMS.example` in Host"), "{t}");
    assert!(!t.contains("sign-secret-value"), "{t}");
    // The Authorization is printed once, on stdout; the canonical request
    // (stderr) holds no signature.
    let stderr = String::from_utf8_lossy(&o.stderr);
    let sig = String::from_utf8_lossy(&o.stdout);
    let sig = sig.trim().rsplit('/').next().unwrap();
    assert_eq!(sig.len(), 64, "{t}");
    assert!(!stderr.contains(sig), "{stderr}");
}

#[test]
fn sign_takes_the_contracts_content_type_and_a_body_file() {
    let keys = [("CMS_AK", "ak"), ("CMS_SK", "sign-secret-value")];
    let body = r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#;
    let d = tmp("sign-body");
    let file = d.join("body.json");
    std::fs::write(&file, body).unwrap();
    let common = [
        "sign",
        "--host",
        "h:1",
        "--timestamp",
        "2024-01-01T00:00:00Z",
        "--signed-headers",
        "host,content-type,content-length",
    ];
    let run = |extra: &[&str]| {
        let o = cli(&[&common[..], extra].concat(), &keys);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let explicit = run(&[
        "--contract",
        "agentbyworkno",
        "--content-type",
        "application/json; charset=UTF-8",
        "--body",
        body,
    ]);
    // The contract's Content-Type (schemas/agentbyworkno/contract.yaml), by
    // --contract or by the path it is served on; the body from a file.
    assert_eq!(
        run(&["--contract", "agentbyworkno", "--body", body]),
        explicit
    );
    assert_eq!(
        run(&[
            "--path",
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
            "--body-file",
            file.to_str().unwrap()
        ]),
        explicit
    );
    assert_ne!(
        run(&[
            "--contract",
            "agentbyworkno",
            "--content-type",
            "text/plain",
            "--body",
            body
        ]),
        explicit
    );
    let o = cli(&[&common[..], &["--path", "/no/contract"]].concat(), &keys);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("give --content-type VALUE"),
        "{}",
        text(&o)
    );
    let o = cli(
        &[
            "sign",
            "--host",
            "h:1",
            "--path",
            "/p",
            "--body-file",
            d.to_str().unwrap(),
        ],
        &keys,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));
}

/// What `sign` prints is accepted by a server that verifies signatures
/// (the simulator), with the default Content-Type signed.
#[test]
fn a_sign_header_is_accepted_by_the_simulator() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let cfg = cms_sim::SimConfig {
            credentials: cms_contract::auth::Credentials::new("ak", "sign-secret-value"),
            ..cms_sim::SimConfig::default()
        };
        let sim = cms_sim::Simulator::start(cfg).await.unwrap();
        let url = sim.base_url();
        let host = url.trim_start_matches("http://").to_owned();
        let body = r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#;
        let o = cli(
            &[
                "sign",
                "--contract",
                "agentbyworkno",
                "--host",
                &host,
                "--signed-headers",
                "host,content-type",
                "--body",
                body,
            ],
            &[("CMS_AK", "ak"), ("CMS_SK", "sign-secret-value")],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let auth = String::from_utf8_lossy(&o.stdout)
            .trim()
            .strip_prefix("Authorization: ")
            .unwrap()
            .to_owned();
        // A bare HTTP/1 exchange: nothing but what `sign` printed and the
        // headers it signed (Host, Content-Type).
        let stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::post("/rest/cmsapp/v1/openapi/agent/agentbyworkno")
            .header("Host", &host)
            .header("Content-Type", "application/json; charset=UTF-8")
            .header("Authorization", auth)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap();
        let reply = sender.send_request(req).await.unwrap();
        assert_eq!(reply.status(), 200);
        let bytes = http_body_util::BodyExt::collect(reply.into_body())
            .await
            .unwrap()
            .to_bytes();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["resultCode"], "0100000", "{doc}");
        sim.shutdown().await;
    });
}

#[test]
fn compare_help_matches_what_it_accepts_and_sim_sides_ignore_the_env_target() {
    let help = text(&cli(&["compare", "--help"], &[]));
    assert!(!help.contains("--target"), "{help}");
    assert!(help.contains("--baseline"), "{help}");
    let o = cli(
        &[
            "compare",
            "--target",
            "http://x:1",
            "--baseline",
            "sim",
            "--candidate",
            "sim",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A real target in the environment, with its own variables: `sim` sides
    // use the simulator and its data (agent 1001 is not one of its agents).
    let env = [
        ("CMS_BASE_URL", "http://cms.invalid:28080"),
        ("CMS_VAR_agentId", "1001"),
    ];
    let o = cli(
        &[
            "compare",
            "--baseline",
            "sim",
            "--candidate",
            "sim",
            "--tag",
            "sample",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 breaking"), "{}", text(&o));
    let detect = [
        "compare",
        "--baseline",
        "sim",
        "--candidate",
        "sim:2024-08:name-number",
        "--filter",
        "known_agent_envelope",
    ];
    let o = cli(&detect, &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("2 breaking"), "{}", text(&o));
    // --var still wins: with an agent the simulator lacks, no agent to compare.
    let o = cli(&[&detect[..], &["--var", "agentId=1001"]].concat(), &env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn list_tags_counts_the_cases_of_each_tag() {
    let o = cli(&["list", "--tags"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    let rows: Vec<(&str, usize)> = table
        .lines()
        .map(|l| {
            let (name, count) = l.rsplit_once(' ').unwrap();
            (name.trim_end(), count.parse().unwrap())
        })
        .collect();
    assert!(rows.len() > 3, "{table}");
    let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by tag");
    let width = table.lines().next().unwrap().len();
    assert!(table.lines().all(|l| l.len() == width), "aligned:\n{table}");
    // Each count is what `list --tag` selects.
    for (name, count) in rows
        .iter()
        .filter(|r| ["sample", "auth", "legacy"].contains(&r.0))
    {
        let o = cli(&["list", "--tag", name], &[]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            *count,
            "{name}"
        );
    }
    // The selection applies: an excluded tag is gone, the others shrink or stay.
    let o = cli(&["list", "--tags", "--exclude-tag", "legacy"], &[]);
    let fewer = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!fewer.lines().any(|l| l.starts_with("legacy ")), "{fewer}");
}

#[test]
fn an_unreachable_target_fails_the_cases_with_a_one_line_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}");
    let o = cli(
        &[
            &["run", "--target", &url, "--tag", "sample"][..],
            &common::REAL_TARGET_VARS[..],
        ]
        .concat(),
        &[("CMS_AK", "a"), ("CMS_SK", "b")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("ERROR agentbyworkno::sample_exchange"), "{t}");
    assert!(t.contains("cannot connect to 127.0.0.1"), "{t}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(&["run", "--no-such-flag"], &[]).status.code(), Some(2));
    assert_eq!(cli(&["run", "--rate", "fast"], &[]).status.code(), Some(2));
    assert_eq!(
        cli(&["run", "--target", "cms-host:28080"], &[])
            .status
            .code(),
        Some(2)
    );
    let o = cli(
        &[
            &["run", "--target", "https://x:1"][..],
            &common::REAL_TARGET_VARS[..],
        ]
        .concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("set CMS_AK and CMS_SK"), "{}", text(&o));
}

#[test]
fn colour_follows_no_color_and_the_color_flag() {
    let args = [
        "run",
        "--sim-fault",
        "vdn-mismatch",
        "--filter",
        "agent_vdn3",
    ];
    let forced = cli(&args, &[("CLICOLOR_FORCE", "1")]);
    // The helper sets NO_COLOR=1: it wins over CLICOLOR_FORCE.
    assert!(
        !text(&forced).contains('\u{1b}'),
        "NO_COLOR must switch colours off"
    );
    let always = cli(&[&args[..], &["--color", "always"]].concat(), &[]);
    assert!(
        text(&always).contains("\u{1b}[31m-"),
        "--color always colours the diff"
    );
    let never = cli(
        &[&args[..], &["--color", "never"]].concat(),
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!text(&never).contains('\u{1b}'));
    // Not a TTY (CI): one plain line per case, no progress bar.
    assert!(
        text(&never).contains("case agentbyworkno::agent_vdn3 ... FAILED"),
        "{}",
        text(&never)
    );
    // Without NO_COLOR: a pipe gets no colour, unless CLICOLOR_FORCE says so
    // (then on both streams, the plain lines on stderr too).
    let plain_run = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.current_dir(root()).args(args).env_remove("NO_COLOR");
        for k in [
            "CMS_BASE_URL",
            "CMS_PROFILE",
            "CMS_AK",
            "CMS_SK",
            "CLICOLOR",
            "CLICOLOR_FORCE",
        ] {
            c.env_remove(k);
        }
        c.envs(env.iter().copied());
        c.output().unwrap()
    };
    let piped = plain_run(&[]);
    assert!(!text(&piped).contains('\u{1b}'), "{}", text(&piped));
    // With colour off the report is the plain text, byte for byte (but for
    // the port, the time and the timestamp: digits are masked).
    let masked =
        |o: &Output| String::from_utf8_lossy(&o.stdout).replace(|c: char| c.is_ascii_digit(), "#");
    assert_eq!(masked(&piped), masked(&never));
    let forced = plain_run(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        String::from_utf8_lossy(&forced.stdout).contains("\u{1b}[31m-"),
        "{}",
        text(&forced)
    );
    assert!(
        String::from_utf8_lossy(&forced.stderr).contains("... \u{1b}[1m\u{1b}[31mFAILED\u{1b}[0m"),
        "{}",
        text(&forced)
    );
    let o = cli(&[&args[..], &["--color", "sometimes"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("[possible values: auto, always, never]"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_tty_gets_a_progress_bar() {
    // `script` (util-linux) gives the run a pseudo-terminal.
    let cmd = format!(
        "env -u CI NO_COLOR=1 {} run --tag sample cases/agentbyworkno cases/agentbyworkno-legacy",
        env!("CARGO_BIN_EXE_cms-contract")
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .output()
        .expect("`script` (util-linux) runs the CLI on a pseudo-terminal");
    let t = text(&o).replace('\r', "\n");
    assert!(t.contains("] 2/2 cases, 0 failed"), "{t}");
    assert!(t.contains("[==============================]"), "{t}");
    assert!(
        !t.contains("case agentbyworkno::sample_exchange ... ok"),
        "no plain lines on a TTY: {t}"
    );
    assert!(
        !t.contains("\u{1b}[3"),
        "NO_COLOR: no colour on a TTY either: {t}"
    );
    // Colours on a terminal by default; failures counted in red.
    let cmd = format!(
        "env -u CI -u NO_COLOR -u CLICOLOR -u CLICOLOR_FORCE TERM=xterm {} run --sim-fault vdn-mismatch --filter agent_vdn3",
        env!("CARGO_BIN_EXE_cms-contract")
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .output()
        .expect("`script` (util-linux) runs the CLI on a pseudo-terminal");
    let t = text(&o).replace('\r', "\n");
    assert!(
        t.contains("] 1/1 cases, \u{1b}[1m\u{1b}[31m1 failed\u{1b}[0m"),
        "{t}"
    );
    assert!(
        t.contains("\u{1b}[1m\u{1b}[31mFAIL\u{1b}[0m agentbyworkno::agent_vdn3"),
        "{t}"
    );
}

/// Spawn the CLI with stdout or stderr already closed by its reader (as
/// `| head` does once it has its lines); return the exit code and what the
/// other stream got.
fn with_closed(stream: &str, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env("CMS_AK", "my-ak")
        .env("CMS_SK", "very-secret-sk-value")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CI"] {
        c.env_remove(k);
    }
    let mut child = c.spawn().expect("run cms-contract");
    // Closed before the CLI writes anything: its first write fails.
    let mut other = String::new();
    if stream == "stdout" {
        drop(child.stdout.take());
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut other)
            .unwrap();
    } else {
        drop(child.stderr.take());
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut other)
            .unwrap();
    }
    (child.wait().expect("wait").code(), other)
}

#[test]
fn a_closed_pipe_ends_output_quietly_with_the_usual_exit_code() {
    let runs: [(&[&str], i32); 9] = [
        (&["list"], 0),
        (&["check"], 0),
        (&["schema"], 0),
        (&["serve", "--list-faults"], 0),
        (&["sign", "--host", "h:1", "--path", "/p"], 0),
        (&["run", "--tag", "sample"], 0),
        (
            &[
                "run",
                "--sim-fault",
                "vdn-mismatch",
                "--filter",
                "agent_vdn3",
            ],
            1,
        ),
        (&["run", "--dry-run", "--tag", "sample"], 0),
        (
            &[
                "compare",
                "--baseline",
                "sim",
                "--candidate",
                "sim:8.13",
                "--filter",
                "sample_exchange",
                "cases/agentbyworkno",
            ],
            1,
        ),
    ];
    for (args, code) in runs {
        let (got, stderr) = with_closed("stdout", args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(got, Some(code), "{args:?} with stdout closed: {stderr}");
    }
    // Progress, notices and the run's banner go to stderr.
    for (args, code) in [runs[6], runs[8]] {
        let (got, stdout) = with_closed("stderr", args);
        assert_eq!(got, Some(code), "{args:?} with stderr closed: {stdout}");
    }
}

#[test]
fn reports_say_whether_tls_was_verified() {
    let d = tmp("tls-verify");
    let profile = d.join("insecure.yaml");
    std::fs::write(&profile, "tls:\n  insecure: true\n").unwrap();
    let (junit, json, html) = (d.join("r.xml"), d.join("r.json"), d.join("r.html"));
    let reports = [
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    let runs: [(&[&str], bool); 3] = [
        (&[], true),
        (&["--insecure"], false),
        (&["--profile", profile.to_str().unwrap()], false),
    ];
    for (flags, verified) in runs {
        let args = [&["run", "--tag", "sample"][..], flags, &reports[..]].concat();
        let o = cli(&args, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let word = if verified { "on" } else { "off" };
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(
            xml.contains(&format!("<property name=\"tls.verify\" value=\"{word}\"/>")),
            "{flags:?}: {xml}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["tls_verify"], verified, "{flags:?}");
        assert_eq!(doc["target"], "embedded simulator", "{flags:?}");
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains(&format!("TLS verification: {word}")),
            "{flags:?}: {page}"
        );
        assert_eq!(page.contains("class=\"insecure\""), !verified, "{flags:?}");
    }
}

/// Run the binary, killing it (and failing) if it runs longer than `limit`.
#[cfg(unix)]
fn cli_within(args: &[&str], limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK"] {
        c.env_remove(k);
    }
    let mut child = c.spawn().expect("run cms-contract");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`cms-contract {}` ran longer than {limit:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Folder links back to `.`, a FIFO and a `/dev/zero` link named like case
/// files: `check` ends at once, says what it skipped, and checks the rest.
#[cfg(unix)]
#[test]
fn check_ends_on_link_loops_fifos_and_devices() {
    let d = tmp("discovery");
    let s = d.join("s");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(
        s.join("a.yaml"),
        "cases:\n  - name: one\n    request: {method: POST, path: /p}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", s.join("l1")).unwrap();
    std::os::unix::fs::symlink(".", s.join("l2")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(s.join("fifo.yaml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::os::unix::fs::symlink("/dev/zero", s.join("zero.yaml")).unwrap();
    let o = cli_within(
        &["check", s.to_str().unwrap()],
        std::time::Duration::from_secs(10),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("ok: 1 cases"),
        "{}",
        text(&o)
    );
    for line in [
        format!("warning: skipped {}: not a regular file (a FIFO)", s.join("fifo.yaml").display()),
        format!(
            "warning: skipped {}: not a regular file (a character device)",
            s.join("zero.yaml").display()
        ),
        format!(
            "warning: skipped {}: folder already searched (a symbolic link loop or a second link to it)",
            s.join("l1").display()
        ),
    ] {
        assert!(err.lines().any(|l| l == line), "{line}\n{err}");
    }

    // A case file over 1 MiB: a located error, exit 2.
    std::fs::write(
        s.join("big.yaml"),
        format!("cases: []\n#{}\n", "x".repeat(1 << 20)),
    )
    .unwrap();
    let o = cli_within(
        &["check", s.to_str().unwrap()],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "error: cannot read `{}`: larger than 1 MiB",
            s.join("big.yaml").display()
        )),
        "{}",
        text(&o)
    );
}

/// 40 `each` ranges of 100,000 values in a ~1 KB file: `check` refuses them
/// at once, with a located error, without building the 4,000,000 cases (it
/// runs under a 1 GiB address-space limit); `--max-cases` names the limit.
#[cfg(unix)]
#[test]
fn check_refuses_a_huge_expansion_at_once_and_in_little_memory() {
    let d = tmp("expansion");
    std::fs::create_dir_all(d.join("s")).unwrap();
    let ranges: Vec<String> = (0..40i64)
        .map(|i| format!("{}..={}", i * 100_000 + 1, (i + 1) * 100_000))
        .collect();
    let file = d.join("s/many.yaml");
    std::fs::write(
        &file,
        format!(
            "cases:\n  - name: many\n    each: {{var: a, values: \"{}\"}}\n    request: {{method: POST, path: /p}}\n",
            ranges.join(", ")
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_cms-contract");
    let started = std::time::Instant::now();
    let o = Command::new("sh")
        .current_dir(root())
        .args(["-c", "ulimit -v 1048576 && exec \"$@\"", "sh", bin, "check"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .env_remove("CMS_BASE_URL")
        .env_remove("CMS_PROFILE")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("error: too many cases: 4000000 with these, over the limit of 100000"),
        "{t}"
    );
    assert!(t.contains("many.yaml:3:28"), "{t}");
    assert!(t.contains("--max-cases N"), "{t}");
    assert!(elapsed < std::time::Duration::from_secs(1), "{elapsed:?}");

    let o = cli(&["check", "--max-cases", "0"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("give a whole number from 1"),
        "{}",
        text(&o)
    );
    let o = cli(&["list", "--max-cases", "5"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("over the limit of 5"), "{}", text(&o));
}

#[test]
fn check_finds_what_run_would_stop_on_all_at_once() {
    // No credentials and no variables for a real target: both, in one go.
    let o = cli(&["check", "--target", "https://cms.invalid:28080"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(
            "error: target https://cms.invalid:28080 needs credentials: set CMS_AK and CMS_SK"
        ),
        "{t}"
    );
    assert!(
        t.contains("variables the cases need are not defined"),
        "{t}"
    );
    // A certificate file `run` could not read.
    let o = cli(
        &[
            "check",
            "--target",
            "https://cms.invalid:28080",
            "--cacert",
            "/no/such/ca.pem",
        ],
        &[("CMS_AK", "a"), ("CMS_SK", "b")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("/no/such/ca.pem"), "{t}");
}

/// What a report folder holds besides `keep`: a staged report left behind
/// would show here.
fn strays(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn a_run_that_stops_early_leaves_earlier_reports_as_they_were() {
    let d = tmp("early-reports");
    for f in ["r.xml", "r.json", "r.html"] {
        std::fs::write(d.join(f), "earlier report").unwrap();
    }
    // No credentials for a real target: the run stops before any case.
    let o = cli(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9",
            "--var",
            "agentId=101",
            "--var",
            "ccId=1",
            "--var",
            "vdn=1",
            "--var",
            "known_agents=101",
            "--var",
            "unknown_agent=199",
            "--filter",
            "sample_exchange",
            "--junit",
            d.join("r.xml").to_str().unwrap(),
            "--json",
            d.join("r.json").to_str().unwrap(),
            "--html",
            d.join("r.html").to_str().unwrap(),
            "cases/agentbyworkno",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("needs credentials"), "{t}");
    for f in ["r.xml", "r.json", "r.html"] {
        assert_eq!(
            std::fs::read_to_string(d.join(f)).unwrap(),
            "earlier report",
            "{f}"
        );
    }
    assert_eq!(
        strays(&d, &["r.xml", "r.json", "r.html"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_report_that_cannot_be_written_spares_the_others_and_the_summary() {
    let d = tmp("full-report");
    let (xml, html) = (d.join("r.xml"), d.join("r.html"));
    let o = cli(
        &[
            "run",
            "--tag",
            "sample",
            "--json",
            "/dev/full",
            "--junit",
            xml.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("cannot write the JSON report to /dev/full: No space left on device"),
        "{t}"
    );
    assert!(t.contains("contract result: "), "the summary is said: {t}");
    let xml = std::fs::read_to_string(xml).unwrap();
    assert!(xml.trim_end().ends_with("</testsuites>"), "{xml}");
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.trim_end().ends_with("</html>"), "{html}");
    assert_eq!(strays(&d, &["r.xml", "r.html"]), Vec::<String>::new());
    // A report can go to a device: written there, not replaced.
    let o = cli(&["run", "--tag", "sample", "--json", "/dev/stdout"], &[]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("\"tool\": \"cms-contract\""), "{t}");
    // Two reports in one file would interleave: refused.
    let same = d.join("same");
    let o = cli(
        &[
            "run",
            "--json",
            same.to_str().unwrap(),
            "--html",
            d.join(".").join("same").to_str().unwrap(),
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("the JSON and HTML reports would both be written to"),
        "{t}"
    );
    assert!(!same.exists());
}
