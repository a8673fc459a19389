//! The `demo` seed: a believable small company — accounts, contacts with opt-out flags, leads,
//! cases, a campaign with members, chats, messaging and feedback cases (`seed_conversations`),
//! SMS sessions with LiveMessage turns, and Survey_Response__c (master-detail to Account,
//! roll-ups, external id, two record types).

use crate::ids::Id;
use crate::metadata::MetadataFile;
use crate::seed_conversations::{CaseLink, Customer};
use crate::store::{Ctx, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// The custom schema the demo uses (also a worked example of the metadata file format).
pub const DEMO_METADATA: &str = r#"
objects:
  - name: Survey_Response__c
    label: Survey Response
    labelPlural: Survey Responses
    nameFieldType: autonumber
    nameFieldLabel: Survey Response Number
    fields:
      - {name: Account__c, type: masterdetail, referenceTo: Account, relationshipName: Survey_Responses}
      - {name: Contact__c, type: lookup, referenceTo: Contact, relationshipName: Survey_Responses}
      - {name: Case__c, type: lookup, referenceTo: Case, relationshipName: Survey_Responses}
      - {name: Response_Id__c, type: text, length: 64, externalId: true, unique: true, label: Response ID}
      - {name: Survey_Id__c, type: text, length: 64, label: Survey ID}
      - {name: Survey_Name__c, type: text, length: 255}
      - {name: NPS_Score__c, type: number, precision: 2, scale: 0, label: NPS Score}
      - {name: CSAT_Score__c, type: number, precision: 3, scale: 1, label: CSAT Score}
      - {name: Comments__c, type: textarea, length: 32768}
      - {name: Channel__c, type: picklist, picklistValues: [Email, SMS, Web]}
      - {name: Completed_At__c, type: datetime}
    recordTypes:
      - {developerName: NPS, name: NPS Survey, default: true}
      - {developerName: CSAT, name: CSAT Survey}
  - name: Account
    fields:
      - {name: Survey_Response_Count__c, type: summary, summary: {operation: count, object: Survey_Response__c}}
      - {name: NPS_Score_Total__c, type: summary, summary: {operation: sum, object: Survey_Response__c, field: NPS_Score__c}, label: NPS Score Total}
      - {name: Last_Survey_Completed__c, type: summary, summary: {operation: max, object: Survey_Response__c, field: Completed_At__c}}
  - name: Contact
    fields:
      - {name: Consent_Withheld__c, type: checkbox, label: Consent Withheld}
      - {name: SMS_Opt_Out__c, type: checkbox, label: SMS Opt Out}
      - {name: Survey_Sent__c, type: checkbox, label: Survey Sent}
"#;

pub fn demo_metadata() -> MetadataFile {
    MetadataFile::parse(DEMO_METADATA).unwrap_or_default()
}

pub(crate) fn ins(store: &mut Store, ctx: &Ctx, object: &str, v: Value) -> anyhow::Result<Id> {
    let oi = store
        .meta
        .object_index(object)
        .ok_or_else(|| anyhow::anyhow!("no object {object}"))?;
    let Value::Object(m) = v else {
        anyhow::bail!("seed rows are objects")
    };
    store.insert(oi, &m, ctx).map_err(|e| {
        anyhow::anyhow!(
            "seeding {object}: {}",
            e.iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

const ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("Northwind Outfitters", "Retail", "Portland", "US"),
    ("Bluebird Dental Group", "Healthcare", "Denver", "US"),
    ("Harbor Freight Logistics", "Manufacturing", "Oakland", "US"),
    ("Cedar Lane Credit Union", "Banking", "Madison", "US"),
    ("Lumen Analytics", "Technology", "Austin", "US"),
    ("Maple & Finch Bakery", "Retail", "Toronto", "CA"),
    ("Orchid Learning Academy", "Education", "Seattle", "US"),
    ("Granite Peak Insurance", "Banking", "Salt Lake City", "US"),
    ("Riverbend Veterinary", "Healthcare", "Boise", "US"),
    ("Sundial Solar Co-op", "Technology", "Tucson", "US"),
    ("Tidewater Hotels", "Other", "Charleston", "US"),
    ("Copperleaf Consulting", "Consulting", "Chicago", "US"),
];

const FIRST: &[&str] = &[
    "Maya", "Liam", "Priya", "Noah", "Elena", "Omar", "Grace", "Mateo", "Hannah", "Kenji", "Zoe",
    "Samuel", "Aisha", "Lucas", "Ingrid", "Diego", "Chloe", "Ravi", "Fatima", "Owen",
];
const LAST: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Sharma",
    "Bennett",
    "Rossi",
    "Haddad",
    "Kim",
    "Alvarez",
    "Novak",
    "Tanaka",
    "Murphy",
    "Cohen",
    "Mensah",
    "Dubois",
    "Berg",
    "Santos",
    "Walsh",
    "Iyer",
    "Khan",
    "Fraser",
];
const TITLES: &[&str] = &[
    "Operations Manager",
    "Office Manager",
    "CFO",
    "Head of Customer Success",
    "Purchasing Lead",
    "IT Director",
    "Owner",
];

/// Fills a fresh store with the demo company.
pub fn demo(store: &mut Store, ctx: &Ctx) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(4);
    let mut accounts = Vec::new();
    for (i, (name, industry, city, country)) in ACCOUNTS.iter().enumerate() {
        let id = ins(
            store,
            ctx,
            "Account",
            json!({
                "Name": name, "Industry": industry, "BillingCity": city, "BillingCountry": country,
                "Type": if i % 3 == 0 { "Prospect" } else { "Customer - Direct" },
                "Phone": format!("(555) 01{:02}-{:04}", i, 1000 + i * 37),
                "Website": format!("https://www.{}.example", name.to_lowercase().replace([' ', '&'], "").replace('-', "")),
                "NumberOfEmployees": 12 + i * 23, "AnnualRevenue": 250000.0 + i as f64 * 125000.0,
                "Rating": (["Hot", "Warm", "Cold"][i % 3]),
            }),
        )?;
        accounts.push(id);
    }
    let mut contacts = Vec::new();
    let mut customers = Vec::new();
    for (ai, acct) in accounts.iter().enumerate() {
        for k in 0..4 {
            let n = ai * 4 + k;
            let first = FIRST[n % FIRST.len()];
            let last = LAST[(n * 7 + 3) % LAST.len()];
            let domain = ACCOUNTS[ai]
                .0
                .to_lowercase()
                .replace([' ', '&'], "")
                .replace('-', "");
            let id = ins(
                store,
                ctx,
                "Contact",
                json!({
                    "AccountId": acct.to18(), "FirstName": first, "LastName": last,
                    "Email": format!("{}.{}@{}.example", first.to_lowercase(), last.to_lowercase(), domain),
                    "Phone": format!("(555) 02{:02}-{:04}", ai, 2000 + n),
                    "MobilePhone": if n % 3 == 0 { Value::Null } else { json!(format!("+1555030{:04}", n)) },
                    "Title": TITLES[n % TITLES.len()],
                    "MailingCity": ACCOUNTS[ai].2, "MailingCountry": ACCOUNTS[ai].3,
                    "HasOptedOutOfEmail": n % 9 == 4, "HasOptedOutOfFax": n % 5 == 1,
                    "DoNotCall": n % 7 == 2, "IsEmailBounced": n % 13 == 6,
                    "EmailBouncedReason": if n % 13 == 6 { json!("550 5.1.1 mailbox unavailable") } else { Value::Null },
                    "Consent_Withheld__c": n % 11 == 8,
                    "LeadSource": (["Web", "Phone Inquiry", "Partner Referral"][n % 3]),
                }),
            )?;
            contacts.push(id);
            customers.push(Customer {
                id,
                account: *acct,
                first: first.to_string(),
                last: last.to_string(),
                email: format!(
                    "{}.{}@{}.example",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    domain
                ),
            });
        }
    }
    let mut leads = Vec::new();
    let companies = [
        "Fjord Fitness",
        "Pinecrest Pharmacy",
        "Atlas Print Shop",
        "Quarry Coffee Roasters",
        "Helix Biolabs",
        "Juniper Home Care",
        "Beacon Marine Supply",
        "Kestrel Drones",
    ];
    for i in 0..15 {
        let first = FIRST[(i * 3 + 5) % FIRST.len()];
        let last = LAST[(i * 5 + 1) % LAST.len()];
        let company = companies[i % companies.len()];
        let id = ins(
            store,
            ctx,
            "Lead",
            json!({
                "FirstName": first, "LastName": last, "Company": company,
                "Email": format!("{}.{}@{}.example", first.to_lowercase(), last.to_lowercase(), company.to_lowercase().replace(' ', "")),
                "Phone": format!("(555) 04{:02}-{:04}", i, 3000 + i),
                "MobilePhone": format!("+1555050{:04}", i),
                "Status": (["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"][i % 3]),
                "LeadSource": (["Web", "Purchased List", "Other"][i % 3]),
                "HasOptedOutOfEmail": i % 6 == 3, "DoNotCall": i % 4 == 1, "HasOptedOutOfFax": i % 5 == 2,
            }),
        )?;
        leads.push(id);
    }
    let subjects = [
        "Invoice shows the wrong amount",
        "Cannot log in to the portal",
        "Delivery arrived damaged",
        "Question about renewal pricing",
        "Feature request: export to CSV",
        "Appointment reminder not received",
        "Card declined at checkout",
        "Wi-Fi in room 214 not working",
    ];
    let mut cases = Vec::new();
    let mut case_links = Vec::new();
    for i in 0..20 {
        let c = contacts[(i * 5) % contacts.len()];
        let a = accounts[((i * 5) % contacts.len()) / 4];
        let id = ins(
            store,
            ctx,
            "Case",
            json!({
                "AccountId": a.to18(), "ContactId": c.to18(), "Subject": subjects[i % subjects.len()],
                "Status": if i % 3 == 0 { "Closed" } else if i % 3 == 1 { "Working" } else { "New" },
                "Priority": (["High", "Medium", "Low"][i % 3]), "Origin": (["Email", "Phone", "Web", "Chat"][i % 4]),
                "Type": (["Problem", "Question", "Feature Request"][i % 3]),
                "Description": "Customer reported the issue through the help centre.",
            }),
        )?;
        cases.push(id);
        case_links.push(CaseLink {
            id,
            customer: (i * 5) % contacts.len(),
        });
    }
    let campaign = ins(
        store,
        ctx,
        "Campaign",
        json!({
            "Name": "Spring Customer Pulse 2026", "Type": "Email", "Status": "In Progress", "IsActive": true,
            "StartDate": "2026-03-01", "EndDate": "2026-06-30",
            "Description": "Quarterly NPS survey to key contacts.",
        }),
    )?;
    for (k, c) in contacts.iter().enumerate().filter(|(k, _)| k % 4 == 0) {
        ins(
            store,
            ctx,
            "CampaignMember",
            json!({"CampaignId": campaign.to18(), "ContactId": c.to18(), "Status": if k % 8 == 0 { "Responded" } else { "Sent" }}),
        )?;
    }
    for l in leads.iter().take(3) {
        ins(
            store,
            ctx,
            "CampaignMember",
            json!({"CampaignId": campaign.to18(), "LeadId": l.to18(), "Status": "Sent"}),
        )?;
    }
    crate::seed_conversations::seed(store, ctx, &customers, &case_links)?;
    let agents = ["Alex Rivera", "Jordan Lee", "Sam Patel"];
    for i in 0..4 {
        let c = contacts[(i * 11 + 2) % contacts.len()];
        let start = chrono::Utc::now() - chrono::Duration::days(10 - i as i64 * 2);
        let session = ins(
            store,
            ctx,
            "MessagingSession",
            json!({
                "Status": "Ended", "ChannelType": "Text", "StartTime": start.to_rfc3339(),
                "EndTime": (start + chrono::Duration::minutes(12)).to_rfc3339(),
                "EndUserContactId": c.to18(), "CaseId": cases[(i + 3) % cases.len()].to18(), "Origin": "InboundInitiated",
            }),
        )?;
        let turns = [
            ("EndUser", "Hi, is my appointment still on for Thursday?"),
            ("Agent", "Yes, Thursday at 10:30. Reply C to confirm."),
            ("EndUser", "C"),
            ("Agent", "Confirmed, see you then!"),
        ];
        for (k, (who, text)) in turns.iter().enumerate() {
            ins(
                store,
                ctx,
                "LiveMessage",
                json!({
                    "MessagingSessionId": session.to18(), "Message": text, "SenderType": who,
                    "SenderName": if *who == "Agent" { agents[i % 3] } else { FIRST[(i * 11 + 2) % FIRST.len()] },
                    "PhoneNumber": format!("+1555030{:04}", i * 11 + 2),
                    "MessageTime": (start + chrono::Duration::minutes(k as i64 * 3)).to_rfc3339(),
                }),
            )?;
        }
    }
    let rt = |dev: &str| {
        store.meta.object("Survey_Response__c").and_then(|o| {
            o.record_types
                .iter()
                .find(|r| r.developer_name == dev)
                .map(|r| r.id.clone())
        })
    };
    let (nps, csat) = (rt("NPS"), rt("CSAT"));
    for i in 0..25 {
        let ci = (i * 7) % contacts.len();
        let is_nps = i % 3 != 2;
        let completed = chrono::Utc::now() - chrono::Duration::days(60 - i as i64 * 2);
        ins(
            store,
            ctx,
            "Survey_Response__c",
            json!({
                "Account__c": accounts[ci / 4].to18(), "Contact__c": contacts[ci].to18(),
                "Case__c": if i % 4 == 0 { json!(cases[i % cases.len()].to18()) } else { Value::Null },
                "Response_Id__c": format!("R_{:015}", 7_340_000_000u64 + i as u64 * 7919),
                "Survey_Id__c": if is_nps { "SV_nps_quarterly" } else { "SV_csat_support" },
                "Survey_Name__c": if is_nps { "Quarterly NPS" } else { "Support CSAT" },
                "NPS_Score__c": if is_nps { json!(rng.gen_range(3..=10)) } else { Value::Null },
                "CSAT_Score__c": if is_nps { Value::Null } else { json!(rng.gen_range(2..=5) as f64) },
                "Comments__c": (["Great service, fast responses.", "Delivery was late but support fixed it.", "Pricing is confusing.", "Love the new portal!", ""][i % 5]),
                "Channel__c": (["Email", "SMS", "Web"][i % 3]),
                "Completed_At__c": completed.to_rfc3339(),
                "RecordTypeId": if is_nps { nps.clone() } else { csat.clone() },
            }),
        )?;
    }
    Ok(())
}
