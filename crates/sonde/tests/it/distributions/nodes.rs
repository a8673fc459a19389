//! Several nodes on one PostgreSQL database share a distribution's work: its audience is
//! written once and each recipient is sent to once.

use super::Fixture;
use crate::harness::Backend;
use serde_json::json;
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_send_each_of_1200_recipients_once() {
    const N: usize = 1_200;
    if std::env::var("SONDE_TEST_POSTGRES_URL").is_err() {
        eprintln!("note: SONDE_TEST_POSTGRES_URL not set; skipped");
        return;
    }
    let Some(f) = Fixture::new(Backend::Postgres, &[], &[]).await else {
        return;
    };
    let list = f.list("Everyone").await;
    let mut csv = String::from("Email,FirstName\n");
    for i in 0..N {
        csv.push_str(&format!("p{i:04}@example.com,P{i}\n"));
    }
    let report = f
        .app
        .sonde
        .import_contacts_csv(&f.actor, csv.into_bytes(), Some(&list), 10)
        .await
        .unwrap();
    assert_eq!(report.created, N, "{report:?}");
    let template = f.template("Visit").await;
    let (s, d) = f
        .distribute(json!({"channel": "email", "mailingListId": list, "templateId": template}))
        .await;
    assert_eq!(s, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_string();

    // A second node: its own engine and its own SMTP connections, over the same database.
    let node2 = engine::Sonde::with_secrets(
        f.app.sonde.store.clone(),
        engine::Config {
            public_url: f.app.base.clone(),
        },
        // The same instance key as the first node (the harness's), as every node must have.
        Some(engine::secrets::SecretBox::from_key(&[0x5e; 32])),
    )
    .await
    .unwrap();
    node2.set_mailer(Some(f.catcher.mailer()));
    let mut nodes = Vec::new();
    for sonde in [f.app.sonde.clone(), node2] {
        let (actor, id) = (f.actor.clone(), id.clone());
        nodes.push(tokio::spawn(async move {
            // Each node works until the whole distribution is sent, not just until it finds
            // nothing due (the other node may be writing the audience it will send).
            let mut claimed = 0;
            loop {
                claimed += sonde.drain_distributions().await.unwrap().claimed;
                let d = sonde.distribution(&actor, &id).await.unwrap();
                if d.stats.sent + d.stats.failed >= N as i64 {
                    return claimed;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }));
    }
    let mut claimed_by = Vec::new();
    for n in nodes {
        claimed_by.push(n.await.unwrap());
    }
    assert!(
        claimed_by.iter().all(|c| *c > 0),
        "both nodes did some of the work: {claimed_by:?}"
    );
    eprintln!("jobs claimed by each node: {claimed_by:?}");

    let received = f.catcher.received();
    let mut per_address: HashMap<String, usize> = HashMap::new();
    for m in &received {
        *per_address.entry(m.to().to_string()).or_default() += 1;
    }
    assert_eq!(per_address.len(), N, "every recipient received it");
    let twice: Vec<_> = per_address.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    let stats = f.distribution(&id).await["stats"].clone();
    assert_eq!(stats["selected"], N, "{stats}");
    assert_eq!(stats["sent"], N, "{stats}");
}
