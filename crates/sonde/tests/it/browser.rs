//! Real headless Chromium, driven through chromedriver's WebDriver protocol: a respondent
//! answers every question type on the sample survey by clicking and typing, and another
//! leaves mid-way. Skipped when Chromium is absent, unless `SONDE_REQUIRE_BROWSER=1`.

use crate::harness::{Backend, TestApp};
use engine::Role;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use survey::flow::{self, Step};
use survey::{Answer, QuestionKind, ResponseData};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The widths pages are looked at: a laptop and a phone.
pub(crate) const DESKTOP: u32 = 1280;
pub(crate) const PHONE: u32 = 390;

fn find_binary(env: &str, candidates: &[&str]) -> Option<String> {
    if let Ok(p) = std::env::var(env) {
        return Some(p);
    }
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a headless session, or says why not.
    pub(crate) async fn start() -> Option<Self> {
        let required = std::env::var("SONDE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let driver = find_binary(
            "SONDE_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let chromium = find_binary(
            "SONDE_CHROMIUM",
            &[
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ],
        );
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            assert!(
                !required,
                "SONDE_REQUIRE_BROWSER=1 but chromium/chromedriver were not found"
            );
            eprintln!("note: chromium or chromedriver not found; browser test skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("sonde-chromium-{}", store::ids::random_token(8)));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=412,915",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Some(Self {
            driver: child,
            base,
            session,
            http,
        })
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].is_object() && v["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    pub(crate) async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks what leads to another page (a link, a form's button) and waits until that page
    /// has loaded: the old one is marked first, so text both pages share cannot be mistaken
    /// for the new one.
    pub(crate) async fn click_to_next_page(&self, css: &str) {
        self.execute("window.__sondeOldPage = true;", json!([]))
            .await;
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let loaded = self
                .execute(
                    "return !window.__sondeOldPage && document.readyState === 'complete';",
                    json!([]),
                )
                .await;
            if loaded == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "{css} led to no new page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub(crate) async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits for the page to show `text` (a click's navigation finishes after the click returns).
    pub(crate) async fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let html = self.source().await;
            if html.contains(text) {
                return html;
            }
            assert!(
                Instant::now() < deadline,
                "page never showed {text:?}:\n{html}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        self.screenshot_to(&dir.join(format!("{name}.png"))).await;
    }

    pub(crate) async fn screenshot_to(&self, path: &std::path::Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(b64) = v.as_str() {
            use base64::Engine;
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) {
                let _ = std::fs::write(path, bytes);
            }
        }
    }

    /// Whole-page screenshots at desktop (1280) and phone (390) widths, `{name}-desktop.png`
    /// and `{name}-phone.png` in `SONDE_SCREENSHOTS` if set (else the target's temporary
    /// directory).
    pub(crate) async fn shots(&self, name: &str) {
        let dir = std::env::var("SONDE_SCREENSHOTS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
        self.shots_in(&dir, name).await;
    }

    /// [`Browser::shots`] into `dir`: each width's window is as tall as the page (up to
    /// 6,000 px), then the window goes back to desktop size.
    pub(crate) async fn shots_in(&self, dir: &std::path::Path, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        for (width, kind) in [(390, "phone"), (1280, "desktop")] {
            self.resize(width, 900).await;
            let height = self
                .execute("return document.documentElement.scrollHeight;", json!([]))
                .await
                .as_u64()
                .unwrap_or(900)
                .clamp(600, 6000);
            self.resize(width, height as u32 + 140).await;
            self.screenshot_to(&dir.join(format!("{name}-{kind}.png")))
                .await;
        }
        self.resize(1280, 900).await;
    }

    /// The value of `attribute` on the element `css` finds.
    pub(crate) async fn attribute(&self, css: &str, attribute: &str) -> String {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/attribute/{attribute}"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_else(|| panic!("{css} has no {attribute}"))
        .to_string()
    }

    /// Runs `script` in the page (`return …` gives its value back).
    pub(crate) async fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// A DOM property of the first element `css` matches (an input's live `value`).
    pub(crate) async fn property(&self, css: &str, name: &str) -> Value {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/property/{name}"),
            None,
        )
        .await
    }

    /// Resizes the window; the page lays itself out again without reloading.
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Makes the page's clock read in `zone` (an IANA name), as a viewer there sees it.
    pub(crate) async fn set_time_zone(&self, zone: &str) {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setTimezoneOverride", "params": {"timezoneId": zone}})),
        )
        .await;
    }

    /// Chooses a file for the `input[type=file]` that `css` matches.
    pub(crate) async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    pub(crate) async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

fn css_escape(id: &str) -> String {
    id.replace('.', "\\.")
}

/// Answers the questions on the current page through the page's own controls.
pub(crate) async fn answer_page(
    b: &Browser,
    def: &survey::SurveyDefinition,
    questions: &[String],
    answers: &std::collections::BTreeMap<String, Answer>,
) {
    for qid in questions {
        let q = def.questions.iter().find(|q| &q.id == qid).unwrap();
        let Some(answer) = answers.get(qid) else {
            continue;
        };
        match (&q.kind, answer) {
            (QuestionKind::MultipleChoice { .. }, Answer::Choices { selected, text }) => {
                for c in selected {
                    b.click(&format!("#{}", css_escape(&format!("{qid}-{c}"))))
                        .await;
                }
                for (c, t) in text {
                    b.type_into(&format!("input[name='{qid}_{c}_TEXT']"), t)
                        .await;
                }
            }
            (QuestionKind::Nps { .. }, Answer::Number(n)) => {
                b.click(&format!("#{qid}-{}", *n as i64)).await;
            }
            (QuestionKind::TextEntry { multiline, .. }, Answer::Text(t)) => {
                let tag = if *multiline { "textarea" } else { "input" };
                b.type_into(&format!("{tag}#{qid}"), t).await;
            }
            (QuestionKind::Matrix { .. }, Answer::Matrix { rows }) => {
                for (st, col) in rows {
                    b.click(&format!("input[name='{qid}_{st}'][value='{col}']"))
                        .await;
                }
            }
            (QuestionKind::Slider { .. }, Answer::Slider { values }) => {
                for (st, v) in values {
                    b.type_into(&format!("#{qid}_{st}"), &v.to_string()).await;
                }
            }
            _ => {}
        }
    }
}

/// Answers every page the flow gives `answers` on, through the pages' own controls, from the
/// page the browser shows to the end page (not waited for); screenshots each page as
/// `{shots}-{n}` when named. Answers the number of pages.
pub(crate) async fn answer_through(
    b: &Browser,
    def: &survey::SurveyDefinition,
    answers: &std::collections::BTreeMap<String, Answer>,
    shots: Option<&str>,
) -> usize {
    let mut data = ResponseData::default();
    let mut step = flow::start(def, &data);
    let mut pages = 0;
    while let Step::Page(page) = step {
        pages += 1;
        answer_page(b, def, &page.questions, answers).await;
        if let Some(name) = shots {
            b.screenshot(&format!("{name}-{pages}")).await;
        }
        for q in &page.questions {
            if let Some(a) = answers.get(q) {
                data.answers.insert(q.clone(), a.clone());
            }
        }
        b.click("button[type=submit]").await;
        step = flow::next(def, &page.cursor, &data);
        if let Step::Page(next) = &step {
            b.wait_for(&format!("name=\"_page\" value=\"{}\"", next.number))
                .await;
        }
    }
    pages
}

#[tokio::test]
async fn a_respondent_answers_every_question_type_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let id = app.sample_survey(&token).await;
    let def = survey::sample::sample_definition();
    let mut answers = sonde::bench::complete_answers(&def);
    answers.insert("QID3".into(), Answer::Number(4.0));
    answers.remove("QID2");

    browser
        .goto(&app.url(&format!(
            "/s/{id}?ContactId=0035g00000BrWsRAAA&OptOut=False"
        )))
        .await;
    let pages = answer_through(&browser, &def, &answers, Some("respondent-page")).await;
    let end = browser.wait_for("Thank").await;
    browser.screenshot("respondent-end").await;
    assert!(end.contains("Thank"), "end page:\n{end}");
    assert!(pages >= 3);

    let list = app
        .get_json(&token, &format!("/api/v1/surveys/{id}/responses"))
        .await;
    let r = &list["responses"][0];
    assert_eq!(r["status"], "complete", "{r}");
    assert_eq!(r["embeddedData"]["ContactId"], "0035g00000BrWsRAAA");
    for (qid, expected) in &answers {
        assert_eq!(
            &r["answers"][qid],
            &serde_json::to_value(expected).unwrap(),
            "answer to {qid}"
        );
    }
    let csv = app
        .get(
            &token,
            &format!("/api/v1/surveys/{id}/responses?format=csv"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("0035g00000BrWsRAAA"), "{csv}");
    assert!(csv.contains(r["responseId"].as_str().unwrap()));

    // A second respondent answers the first page and leaves.
    browser.quit().await;
    let Some(second) = Browser::start().await else {
        return;
    };
    second
        .goto(&app.url(&format!("/s/{id}?ContactId=0035g00000LeFtAAAA")))
        .await;
    let Step::Page(first) = flow::start(&def, &ResponseData::default()) else {
        panic!()
    };
    answer_page(&second, &def, &first.questions, &answers).await;
    second.click("button[type=submit]").await;
    second.wait_for("name=\"_page\" value=\"2\"").await;
    second.quit().await;
    let hours = def.options.incomplete_after_hours as i64;
    app.sonde
        .store
        .close_expired_responses(store::now_ms() + (hours + 1) * 3_600_000)
        .await
        .unwrap();
    let list: Value = app
        .get(
            &token,
            &format!("/api/v1/surveys/{id}/responses?status=incomplete"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = &list["responses"][0];
    assert_eq!(
        r["embeddedData"]["ContactId"], "0035g00000LeFtAAAA",
        "{list}"
    );
    assert_eq!(r["answers"]["QID3"], 4.0);
}
