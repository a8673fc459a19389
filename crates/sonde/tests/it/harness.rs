//! Test apps on port 0 with a fresh database each: a temporary SQLite file, or a fresh schema
//! in the PostgreSQL database named by `SONDE_TEST_POSTGRES_URL`.

use engine::{Actor, Config, Role, Sonde};
use store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run covers. PostgreSQL is skipped (with a note) unless configured;
/// CI configures it, so there its absence fails the run instead.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var("SONDE_TEST_POSTGRES_URL").is_ok() {
        b.push(Backend::Postgres);
    } else {
        eprintln!("note: SONDE_TEST_POSTGRES_URL not set; PostgreSQL runs skipped");
    }
    b
}

pub struct TestDb {
    pub store: Store,
    _dir: Option<TempDir>,
}

/// A directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("sonde-test-{}", store::ids::random_token(10)));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn fresh_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new();
            let store = Store::open_data_dir(&dir.0).await.expect("open sqlite");
            store.migrate().await.expect("migrate sqlite");
            TestDb {
                store,
                _dir: Some(dir),
            }
        }
        Backend::Postgres => {
            let base = std::env::var("SONDE_TEST_POSTGRES_URL").unwrap();
            let url = fresh_pg_schema(&base).await;
            let store = Store::connect(&url).await.expect("connect postgres");
            store.migrate().await.expect("migrate postgres");
            TestDb { store, _dir: None }
        }
    }
}

/// A new schema in the test database, and a URL whose connections use it.
pub async fn fresh_pg_schema(base: &str) -> String {
    let (store, url) = Store::connect_fresh_schema(base, "t")
        .await
        .expect("connect to SONDE_TEST_POSTGRES_URL");
    store.close().await;
    url
}

/// The password every test user is given.
pub const PASSWORD: &str = "correct horse battery";

/// A person signed in to the admin UI: the session cookie's value and the CSRF token its
/// forms echo.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub cookie: String,
    pub csrf: String,
}

/// A client as a browser is one: it keeps cookies and shows redirects instead of following them.
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// As [`cookie_client`], connecting from `address` (any of 127.0.0.0/8 reaches a loopback
/// server), so tests can sign in from addresses of their own.
pub fn cookie_client_from(address: std::net::IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address)
        .build()
        .unwrap()
}

/// Signs in at `base` as a browser does: the form first (which sets the sign-in CSRF cookie and
/// carries its token), then the POST with the token. Answers the POST's response.
pub async fn sign_in_at(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&form);
    client
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

