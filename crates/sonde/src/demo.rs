//! `sonde demo`: a demo organization, its admin, the sample survey and the built-in Salesforce
//! org linked with a workflow, set up once; the built-in mail catcher and SMS gateway beside
//! them, whose messages the admin UI's Outbox shows; then it prints where to look and serves.

use super::{bench, prepare, run_server, DbArgs, ServeArgs};
use anyhow::Context;
use engine::{Actor, Role, Sonde};
use serde_json::{json, Value};
use std::net::SocketAddr;

pub(crate) const DEMO_ADMIN: &str = "admin@demo.sonde.local";

/// The printed commands that look at the built-in org use this REST API version.
const SF_API: &str = salesforce::DEFAULT_API_VERSION;

/// Sets up (once) a demo organization with an admin, the sample survey, the built-in org
/// linked through the real OAuth dance and a workflow writing each response into
/// `Survey_Response__c` under the respondent's Account; then serves.
pub(crate) async fn run(
    db: &DbArgs,
    args: &ServeArgs,
    sfsim_listen: SocketAddr,
) -> anyhow::Result<()> {
    let store = db.open().await?;
    // The built-in org keeps its data beside Sonde's, so a restarted demo finds it again.
    let org = sfsim::Org::builder()
        .listen(sfsim_listen)
        .seed(sfsim::Seed::Demo)
        .state_dir(db.data_dir.join("sfsim"))
        .start()
        .await
        .context("starting the built-in Salesforce org")?;
    let (listener, sonde) = prepare(store.clone(), args, Some(&db.data_dir)).await?;
    // Invitations go to the built-in mail catcher, unless the operator set a mail server.
    let mailsim = mailsim::Mailsim::builder()
        .start()
        .await
        .context("starting the built-in mail catcher")?;
    if sonde.mailer().is_none() {
        let from =
            std::env::var("SONDE_MAIL_FROM").unwrap_or_else(|_| "surveys@demo.sonde.local".into());
        let settings = engine::mail::MailSettings::parse(&mailsim.smtp_url(), &from, None, None)
            .map_err(anyhow::Error::msg)?;
        sonde.set_mailer(Some(
            engine::mail::Mailer::new(settings).map_err(anyhow::Error::msg)?,
        ));
    }
    // Texts go to the built-in SMS gateway, whose phones' replies come back signed to Sonde's
    // webhook, unless the operator set a Twilio account.
    let smsim = smsim::Smsim::builder()
        .state_file(db.data_dir.join("smsim.json"))
        .webhook(&format!("{}/webhooks/twilio/inbound", sonde.public_url()))
        .start()
        .await
        .context("starting the built-in SMS gateway")?;
    if sonde.sms().is_none() {
        let settings = engine::sms::SmsSettings::parse(
            Some(smsim.url()),
            Some(smsim.account_sid()),
            Some(smsim.auth_token()),
            smsim.numbers().first().map(String::as_str),
            None,
        )
        .map_err(anyhow::Error::msg)?;
        sonde.set_sms(Some(
            engine::sms::SmsGateway::new(settings).map_err(anyhow::Error::msg)?,
        ));
    }
    let outbox = web::ui_outbox::Outbox {
        mail_url: Some(mailsim.http_url().to_string()),
        sms_url: Some(smsim.url().trim_end_matches('/').to_string()),
    };
    let mut settings = engine::connections::SalesforceSettings::from_env();
    settings.client_id = Some(org.client_id().to_string());
    settings.client_secret = Some(salesforce::Secret::new(org.client_secret()));
    // The built-in org is on this machine, not a Salesforce domain: allow it by name, beside
    // whatever the operator allows.
    let sfsim_host = org.host();
    settings.allowed_hosts = settings.allowed_hosts.allow(&sfsim_host)?;
    sonde.configure_salesforce(settings.clone());
    let public_url = sonde.public_url().to_string();
    let server = tokio::spawn(run_server(listener, sonde.clone(), outbox, None));

    let password_file = db.data_dir.join("demo-admin-password");
    let admin = match sonde.user_by_email(DEMO_ADMIN).await {
        Ok(admin) => admin,
        Err(_) => {
            let password = store::ids::random_token(16);
            let company = store.create_organization("Demo Company").await?;
            let admin = sonde
                .add_user(Some(&company.id), DEMO_ADMIN, Role::Admin, &password)
                .await?;
            store::private_files::create_private_dir(&db.data_dir)?;
            store::private_files::write_private(&password_file, password.as_bytes())?;
            admin
        }
    };
    let password = std::fs::read_to_string(&password_file)
        .unwrap_or_else(|_| "(set when the demo was first created)".into());
    let survey_id = match sonde.surveys(&admin).await?.last() {
        Some(s) => s.id.clone(),
        None => {
            let definition = serde_json::to_string(&survey::sample::sample_definition())?;
            sonde.create_survey(&admin, &definition).await?.survey.id
        }
    };
    let org_admin = salesforce::Connection::builder(salesforce::Tokens {
        access_token: salesforce::Secret::new(
            org.session_for(&org.username())
                .context("built-in org session")?,
        ),
        refresh_token: None,
        instance_url: org.instance_url().to_string(),
    })
    .allowed_hosts(settings.allowed_hosts.clone())
    .build()?;
    // A respondent from the demo company, with what the sample survey pipes and the workflow
    // writes: their first name (`${m://FirstName}`) and their Salesforce ids.
    let contacts: Vec<Value> = futures::TryStreamExt::try_collect(org_admin.query_all::<Value>(
        "SELECT Id, FirstName, LastName, Email, AccountId, Account.Name FROM Contact \
         WHERE AccountId != null AND Email != null ORDER BY Id LIMIT 1",
    ))
    .await?;
    let sf_contact = contacts.first().context("the demo org has a contact")?;
    let (respondent, contact_id) = respondent_link(&sonde, &admin, &survey_id, sf_contact).await?;
    // One invitation on the first start, so the Outbox shows what a distribution sends.
    if sonde
        .survey_distributions(&admin, &survey_id)
        .await?
        .is_empty()
    {
        invite(&sonde, &admin, &survey_id, &contact_id).await?;
    }
    if sonde.workflows(&admin, &survey_id).await?.is_empty() {
        create_workflow(&sonde, &public_url, &survey_id, &org).await?;
    }
    let triggered = sonde
        .workflows(&admin, &survey_id)
        .await?
        .iter()
        .any(|w| w.event == engine::workflows::Event::SalesforceMessage);
    if !triggered {
        case_closed_workflow(&sonde, &admin, &survey_id, &org).await?;
    }
    // An open case of the demo's contact, for the printout's PATCH to close.
    let case_id = org_admin
        .create(
            "Case",
            &json!({"Subject": "Demo: the kettle is broken", "Origin": "Web",
                    "ContactId": sf_contact["Id"], "AccountId": sf_contact["AccountId"]}),
        )
        .await
        .context("opening the demo's case")?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let account_id = text(&sf_contact["AccountId"]);
    let account_name = text(&sf_contact["Account"]["Name"]);
    let login_url = org.login_url();
    let instance_url = org.instance_url();
    println!("Sonde demo is starting.");
    println!("  Admin UI:        {public_url}/login");
    println!("  Sign in as:      {DEMO_ADMIN}");
    println!("  Password:        {}", password.trim());
    println!("  Sample survey:   {respondent}");
    println!(
        "                   (a personal link for {} {} of {account_name}: one response; each start prints a new one)",
        text(&sf_contact["FirstName"]),
        text(&sf_contact["LastName"]),
    );
    println!("  API (OpenAPI):   {public_url}/api/v1/openapi.json");
    println!("  Outbox:          {public_url}/outbox");
    println!(
        "                   (the invitations sent: what the built-in mail catcher {} and SMS gateway {} received)",
        mailsim.http_url(),
        smsim.url()
    );
    println!("Built-in Salesforce org (sonde sfsim):");
    println!("  Login URL:       {login_url}");
    println!("  Instance URL:    {instance_url}");
    println!("  Username:        {}", org.username());
    println!("  Password:        {}", org.password());
    println!("  Client id:       {}", org.client_id());
    println!("  Client secret:   {}", org.client_secret());
    println!("  Each finished response becomes a Survey_Response__c under {account_name} ({account_id}),");
    println!("  and the account's roll-up Survey_Response_Count__c goes up. To watch it (curl, python3):");
    for line in watch_commands(&org, &account_id) {
        println!("    {line}");
    }
    println!(
        "  Closing a case sends its contact the survey (the org's \"Case closed\" Outbound Message"
    );
    println!(
        "  fires the workflow \"Case closed: CSAT invitation\"; the email shows in the Outbox):"
    );
    println!(
        "    curl -s -X PATCH -H \"Authorization: Bearer $SF_TOKEN\" -H 'Content-Type: application/json' {}/services/data/v{SF_API}/sobjects/Case/{case_id} -d '{{\"Status\": \"Closed\"}}'",
        org.instance_url()
    );
    println!("Ctrl-C stops the demo.");
    let served = server.await?;
    org.shutdown().await;
    mailsim.shutdown().await;
    smsim.shutdown().await;
    served
}

