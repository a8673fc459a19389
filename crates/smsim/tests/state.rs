//! `--state`: what survives a restart of the gateway.

use smsim::Smsim;
use std::time::Duration;

mod common;
use common::send;

#[tokio::test]
async fn a_state_file_keeps_messages_credentials_and_opt_outs() {
    let dir = std::env::temp_dir().join(format!("smsim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("smsim.json");
    let _ = std::fs::remove_file(&path);
    let gw = Smsim::builder()
        .state_file(&path)
        .step_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let (sid, token) = (gw.account_sid().to_string(), gw.auth_token().to_string());
    send(
        &gw,
        &[
            ("To", "+15558675310"),
            ("From", smsim::DEFAULT_NUMBER),
            ("Body", "kept"),
        ],
    )
    .await;
    gw.inject("+15558675399", None, "STOP").await.unwrap();
    gw.shutdown().await;

    // Stopped mid-way (status steps of a minute): the message carries on from where it was
    // once the gateway starts again.
    let slow = Smsim::builder()
        .state_file(&path)
        .step_delay(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let (_, pending) = send(
        &slow,
        &[
            ("To", "+15558675311"),
            ("From", smsim::DEFAULT_NUMBER),
            ("Body", "on its way"),
        ],
    )
    .await;
    slow.shutdown().await;

    let again = Smsim::builder()
        .state_file(&path)
        .step_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let pending_sid = pending["sid"].as_str().unwrap();
    assert_eq!(
        again.message(pending_sid).unwrap().status,
        twilio_wire::MessageStatus::Queued
    );
    for _ in 0..200 {
        if again.message(pending_sid).unwrap().status == twilio_wire::MessageStatus::Delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        again.message(pending_sid).unwrap().status,
        twilio_wire::MessageStatus::Delivered
    );
    assert_eq!(
        (again.account_sid(), again.auth_token()),
        (sid.as_str(), token.as_str())
    );
    assert!(again.messages().iter().any(|m| m.body == "kept"));
    assert_eq!(again.opt_outs().len(), 1);
    again.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