pub struct TestApp {
    pub base: String,
    pub sonde: Sonde,
    pub client: reqwest::Client,
    _db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let db = fresh_db(backend).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let sonde = Sonde::with_secrets(
            db.store.clone(),
            Config {
                public_url: base.clone(),
            },
            Some(engine::secrets::SecretBox::from_key(&[0x5e; 32])),
        )
        .await
        .unwrap();
        let app = web::app(web::AppState::new(sonde.clone()));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base,
            sonde,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _db: db,
            server,
        }
    }

    /// The SQLite data directory (None on PostgreSQL).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._db._dir.as_ref().map(|d| d.0.as_path())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new organization with one user of the given role, and that user's API token.
    pub async fn org_user(&self, role: Role) -> (Actor, String) {
        let org = self
            .sonde
            .store
            .create_organization(&format!("Org {}", store::ids::random_token(4)))
            .await
            .unwrap();
        self.user_in(&org.id, role).await
    }

    pub async fn user_in(&self, org_id: &str, role: Role) -> (Actor, String) {
        let email = format!("{}@example.com", store::ids::random_token(8).to_lowercase());
        let actor = self
            .sonde
            .add_user(Some(org_id), &email, role, PASSWORD)
            .await
            .unwrap();
        let token = self.sonde.create_api_token(&email, "test").await.unwrap();
        (actor, token)
    }

    /// Signs `email` in on `client` through the sign-in form (see [`sign_in_at`]).
    pub async fn sign_in_web(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        sign_in_at(client, &self.base, email, password).await
    }

    pub fn get(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    pub fn post(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(token)
    }

    pub fn put(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path)).bearer_auth(token)
    }

    /// GET with the token, decoded as JSON.
    pub async fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        self.get(token, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signs `email` in through the login form, without a cookie jar, so several people can be
    /// signed in side by side.
    pub async fn sign_in(&self, email: &str) -> WebSession {
        // A jar only for the sign-in form's own CSRF cookie; the session is then sent by hand.
        let r = sign_in_at(&cookie_client(), &self.base, email, PASSWORD).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert_eq!(r.status(), 303, "{email} signs in");
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("sonde_session="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_string();
        let page = http
            .get(self.url("/surveys"))
            .header("cookie", format!("sonde_session={cookie}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        WebSession {
            csrf: csrf_of(&page),
            cookie,
        }
    }

    /// A page of the admin UI as `session` sees it: status and body.
    pub async fn web_get(&self, session: &WebSession, path: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .get(self.url(path))
            .header("cookie", format!("sonde_session={}", session.cookie))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// A form of the admin UI posted as `session` with its CSRF token (redirects not followed).
    pub async fn web_post(
        &self,
        session: &WebSession,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let mut fields = vec![("csrf", session.csrf.as_str())];
        fields.extend_from_slice(form);
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(self.url(path))
            .header("cookie", format!("sonde_session={}", session.cookie))
            .form(&fields)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Imports the sample survey through the API and returns its id.
    pub async fn sample_survey(&self, token: &str) -> String {
        self.create_survey(token, &survey::sample::sample_definition())
            .await
    }

    /// Creates a survey from a native definition through the API and returns its id.
    pub async fn create_survey(
        &self,
        token: &str,
        definition: &survey::SurveyDefinition,
    ) -> String {
        let def = serde_json::to_string(definition).unwrap();
        let r = self
            .post(token, "/api/v1/surveys")
            .header("content-type", "application/json")
            .body(def)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_string()
    }
}

pub fn qsf_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/qsf")
}

/// The value of a hidden field of a respondent page (`_response`, `_page`, ...).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page:\n{html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Submits a respondent page as a browser would (its hidden fields — the response, or what
/// stands for it before the first page is stored — plus `fields`) with the app's client, so
/// the resume cookie travels; the status and the next page.
pub async fn submit(
    app: &TestApp,
    survey_id: &str,
    html: &str,
    fields: Vec<(String, String)>,
) -> (u16, String) {
    let mut form = sonde::bench::mapping::hidden_inputs(html);
    assert!(
        form.iter().any(|(k, _)| k == "_page"),
        "no respondent form in page:\n{html}"
    );
    form.extend(fields);
    let r = app
        .client
        .post(app.url(&format!("/s/{survey_id}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The hosts a local org lives on (loopback, not a Salesforce domain), allowed explicitly as an
/// operator does with `SONDE_SALESFORCE_ALLOWED_HOSTS`.
pub fn sfsim_hosts(org: &sfsim::RunningOrg) -> salesforce::AllowedHosts {
    salesforce::AllowedHosts::parse(&org.host()).unwrap()
}

/// Delivery settings for tests against a local org: its connected app, its host allowed.
pub fn sfsim_settings(org: &sfsim::RunningOrg) -> engine::connections::SalesforceSettings {
    let mut s = engine::connections::SalesforceSettings::defaults();
    s.client_id = Some(org.client_id().to_string());
    s.client_secret = Some(salesforce::Secret::new(org.client_secret()));
    s.allowed_hosts = sfsim_hosts(org);
    s
}

/// A local org seeded with demo data and room for many API calls.
pub async fn start_sfsim() -> sfsim::RunningOrg {
    sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(1_000_000)
        .start()
        .await
        .unwrap()
}

/// Points the app's Salesforce linking and delivery at a local org, retrying quickly.
pub fn use_sfsim(app: &TestApp, org: &sfsim::RunningOrg) {
    let mut s = sfsim_settings(org);
    s.retry_base_ms = 1;
    app.sonde.configure_salesforce(s);
}

/// Links the local org to the token's user through the OAuth redirect dance; the connection id.
pub async fn link_sfsim(app: &TestApp, token: &str, org: &sfsim::RunningOrg) -> String {
    sonde::bench::mapping::link_org_via_oauth(
        &app.base,
        token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await
    .unwrap()
}

/// A fresh built-in org that `app` talks to, linked by the user of `token`: the org and the
/// connection's id.
pub async fn linked_org(app: &TestApp, token: &str) -> (sfsim::RunningOrg, String) {
    let sf = start_sfsim().await;
    use_sfsim(app, &sf);
    let connection = link_sfsim(app, token, &sf).await;
    (sf, connection)
}

/// A Contact (`case{i}@example.com`) for each `i` of `range`, each with a Case that is then
/// closed, `per_call` at a time with `pause` between the calls: (contact ids, case ids).
pub async fn close_cases(
    admin: &salesforce::Connection,
    range: std::ops::Range<usize>,
    per_call: usize,
    pause: std::time::Duration,
) -> (Vec<String>, Vec<String>) {
    let ids = |results: Vec<salesforce::collections::RecordResult>| -> Vec<String> {
        results
            .into_iter()
            .map(|r| r.id.unwrap_or_else(|| panic!("{:?}", r.errors)))
            .collect()
    };
    let contacts: Vec<serde_json::Value> = range
        .map(|i| {
            serde_json::json!({"LastName": format!("Case {i}"), "Email": format!("case{i:04}@example.com")})
        })
        .collect();
    let contacts = ids(admin.create_many("Contact", &contacts, true).await.unwrap());
    let cases: Vec<serde_json::Value> = contacts
        .iter()
        .map(|c| serde_json::json!({"Subject": "Broken kettle", "ContactId": c}))
        .collect();
    let cases = ids(admin.create_many("Case", &cases, true).await.unwrap());
    let closing: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| serde_json::json!({"Id": c, "Status": "Closed"}))
        .collect();
    for chunk in closing.chunks(per_call) {
        admin.update_many("Case", chunk, true).await.unwrap();
        tokio::time::sleep(pause).await;
    }
    (contacts, cases)
}

/// The org's own admin session, to look at what arrived without going through Sonde.
pub fn sfsim_admin(org: &sfsim::RunningOrg) -> salesforce::Connection {
    salesforce::Connection::builder(salesforce::Tokens {
        access_token: salesforce::Secret::new(org.session_for(&org.username()).unwrap()),
        refresh_token: None,
        instance_url: org.instance_url().to_string(),
    })
    .allowed_hosts(sfsim_hosts(org))
    .build()
    .unwrap()
}

/// The connected app several local orgs share in a test, so one Sonde configuration links
/// any of them (as one connected app is installed in many real orgs).
pub const SHARED_APP: (&str, &str) = ("3MVG9sondeSharedTestApp", "shared-test-app-secret");

/// A local org with the demo data whose connected app is [`SHARED_APP`].
pub async fn start_shared_app_org() -> sfsim::RunningOrg {
    sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(1_000_000)
        .client_credentials(SHARED_APP.0, SHARED_APP.1)
        .start()
        .await
        .unwrap()
}

/// Settings that link any of `orgs` (started with [`start_shared_app_org`]).
pub fn shared_app_settings(orgs: &[&sfsim::RunningOrg]) -> engine::connections::SalesforceSettings {
    let mut s = engine::connections::SalesforceSettings::defaults();
    s.client_id = Some(SHARED_APP.0.into());
    s.client_secret = Some(salesforce::Secret::new(SHARED_APP.1));
    let hosts: Vec<String> = orgs.iter().map(|o| o.host()).collect();
    s.allowed_hosts = salesforce::AllowedHosts::parse(&hosts.join(",")).unwrap();
    s.retry_base_ms = 1;
    s
}

/// Links `org` to the token's user through the API, signing in at the org as `username` the
/// way a browser does; `start` is the body of `POST /api/v1/salesforce/connections`. Returns
/// the status and text of the page the callback shows.
pub async fn link_org_as(
    app: &TestApp,
    token: &str,
    org: &sfsim::RunningOrg,
    username: &str,
    start: serde_json::Value,
) -> (u16, String) {
    let r = app
        .post(token, "/api/v1/salesforce/connections")
        .json(&start)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status != 201 {
        return (status, r.text().await.unwrap());
    }
    let v: serde_json::Value = r.json().await.unwrap();
    let authorize = v["authorizeUrl"].as_str().unwrap().to_string();
    assert!(authorize.contains("code_challenge=") && authorize.contains("state="));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = sonde::bench::mapping::allow_on_authorize_page(
        &browser,
        &authorize,
        org.login_url(),
        username,
        org.password(),
    )
    .await
    .unwrap();
    let r = browser.get(&back).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The token user's linked orgs as the API lists them.
pub async fn connections_of(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let v = app.get_json(token, "/api/v1/salesforce/connections").await;
    v["connections"].as_array().cloned().unwrap_or_default()
}

/// Stores a response as the store holds it, started at `started_at` (ms), so a test can place
/// responses on chosen dates and in every status; returns its id.
pub async fn insert_response(
    app: &TestApp,
    org_id: &str,
    survey_id: &str,
    status: store::responses::ResponseStatus,
    started_at: i64,
    data: &survey::ResponseData,
) -> String {
    use store::responses::{ResponseRow, ResponseStatus};
    let open = status == ResponseStatus::InProgress;
    let ended = (!open).then_some(started_at + 90_000);
    let survey_version = app
        .sonde
        .store
        .survey(org_id, survey_id)
        .await
        .unwrap()
        .expect("the survey exists")
        .version;
    let row = ResponseRow {
        id: store::ids::response(),
        org_id: org_id.into(),
        survey_id: survey_id.into(),
        contact_id: None,
        status,
        data: serde_json::to_string(data).unwrap(),
        cursor: None,
        progress: if status == ResponseStatus::Complete {
            100
        } else {
            40
        },
        channel: "anonymous".into(),
        started_at,
        updated_at: started_at + 90_000,
        ended_at: ended.filter(|_| status == ResponseStatus::Complete),
        recorded_at: ended,
        // Far away, so no housekeeping closes it meanwhile.
        expires_at: open.then_some(started_at + 100 * 365 * 86_400_000),
        survey_version,
    };
    let mut tx = app.sonde.store.begin().await.unwrap();
    store::Store::insert_response(&mut tx, &row).await.unwrap();
    tx.commit().await.unwrap();
    row.id
}
