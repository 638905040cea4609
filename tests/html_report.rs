//! The HTML report, read two ways:
//!
//! - **tokenized** as the WHATWG spec says a browser does (html5gum): only
//!   the report's own elements and attributes, no script, no external
//!   resource, links that land on a case, the run's metadata, hostile reply
//!   text as visible text and no tokenizer error (controls in the input are
//!   one);
//! - **rendered** by a real headless Chromium at 1280×800: the first
//!   failure's summary entry is on screen without scrolling and leads to an
//!   open case, no element is wider than the window (long replies wrap),
//!   nothing from the reply became an element. A screenshot of the red
//!   report is kept under target/ (its path is printed). Needs
//!   `chromium-headless-shell` or `chromium` (`CMS_TEST_BROWSER` names
//!   another); a missing browser fails the test with install advice.

mod common;
mod reports;

use html5gum::{DefaultEmitter, Token, Tokenizer};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Elements the report writes.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h4", "p", "ol", "ul", "li", "a",
    "span", "table", "tr", "th", "td", "details", "summary", "pre", "br", "i",
];
/// Attributes the report writes.
const ATTRS: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "id",
    "href",
    "open",
];

/// A page as the tokenizer sees it.
struct Page {
    /// Start tags in order, with their attributes.
    tags: Vec<(String, BTreeMap<String, String>)>,
    /// Text outside `<style>`, character references decoded; each text
    /// token ends with the index of the tag it follows.
    text: String,
    /// The `<style>` sheet.
    style: String,
    /// Tokenizer errors.
    errors: Vec<String>,
    /// Table rows: `<th>` text → `<td>` text.
    rows: BTreeMap<String, String>,
}

impl Page {
    fn parse(html: &str) -> Page {
        let mut emitter = DefaultEmitter::default();
        // Raw text in <style> and <title>, as a browser switches states.
        emitter.naively_switch_states(true);
        let mut page = Page {
            tags: vec![],
            text: String::new(),
            style: String::new(),
            errors: vec![],
            rows: BTreeMap::new(),
        };
        let mut in_style = false;
        // The open <th> or <td> and its text so far.
        let (mut cell, mut th): (Option<String>, String) = (None, String::new());
        for token in Tokenizer::new_with_emitter(html, emitter) {
            match token.unwrap() {
                Token::StartTag(t) => {
                    let name = String::from_utf8_lossy(&t.name).into_owned();
                    in_style = name == "style";
                    if name == "th" || name == "td" {
                        cell = Some(String::new());
                    }
                    let attrs = t
                        .attributes
                        .iter()
                        .map(|(k, v)| {
                            (
                                String::from_utf8_lossy(k).into_owned(),
                                String::from_utf8_lossy(v).into_owned(),
                            )
                        })
                        .collect();
                    page.tags.push((name, attrs));
                }
                Token::EndTag(t) => {
                    in_style = false;
                    match (&t.name[..], cell.take()) {
                        (b"th", Some(text)) => th = text,
                        (b"td", Some(text)) => {
                            page.rows.insert(std::mem::take(&mut th), text);
                        }
                        (_, open) => cell = open,
                    }
                }
                Token::String(s) if in_style => page.style.push_str(&String::from_utf8_lossy(&s)),
                Token::String(s) => {
                    let s = String::from_utf8_lossy(&s);
                    if let Some(c) = cell.as_mut() {
                        c.push_str(&s);
                    }
                    page.text.push_str(&s);
                }
                Token::Error(e) => page.errors.push(format!("{e:?}")),
                Token::Comment(_) | Token::Doctype(_) => {}
            }
        }
        page
    }

    /// Index of the first tag named `name` with `attr` = `value`.
    fn find(&self, name: &str, attr: &str, value: &str) -> Option<usize> {
        self.tags
            .iter()
            .position(|(n, a)| n == name && a.get(attr).map(String::as_str) == Some(value))
    }
}

