//! Calls a Twilio client makes, shared by the test binaries.
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use smsim::RunningSmsim;

pub fn messages_url(gw: &RunningSmsim) -> String {
    format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        gw.url(),
        gw.account_sid()
    )
}

pub async fn send(gw: &RunningSmsim, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(messages_url(gw))
        .basic_auth(gw.account_sid(), Some(gw.auth_token()))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

pub async fn get(gw: &RunningSmsim, url: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(url)
        .basic_auth(gw.account_sid(), Some(gw.auth_token()))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}