/// An email template and a distribution of the survey to the demo's contact, sent now.
async fn invite(
    sonde: &Sonde,
    admin: &Actor,
    survey_id: &str,
    contact_id: &str,
) -> anyhow::Result<()> {
    let template: engine::message_templates::TemplateDefinition = serde_json::from_value(json!({
        "channel": "email",
        "name": "Demo invitation",
        "subject": "${m://FirstName}, how did we do?",
        "fromName": "Demo Company",
        "body": "<p>Hello ${m://FirstName},</p><p>Tell us about your last support request: \
                 ${l://SurveyLink?d=take the survey}.</p><p>${l://OptOutLink?d=Unsubscribe}</p>",
    }))?;
    let template = sonde.create_template(admin, template).await?;
    let input = engine::distributions::NewDistribution {
        contact_ids: Some(vec![contact_id.to_string()]),
        template_id: Some(template.id),
        ..Default::default()
    };
    sonde.create_distribution(admin, survey_id, input).await?;
    Ok(())
}

/// The Salesforce contact as a Sonde contact (matched again on the next start by its
/// Salesforce id) and a new personal link to the survey for them; the link and the contact.
async fn respondent_link(
    sonde: &Sonde,
    admin: &Actor,
    survey_id: &str,
    sf_contact: &Value,
) -> anyhow::Result<(String, String)> {
    let input = json!({
        "firstName": sf_contact["FirstName"],
        "lastName": sf_contact["LastName"],
        "email": sf_contact["Email"],
        "extRef": sf_contact["Id"],
        "embeddedData": {"sfContactId": sf_contact["Id"], "sfAccountId": sf_contact["AccountId"]},
    });
    let (contact, _) = sonde.save_contact(admin, &input, None).await?;
    let link = sonde.personal_link(admin, survey_id, &contact.id).await?;
    Ok((link, contact.id))
}