/// What every report page must be, whatever the run: returns the targets
/// of the failure summary's links, in order.
fn assert_well_formed(page: &Page, what: &str) -> Vec<String> {
    assert!(
        page.errors.is_empty(),
        "{what}: {} tokenizer errors, the first {:?}",
        page.errors.len(),
        &page.errors[..page.errors.len().min(5)]
    );
    let mut ids = BTreeSet::new();
    for (name, attrs) in &page.tags {
        assert!(
            TAGS.contains(&name.as_str()),
            "{what}: <{name}> is not the report's"
        );
        for (k, v) in attrs {
            assert!(
                ATTRS.contains(&k.as_str()),
                "{what}: <{name} {k}> is not the report's"
            );
            if k == "id" {
                assert!(ids.insert(v.clone()), "{what}: id {v} twice");
            }
        }
    }
    let links: Vec<String> = page
        .tags
        .iter()
        .filter_map(|(_, a)| a.get("href"))
        .map(|h| {
            h.strip_prefix('#')
                .unwrap_or_else(|| panic!("{what}: href {h} leaves the page"))
                .to_string()
        })
        .collect();
    for l in &links {
        let at = page
            .find("details", "id", l)
            .unwrap_or_else(|| panic!("{what}: #{l} lands on no case"));
        assert!(page.tags[at].1.contains_key("open"), "{what}: #{l} is open");
    }
    let csp = page
        .find("meta", "http-equiv", "Content-Security-Policy")
        .map(|i| page.tags[i].1["content"].clone())
        .expect("a Content-Security-Policy");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    for external in ["url(", "@import", "http:", "https:"] {
        assert!(
            !page.style.contains(external),
            "{what}: the sheet loads {external}"
        );
    }
    // The failure summary comes first: before the run table and the cases.
    let h2: Vec<usize> = (0..page.tags.len())
        .filter(|&i| page.tags[i].0 == "h2")
        .collect();
    assert_eq!(
        page.tags[h2[0]].1.get("id").map(String::as_str),
        Some("failures"),
        "{what}: the first section is the failures"
    );
    assert!(!page.text.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{fffe}' | '\u{ffff}')
    }));
    links
}

/// The CLI's red report (`html-error`) and its `--json` twin.
fn red_report(test: &str) -> (PathBuf, reports::Counts) {
    let d = reports::dir(test);
    let (html, json) = (d.join("red.html"), d.join("red.json"));
    let o = reports::cli(&[
        "run",
        "--sim-fault",
        "html-error",
        "--html",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (html, reports::Counts::of_json(&json))
}

/// The hostile run's page, written to `test`'s folder.
async fn hostile_report(test: &str) -> PathBuf {
    let (results, info) = reports::hostile_run().await;
    let path = reports::dir(test).join("hostile.html");
    std::fs::write(&path, cms_contract::report::html::render(&results, &info)).unwrap();
    path
}

#[test]
fn the_red_report_summarises_failures_first_and_states_the_run() {
    let (path, counts) = red_report("html-parse-red");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!reports::leaks_secret(&html));
    let page = Page::parse(&html);
    let links = assert_well_formed(&page, "red report");
    assert_eq!(
        links.len(),
        counts.failures + counts.errors,
        "one entry per red case"
    );
    assert!(page.text.contains(&format!("{} failed", counts.failures)));
    let first = page.find("a", "href", &format!("#{}", links[0])).unwrap();
    let table = page.find("table", "class", "meta").expect("the run table");
    assert!(first < table, "the failures come before the run table");
    // The run: when, what, which release, TLS, options and the counts.
    let row = |th: &str| {
        page.rows
            .get(th)
            .unwrap_or_else(|| panic!("no row {th}: {:?}", page.rows))
            .clone()
    };
    let started = row("started (UTC)");
    assert!(
        started.len() == 20 && started.ends_with('Z') && started.as_bytes()[10] == b'T',
        "{started}"
    );
    assert_eq!(row("target"), "embedded simulator fault=html-error");
    assert_eq!(row("release"), "default");
    assert_eq!(row("TLS"), "TLS verification: on");
    assert!(
        row("options").contains("agentbyworkno.body_shape=wrapped"),
        "{}",
        row("options")
    );
    assert!(
        row("cases").starts_with(&format!(
            "{} passed, {} failed, {} transport errors",
            counts.tests - counts.failures - counts.errors - counts.skipped,
            counts.failures,
            counts.errors
        )),
        "{}",
        row("cases")
    );
    // The HTML reply is shown as text.
    assert!(page.text.contains("<h1>Invalid parameter</h1>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reply_text_stays_text() {
    let path = hostile_report("html-parse-hostile").await;
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!reports::leaks_secret(&html), "a signature in the page");
    let page = Page::parse(&html);
    assert_well_formed(&page, "hostile report");
    for shown in [
        "</pre></details><img src=x onerror=alert(2)>",
        "</system-out></failure></testcase><script>alert(1)</script>",
        "\\x1b]0;pwned\\x07\\x1b[2J",
        "\\x00\\x08\\x0b\\x0c\\x7f\\u{9b}31m",
        "\\u{202e}desrever\\u{202c}",
        "\\u{fffe}\\u{ffff}",
        "end\n##vso[task.setvariable variable=x]1\n::error::pwned",
    ] {
        assert!(page.text.contains(shown), "{shown:?} is shown as text");
    }
    assert!(page.text.contains("INCONCLUSIVE"));
}

/// A browser: CMS_TEST_BROWSER, else chromium-headless-shell or chromium.
fn browser() -> PathBuf {
    if let Some(b) = std::env::var_os("CMS_TEST_BROWSER") {
        return b.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium-headless-shell", "chromium"] {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return p;
        }
    }
    panic!(
        "no headless browser for the HTML report test: apt-get install \
         chromium-headless-shell (or chromium; .ci/run installs it), or set CMS_TEST_BROWSER"
    );
}

/// Run the browser headless at 1280×800 on `page` with `args`, within 30 s.
fn chromium(profile: &Path, args: &[&str], page: &Path) -> Output {
    let mut child = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} ({e})", browser().display()));
    let started = Instant::now();
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser took over 30 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Measures the rendered page and writes the result into it as JSON.
const PROBE: &str = r#"<script>(function () {
  var vw = document.documentElement.clientWidth, vh = window.innerHeight, wide = [];
  var all = document.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    var el = all[i];
    if (r.right > vw + 0.5 || r.left < -0.5 || (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1))
      wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right) +
                ' scroll ' + el.scrollWidth + '/' + el.clientWidth);
  }
  var a = document.querySelector('ol.failures a'), r = a && a.getBoundingClientRect();
  var target = a && document.getElementById(a.getAttribute('href').slice(1));
  var out = {
    vw: vw, vh: vh, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10),
    first: a ? { text: a.textContent, top: r.top, bottom: r.bottom, left: r.left, right: r.right } : null,
    target_open: !!(target && target.tagName === 'DETAILS' && target.open),
    active: document.querySelectorAll('script,img,iframe,object,embed,link,form,input,svg').length
  };
  var pre = document.createElement('pre');
  pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();</script>"#;

