//! Integration tests: a real org on a random port, driven over raw HTTP the way any client
//! would. One test binary (modules below) keeps link time down.

mod bulk;
mod canvas;
mod conversations;
mod oauth;
mod org;
mod outbound;
mod query;
mod rest;
mod wire;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sfsim::{Org, RunningOrg, Seed};

/// A running demo org plus an HTTP client and helpers.
pub struct TestOrg {
    pub org: RunningOrg,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

pub async fn demo() -> TestOrg {
    start(Org::builder().seed(Seed::Demo)).await
}

pub async fn start(b: sfsim::OrgBuilder) -> TestOrg {
    let org = b.start().await.expect("org starts");
    let token = org.access_token().to_string();
    TestOrg {
        org,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        token,
    }
}

impl TestOrg {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/") {
            format!("{}{}", self.org.instance_url(), path)
        } else {
            format!("{}/services/data/v59.0/{}", self.org.instance_url(), path)
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_as(&self.token, method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }
    pub async fn query(&self, soql: &str) -> Answer {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        self.get(&format!("query?q={q}")).await
    }

    /// Creates a record and returns its id, failing the test on error.
    pub async fn create(&self, object: &str, body: Value) -> String {
        let a = self.post(&format!("sobjects/{object}"), body).await;
        assert_eq!(a.status, 201, "{}", a.text);
        a.json["id"].as_str().unwrap().to_string()
    }

    pub async fn form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let resp = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }
}

pub fn error_code(a: &Answer) -> String {
    a.json[0]["errorCode"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