/// Links the built-in org as the demo admin through the OAuth dance and adds the workflow.
async fn create_workflow(
    sonde: &Sonde,
    public_url: &str,
    survey_id: &str,
    org: &sfsim::RunningOrg,
) -> anyhow::Result<()> {
    let token = sonde.create_api_token(DEMO_ADMIN, "demo setup").await?;
    let connection = bench::mapping::link_org_via_oauth(
        public_url,
        &token,
        org.login_url(),
        &org.username(),
        org.password(),
    )
    .await
    .context("linking the built-in org")?;
    let r = reqwest::Client::new()
        .post(format!("{public_url}/api/v1/surveys/{survey_id}/workflows"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Responses into Salesforce",
            "event": "response_created",
            "conditions": {"type": "all", "conditions": [
                {"type": "embedded_data", "field": "sfAccountId", "op": "is_not_empty"}
            ]},
            "tasks": [{
                "type": "salesforce", "connectionId": connection,
                "object": "Survey_Response__c", "operation": "create",
                "fields": {
                    "Account__c": {"piped": "${e://Field/sfAccountId}"},
                    "Contact__c": {"piped": "${e://Field/sfContactId}"},
                    "Response_Id__c": {"piped": "${rm://ResponseID}"},
                    "NPS_Score__c": {"piped": "${q://QID3/ChoiceTextEntryValue}"},
                    "Comments__c": {"piped": "${q://QID9/ChoiceTextEntryValue}"},
                    "Survey_Name__c": {"value": "Demo support survey"},
                    "Channel__c": {"value": "Web"}
                }
            }]
        }))
        .send()
        .await?;
    if !r.status().is_success() {
        anyhow::bail!("creating the demo workflow: {}", r.text().await?);
    }
    Ok(())
}