/// `page` rendered by the browser, measured by [`PROBE`] in a copy of it
/// (the copy drops the CSP, which rightly forbids the probe's script).
fn measure(page: &Path, profile: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">";
    assert!(html.contains(csp), "the report has its CSP");
    let end = html.rfind("</body>").expect("</body>");
    let probed = format!("{}{PROBE}{}", &html[..end], &html[end..]).replacen(csp, "", 1);
    let copy = page.with_extension("probe.html");
    std::fs::write(&copy, probed).unwrap();
    let o = chromium(profile, &["--dump-dom"], &copy);
    let dom = String::from_utf8_lossy(&o.stdout);
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "the probe did not run on {}:\n{}",
                copy.display(),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// Nothing wider than the window, no element whose content overflows its
/// box (a sideways scrollbar), and nothing from the reply became an
/// element (the probe's own script is the one active element).
fn assert_fits(m: &serde_json::Value, what: &str) {
    assert_eq!(m["vh"], 800, "{what}: the window is 800 high: {m}");
    let vw = m["vw"].as_f64().unwrap();
    assert!(vw > 1200.0 && vw <= 1280.0, "{what}: {m}");
    assert!(
        m["scrollWidth"].as_f64().unwrap() <= vw,
        "{what}: scrolls sideways: {m}"
    );
    assert_eq!(
        m["wide"],
        serde_json::json!([]),
        "{what}: wider than the window"
    );
    assert_eq!(
        m["active"], 1,
        "{what}: only the probe's script is active: {m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_shows_the_first_failure_at_once_and_nothing_overflows() {
    let t0 = Instant::now();
    let (red, _) = red_report("html-browser");
    let hostile = hostile_report("html-browser-hostile").await;
    let profile = red.parent().unwrap().join("profile");

    let m = measure(&red, &profile);
    assert_fits(&m, "red report");
    let first = &m["first"];
    assert!(
        first["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("FAIL agentbyworkno::")),
        "{m}"
    );
    let (top, bottom) = (
        first["top"].as_f64().unwrap(),
        first["bottom"].as_f64().unwrap(),
    );
    assert!(
        top >= 0.0 && bottom <= 800.0 && bottom > top,
        "the first failure is on screen without scrolling: {m}"
    );
    assert!(first["right"].as_f64().unwrap() <= m["vw"].as_f64().unwrap());
    assert_eq!(
        m["target_open"], true,
        "its link lands on an open case: {m}"
    );

    // A 3,000-character word and hostile markup in the reply, the target and a warning.
    let m = measure(&hostile, &profile);
    assert_fits(&m, "hostile report");
    assert!(
        m["first"]["bottom"].as_f64().is_some_and(|b| b <= 800.0),
        "a long target does not push the failures off the screen: {m}"
    );

    // The browser's own DOM of the untouched page: nothing became an element.
    let o = chromium(&profile, &["--dump-dom"], &hostile);
    let dom = Page::parse(&String::from_utf8_lossy(&o.stdout));
    for (name, _) in &dom.tags {
        assert!(
            TAGS.contains(&name.as_str()) || name == "tbody",
            "<{name}> in the DOM"
        );
    }
    assert!(dom.text.contains("<script>alert(1)</script>"));

    // The screenshot, kept as an artifact.
    let shot = red.with_file_name("red-report.png");
    let o = chromium(
        &profile,
        &[&format!("--screenshot={}", shot.display())],
        &red,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}):\n{}",
            shot.display(),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!(
        (dim(16), dim(20)),
        (1280, 800),
        "the screenshot is the window"
    );
    println!("screenshot of the red HTML report: {}", shot.display());
    println!("browser checks took {:?}", t0.elapsed());
}