/// The triggered workflow of the demo: a closed Case's Outbound Message sends its contact the
/// survey by email, with the case in the response; and the org's rule that sends it.
async fn case_closed_workflow(
    sonde: &Sonde,
    admin: &Actor,
    survey_id: &str,
    org: &sfsim::RunningOrg,
) -> anyhow::Result<()> {
    let connection = sonde
        .salesforce_connections(admin)
        .await?
        .into_iter()
        .find(|c| c.status == "active")
        .context("the built-in org is linked")?;
    let template: engine::message_templates::TemplateDefinition = serde_json::from_value(json!({
        "channel": "email",
        "name": "Case closed",
        "subject": "Your case ${sf://CaseNumber} is closed: how did we do?",
        "fromName": "Demo Company",
        "body": "<p>Hello,</p><p>We closed your case “${sf://Subject}”. Two minutes to tell us \
                 how it went: ${l://SurveyLink?d=take the survey}.</p>\
                 <p>${l://OptOutLink?d=Unsubscribe}</p>",
    }))?;
    let template = sonde.create_template(admin, template).await?;
    let input: engine::workflows::WorkflowInput = serde_json::from_value(json!({
        "name": "Case closed: CSAT invitation",
        "event": "salesforce_message",
        "connectionId": connection.id,
        "object": "Case",
        "tasks": [{
            "type": "distribution", "channel": "email", "templateId": template.id,
            "recipient": {"email": "${sf://ContactEmail}", "extRef": "${sf://ContactId}"},
            "embeddedData": {"sfContactId": "${sf://ContactId}", "sfAccountId": "${sf://AccountId}",
                             "CaseId": "${sf://Id}"}
        }]
    }))?;
    let workflow = sonde.create_workflow(admin, survey_id, input).await?;
    let endpoint = workflow
        .endpoint_url
        .context("a Salesforce-message workflow has an endpoint")?;
    org.add_outbound_rule(sfsim::OutboundRule {
        id: String::new(),
        name: "Case closed".into(),
        object: "Case".into(),
        on_create: false,
        on_update: true,
        criteria: Some("Status = 'Closed'".into()),
        fields: [
            "ContactId",
            "ContactEmail",
            "AccountId",
            "CaseNumber",
            "Subject",
        ]
        .map(String::from)
        .to_vec(),
        endpoint,
        send_session_id: false,
    })
    .map_err(anyhow::Error::msg)?;
    Ok(())
}

/// Shell commands that sign in to the built-in org as its user (OAuth password grant with the
/// connected app) and read the account's roll-up and its survey responses.
fn watch_commands(org: &sfsim::RunningOrg, account_id: &str) -> Vec<String> {
    let query = |soql: &str| {
        format!(
            "curl -s -G -H \"Authorization: Bearer $SF_TOKEN\" {}/services/data/v{SF_API}/query --data-urlencode {}",
            org.instance_url(),
            quoted(&format!("q={soql}"))
        )
    };
    vec![
        format!(
            "SF_TOKEN=$(curl -s {}/services/oauth2/token -d grant_type=password --data-urlencode {} --data-urlencode {} --data-urlencode {} --data-urlencode {} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            org.login_url(),
            quoted(&format!("client_id={}", org.client_id())),
            quoted(&format!("client_secret={}", org.client_secret())),
            quoted(&format!("username={}", org.username())),
            quoted(&format!("password={}", org.password())),
        ),
        query(&format!(
            "SELECT Name, Survey_Response_Count__c FROM Account WHERE Id = '{account_id}'"
        )),
        query(&format!(
            "SELECT Id, NPS_Score__c, Response_Id__c FROM Survey_Response__c WHERE Account__c = '{account_id}'"
        )),
    ]
}

/// A shell word that stays one word whatever it holds: in double quotes, with `"`, `\`, `$`
/// and `` ` `` escaped (the queries hold single quotes of their own).
fn quoted(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
