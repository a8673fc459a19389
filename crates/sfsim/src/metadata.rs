//! The org's schema: standard objects with their real field names and types, custom objects
//! and fields loaded from a metadata file (JSON or YAML), record types and profiles with
//! field-level security.

use crate::val::Val;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Multipicklist,
    Boolean,
    Int,
    Double,
    Currency,
    Percent,
    Date,
    Datetime,
    Reference,
}

impl FieldType {
    /// The describe `type` and the SOAP type of the field.
    pub fn api_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Reference => "reference",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::Textarea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Multipicklist
                | FieldType::Reference
        )
    }

    pub fn is_number(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RollupOp {
    Count,
    Sum,
    Min,
    Max,
}

/// A roll-up summary: `op` over `child` records whose `via` field points at the parent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rollup {
    pub op: RollupOp,
    pub child: String,
    pub via: String,
    pub field: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub ftype: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub required: bool,
    pub createable: bool,
    pub updateable: bool,
    pub default: Option<Val>,
    pub external_id: bool,
    pub unique: bool,
    pub case_sensitive: bool,
    pub reference_to: Vec<String>,
    /// The relationship name on this (child) side, e.g. `Account` or `Account__r`.
    pub relationship_name: Option<String>,
    /// The child relationship name the parent shows, e.g. `Contacts`.
    pub child_relationship: Option<String>,
    pub master_detail: bool,
    pub picklist: Vec<String>,
    pub restricted: bool,
    pub rollup: Option<Rollup>,
    pub auto_number: bool,
    pub name_field: bool,
    pub custom: bool,
    /// Computed by the org (compound Name, IsClosed...): never accepted from clients.
    pub calculated: bool,
}

impl FieldDef {
    pub fn new(name: &str, ftype: FieldType) -> FieldDef {
        let length = match ftype {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String | FieldType::Url | FieldType::Picklist => 255,
            FieldType::Email => 80,
            FieldType::Phone => 40,
            FieldType::Textarea => 32000,
            FieldType::Multipicklist => 4099,
            _ => 0,
        };
        let (precision, scale) = match ftype {
            FieldType::Int => (9, 0),
            FieldType::Double | FieldType::Percent => (18, 0),
            FieldType::Currency => (18, 2),
            _ => (0, 0),
        };
        FieldDef {
            name: name.to_string(),
            label: label_of(name),
            ftype,
            length,
            precision,
            scale,
            required: false,
            createable: true,
            updateable: true,
            default: if ftype == FieldType::Boolean {
                Some(Val::Bool(false))
            } else {
                None
            },
            external_id: false,
            unique: false,
            case_sensitive: false,
            reference_to: Vec::new(),
            relationship_name: None,
            child_relationship: None,
            master_detail: false,
            picklist: Vec::new(),
            restricted: false,
            rollup: None,
            auto_number: false,
            name_field: false,
            custom: name.ends_with("__c"),
            calculated: false,
        }
    }

    fn len(mut self, n: u32) -> Self {
        self.length = n;
        self
    }
    fn req(mut self) -> Self {
        self.required = true;
        self
    }
    /// Read-only to clients (system or computed).
    fn ro(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }
    fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }
    fn calc(mut self) -> Self {
        self.calculated = true;
        self.ro()
    }
    fn label(mut self, l: &str) -> Self {
        self.label = l.to_string();
        self
    }
    fn refs(mut self, to: &str, rel: &str, child: Option<&str>) -> Self {
        self.reference_to = vec![to.to_string()];
        self.relationship_name = Some(rel.to_string());
        self.child_relationship = child.map(str::to_string);
        self
    }
    fn pick(mut self, values: &[&str]) -> Self {
        self.picklist = values.iter().map(|s| s.to_string()).collect();
        self
    }
    fn default(mut self, v: Val) -> Self {
        self.default = Some(v);
        self
    }
    fn name(mut self) -> Self {
        self.name_field = true;
        self
    }

    pub fn is_integer(&self) -> bool {
        self.ftype == FieldType::Int || (self.rollup.is_some() && self.scale == 0)
    }

    pub fn nillable(&self) -> bool {
        !self.required && self.ftype != FieldType::Boolean && self.ftype != FieldType::Id
    }

    pub fn defaulted_on_create(&self) -> bool {
        self.default.is_some()
            || matches!(
                self.name.as_str(),
                "OwnerId"
                    | "CreatedDate"
                    | "CreatedById"
                    | "LastModifiedDate"
                    | "LastModifiedById"
                    | "SystemModstamp"
                    | "IsDeleted"
            )
            || self.auto_number
    }

    pub fn is_system(&self) -> bool {
        matches!(
            self.name.as_str(),
            "Id" | "IsDeleted"
                | "CreatedDate"
                | "CreatedById"
                | "LastModifiedDate"
                | "LastModifiedById"
                | "SystemModstamp"
        )
    }
}

/// `HasOptedOutOfEmail` -> `Has Opted Out Of Email`; `Score__c` -> `Score`.
fn label_of(name: &str) -> String {
    let base = name.trim_end_matches("__c").replace('_', " ");
    let mut out = String::new();
    let mut prev_lower = false;
    for c in base.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    if let Some(stripped) = out.strip_suffix(" Id") {
        return format!("{stripped} ID");
    }
    out
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordTypeDef {
    /// The RecordType record's id (15-char form).
    pub id: String,
    pub name: String,
    pub developer_name: String,
    pub default: bool,
    pub active: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub fields: Vec<FieldDef>,
    pub record_types: Vec<RecordTypeDef>,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    #[serde(skip)]
    by_name: HashMap<String, usize>,
}

impl ObjectDef {
    pub fn new(name: &str, label: &str, plural: &str, prefix: &str, owner: bool) -> ObjectDef {
        let mut o = ObjectDef {
            name: name.to_string(),
            label: label.to_string(),
            label_plural: plural.to_string(),
            key_prefix: prefix.to_string(),
            custom: name.ends_with("__c"),
            fields: Vec::new(),
            record_types: Vec::new(),
            createable: true,
            updateable: true,
            deletable: true,
            by_name: HashMap::new(),
        };
        o.add(
            FieldDef::new("Id", FieldType::Id)
                .ro()
                .label(&format!("{label} ID")),
        );
        if owner {
            o.add(
                FieldDef::new("OwnerId", FieldType::Reference)
                    .refs("User", "Owner", None)
                    .label("Owner ID"),
            );
        }
        o.add(
            FieldDef::new("IsDeleted", FieldType::Boolean)
                .ro()
                .label("Deleted"),
        );
        o
    }

    /// The audit fields every object has; added after the object's own fields, as describe shows.
    fn audit(mut self) -> Self {
        self.add(FieldDef::new("CreatedDate", FieldType::Datetime).ro());
        self.add(
            FieldDef::new("CreatedById", FieldType::Reference)
                .refs("User", "CreatedBy", None)
                .ro(),
        );
        self.add(FieldDef::new("LastModifiedDate", FieldType::Datetime).ro());
        self.add(
            FieldDef::new("LastModifiedById", FieldType::Reference)
                .refs("User", "LastModifiedBy", None)
                .ro(),
        );
        self.add(
            FieldDef::new("SystemModstamp", FieldType::Datetime)
                .ro()
                .label("System Modstamp"),
        );
        self
    }

    fn with(mut self, f: FieldDef) -> Self {
        self.add(f);
        self
    }

    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.deletable = false;
        self
    }

    pub fn add(&mut self, f: FieldDef) {
        self.by_name
            .insert(f.name.to_ascii_lowercase(), self.fields.len());
        self.fields.push(f);
    }

    pub fn reindex(&mut self) {
        self.by_name = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
    }

    /// Field lookup is case-insensitive, as in SOQL and REST bodies.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// Finds a reference field by its relationship name (`Account`, `Account__r`, `Owner`).
    pub fn relationship(&self, rel: &str) -> Option<(usize, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(rel))
        })
    }

    pub fn has_owner(&self) -> bool {
        self.field_index("OwnerId").is_some()
    }
}

/// Field access a profile grants; absent means full access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldAccess {
    Hidden,
    Read,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub api_enabled: bool,
    /// Keys are `object.field`, lower case.
    pub fields: HashMap<String, FieldAccess>,
}

impl Profile {
    pub fn access(&self, object: &str, field: &str) -> Option<FieldAccess> {
        if self.fields.is_empty() {
            return None;
        }
        self.fields
            .get(&format!("{}.{}", object, field).to_ascii_lowercase())
            .copied()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metadata {
    pub objects: Vec<ObjectDef>,
    pub profiles: Vec<Profile>,
    #[serde(skip)]
    by_name: HashMap<String, usize>,
    #[serde(skip)]
    by_prefix: HashMap<String, usize>,
}

impl Metadata {
    pub fn new(objects: Vec<ObjectDef>) -> Metadata {
        let mut m = Metadata {
            objects,
            ..Default::default()
        };
        m.reindex();
        m
    }

    pub fn reindex(&mut self) {
        for o in &mut self.objects {
            o.reindex();
        }
        self.by_name = self
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        self.by_prefix = self
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.key_prefix.clone(), i))
            .collect();
    }

    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.object_index(name).map(|i| &self.objects[i])
    }

    pub fn object_index_by_prefix(&self, prefix: &str) -> Option<usize> {
        self.by_prefix.get(prefix).copied()
    }

    pub fn object_by_prefix(&self, prefix: &str) -> Option<&ObjectDef> {
        self.by_prefix.get(prefix).map(|i| &self.objects[*i])
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// Children of `parent`: (child object, field, relationship name, cascade delete).
    pub fn child_relationships(&self, parent: &str) -> Vec<(&ObjectDef, &FieldDef)> {
        let mut out = Vec::new();
        for o in &self.objects {
            for f in &o.fields {
                if f.reference_to
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(parent))
                {
                    out.push((o, f));
                }
            }
        }
        out
    }

    /// The next free custom-object key prefix: a00, a01, ... a0z, a10 ...
    pub fn next_custom_prefix(&self) -> String {
        const C: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for a in C {
            for b in C {
                let p = format!("a{}{}", *a as char, *b as char);
                if !self.by_prefix.contains_key(&p) {
                    return p;
                }
            }
        }
        "a00".to_string()
    }
}

/// The standard objects Sonde touches, with their real API names and types.
pub fn standard_objects() -> Vec<ObjectDef> {
    use FieldType::*;
    let s = |n: &str| FieldDef::new(n, String);
    let b = |n: &str| FieldDef::new(n, Boolean);
    let dt = |n: &str| FieldDef::new(n, Datetime);
    let account = ObjectDef::new("Account", "Account", "Accounts", "001", true)
        .with(s("Name").len(255).req().name().label("Account Name"))
        .with(FieldDef::new("Type", Picklist).pick(&[
            "Prospect",
            "Customer - Direct",
            "Customer - Channel",
            "Channel Partner / Reseller",
            "Installation Partner",
            "Technology Partner",
            "Other",
        ]))
        .with(FieldDef::new("ParentId", Reference).refs("Account", "Parent", Some("ChildAccounts")))
        .with(s("AccountNumber").len(40))
        .with(FieldDef::new("Industry", Picklist).pick(&[
            "Agriculture",
            "Banking",
            "Communications",
            "Consulting",
            "Education",
            "Healthcare",
            "Manufacturing",
            "Retail",
            "Technology",
            "Other",
        ]))
        .with(FieldDef::new("Rating", Picklist).pick(&["Hot", "Warm", "Cold"]))
        .with(FieldDef::new("Phone", Phone).label("Account Phone"))
        .with(FieldDef::new("Fax", Phone).label("Account Fax"))
        .with(FieldDef::new("Website", Url))
        .with(FieldDef::new("BillingStreet", Textarea).len(255))
        .with(s("BillingCity").len(40))
        .with(s("BillingState").len(80))
        .with(s("BillingPostalCode").len(20))
        .with(s("BillingCountry").len(80))
        .with(FieldDef::new("ShippingStreet", Textarea).len(255))
        .with(s("ShippingCity").len(40))
        .with(s("ShippingCountry").len(80))
        .with(FieldDef::new("NumberOfEmployees", Int).label("Employees"))
        .with(FieldDef::new("AnnualRevenue", Currency))
        .with(FieldDef::new("Description", Textarea))
        .audit();
    let contact = ObjectDef::new("Contact", "Contact", "Contacts", "003", true)
        .with(FieldDef::new("AccountId", Reference).refs("Account", "Account", Some("Contacts")))
        .with(FieldDef::new("Salutation", Picklist).pick(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]))
        .with(s("FirstName").len(40))
        .with(s("LastName").len(80).req())
        .with(s("Name").len(121).name().calc().label("Full Name"))
        .with(s("Title").len(128))
        .with(s("Department").len(80))
        .with(FieldDef::new("Email", Email))
        .with(FieldDef::new("Phone", Phone).label("Business Phone"))
        .with(FieldDef::new("MobilePhone", Phone).label("Mobile Phone"))
        .with(FieldDef::new("HomePhone", Phone))
        .with(FieldDef::new("MailingStreet", Textarea).len(255))
        .with(s("MailingCity").len(40))
        .with(s("MailingState").len(80))
        .with(s("MailingPostalCode").len(20))
        .with(s("MailingCountry").len(80))
        .with(FieldDef::new("Birthdate", Date))
        .with(FieldDef::new("LeadSource", Picklist).pick(&[
            "Web",
            "Phone Inquiry",
            "Partner Referral",
            "Purchased List",
            "Other",
        ]))
        .with(b("HasOptedOutOfEmail").label("Email Opt Out"))
        .with(b("HasOptedOutOfFax").label("Fax Opt Out"))
        .with(b("DoNotCall").label("Do Not Call"))
        .with(b("IsEmailBounced").label("Is Email Bounced"))
        .with(
            s("EmailBouncedReason")
                .len(255)
                .label("Email Bounced Reason"),
        )
        .with(dt("EmailBouncedDate").label("Email Bounced Date"))
        .with(FieldDef::new("Description", Textarea))
        .audit();
    let lead = ObjectDef::new("Lead", "Lead", "Leads", "00Q", true)
        .with(FieldDef::new("Salutation", Picklist).pick(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]))
        .with(s("FirstName").len(40))
        .with(s("LastName").len(80).req())
        .with(s("Name").len(121).name().calc().label("Full Name"))
        .with(s("Company").len(255).req())
        .with(s("Title").len(128))
        .with(FieldDef::new("Email", Email))
        .with(FieldDef::new("Phone", Phone))
        .with(FieldDef::new("MobilePhone", Phone).label("Mobile Phone"))
        .with(s("City").len(40))
        .with(s("Country").len(80))
        .with(
            FieldDef::new("Status", Picklist)
                .req()
                .pick(&[
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ])
                .default(Val::str("Open - Not Contacted"))
                .label("Lead Status"),
        )
        .with(FieldDef::new("LeadSource", Picklist).pick(&[
            "Web",
            "Phone Inquiry",
            "Partner Referral",
            "Purchased List",
            "Other",
        ]))
        .with(FieldDef::new("Industry", Picklist).pick(&[
            "Banking",
            "Education",
            "Healthcare",
            "Retail",
            "Technology",
            "Other",
        ]))
        .with(b("HasOptedOutOfEmail").label("Email Opt Out"))
        .with(b("HasOptedOutOfFax").label("Fax Opt Out"))
        .with(b("DoNotCall").label("Do Not Call"))
        .with(b("IsConverted").ro().label("Converted"))
        .with(
            FieldDef::new("ConvertedAccountId", Reference)
                .refs("Account", "ConvertedAccount", None)
                .ro(),
        )
        .with(
            FieldDef::new("ConvertedContactId", Reference)
                .refs("Contact", "ConvertedContact", None)
                .ro(),
        )
        .with(FieldDef::new("Description", Textarea))
        .audit();
    let case = ObjectDef::new("Case", "Case", "Cases", "500", true)
        .with(s("CaseNumber").len(30).ro().name().label("Case Number"))
        .with(
            FieldDef::new("ContactId", Reference)
                .refs("Contact", "Contact", Some("Cases"))
                .label("Contact ID"),
        )
        .with(
            FieldDef::new("AccountId", Reference)
                .refs("Account", "Account", Some("Cases"))
                .label("Account ID"),
        )
        .with(FieldDef::new("ParentId", Reference).refs("Case", "Parent", Some("Cases")))
        // As Salesforce shows them on a Case: the contact's email and phones, read-only.
        .with(
            FieldDef::new("ContactEmail", Email)
                .ro()
                .label("Contact Email"),
        )
        .with(
            FieldDef::new("ContactPhone", Phone)
                .ro()
                .label("Contact Phone"),
        )
        .with(
            FieldDef::new("ContactMobile", Phone)
                .ro()
                .label("Contact Mobile"),
        )
        .with(s("SuppliedName").len(80).label("Web Name"))
        .with(FieldDef::new("SuppliedEmail", Email).label("Web Email"))
        .with(FieldDef::new("SuppliedPhone", Phone).label("Web Phone"))
        .with(FieldDef::new("Type", Picklist).pick(&["Question", "Problem", "Feature Request"]))
        .with(
            FieldDef::new("Status", Picklist)
                .pick(&["New", "Working", "Escalated", "Closed"])
                .default(Val::str("New")),
        )
        .with(FieldDef::new("Reason", Picklist).pick(&[
            "Installation",
            "Equipment Complexity",
            "Performance",
            "Breakdown",
            "Other",
        ]))
        .with(
            FieldDef::new("Origin", Picklist)
                .pick(&["Phone", "Email", "Web", "Chat"])
                .label("Case Origin"),
        )
        .with(s("Subject").len(255))
        .with(
            FieldDef::new("Priority", Picklist)
                .pick(&["High", "Medium", "Low"])
                .default(Val::str("Medium")),
        )
        .with(FieldDef::new("Description", Textarea))
        .with(b("IsClosed").calc().label("Closed"))
        .with(dt("ClosedDate").ro().label("Closed Date"))
        .with(b("IsEscalated").label("Escalated"))
        .audit();
    let campaign = ObjectDef::new("Campaign", "Campaign", "Campaigns", "701", true)
        .with(s("Name").len(80).req().name().label("Campaign Name"))
        .with(FieldDef::new("ParentId", Reference).refs(
            "Campaign",
            "Parent",
            Some("ChildCampaigns"),
        ))
        .with(FieldDef::new("Type", Picklist).pick(&[
            "Conference",
            "Webinar",
            "Email",
            "Advertisement",
            "Other",
        ]))
        .with(FieldDef::new("Status", Picklist).pick(&[
            "Planned",
            "In Progress",
            "Completed",
            "Aborted",
        ]))
        .with(FieldDef::new("StartDate", Date))
        .with(FieldDef::new("EndDate", Date))
        .with(b("IsActive").label("Active"))
        .with(FieldDef::new("Description", Textarea))
        .with(
            FieldDef::new("NumberOfContacts", Int)
                .calc()
                .label("Contacts in Campaign"),
        )
        .with(
            FieldDef::new("NumberOfLeads", Int)
                .calc()
                .label("Leads in Campaign"),
        )
        .audit();
    let member = ObjectDef::new(
        "CampaignMember",
        "Campaign Member",
        "Campaign Members",
        "00v",
        false,
    )
    .with(
        FieldDef::new("CampaignId", Reference)
            .refs("Campaign", "Campaign", Some("CampaignMembers"))
            .req()
            .create_only(),
    )
    .with(
        FieldDef::new("LeadId", Reference)
            .refs("Lead", "Lead", Some("CampaignMembers"))
            .create_only(),
    )
    .with(
        FieldDef::new("ContactId", Reference)
            .refs("Contact", "Contact", Some("CampaignMembers"))
            .create_only(),
    )
    .with(
        FieldDef::new("Status", Picklist)
            .pick(&["Planned", "Sent", "Received", "Responded"])
            .default(Val::str("Sent")),
    )
    .with(b("HasResponded").calc().label("Responded"))
    .with(s("FirstName").len(40).calc())
    .with(s("LastName").len(80).calc())
    .with(FieldDef::new("Email", Email).calc())
    .audit();
    let chat = ObjectDef::new(
        "LiveChatTranscript",
        "Live Chat Transcript",
        "Live Chat Transcripts",
        "570",
        true,
    )
    .with(s("Name").len(30).ro().name().label("Chat Transcript Name"))
    .with(FieldDef::new("Body", Textarea).len(131072))
    .with(FieldDef::new("ChatDuration", Int).label("Chat Duration"))
    .with(FieldDef::new("WaitTime", Int).label("Wait Time"))
    .with(dt("RequestTime"))
    .with(dt("StartTime"))
    .with(dt("EndTime"))
    .with(FieldDef::new("Status", Picklist).pick(&[
        "Waiting",
        "InProgress",
        "Completed",
        "Missed",
        "Dropped",
        "Blocked",
    ]))
    .with(FieldDef::new("ContactId", Reference).refs(
        "Contact",
        "Contact",
        Some("LiveChatTranscripts"),
    ))
    .with(FieldDef::new("AccountId", Reference).refs(
        "Account",
        "Account",
        Some("LiveChatTranscripts"),
    ))
    .with(FieldDef::new("CaseId", Reference).refs("Case", "Case", Some("LiveChatTranscripts")))
    .with(FieldDef::new("LeadId", Reference).refs("Lead", "Lead", Some("LiveChatTranscripts")))
    .with(s("ChatKey").len(255))
    .with(s("VisitorIPAddress").len(100))
    .with(s("Location").len(255))
    .with(s("Browser").len(255))
    .with(s("Platform").len(255))
    .with(s("EndedBy").len(40))
    .with(s("SupervisorTranscriptBody").len(4000))
    .audit();
    let session = ObjectDef::new(
        "MessagingSession",
        "Messaging Session",
        "Messaging Sessions",
        "0Mw",
        true,
    )
    .with(
        s("Name")
            .len(255)
            .ro()
            .name()
            .label("Messaging Session Name"),
    )
    .with(
        FieldDef::new("Status", Picklist)
            .pick(&["New", "Waiting", "Active", "Paused", "Ended", "Error"]),
    )
    .with(FieldDef::new("ChannelType", Picklist).pick(&[
        "Text",
        "Facebook",
        "WhatsApp",
        "EmbeddedMessaging",
    ]))
    .with(dt("StartTime"))
    .with(dt("EndTime"))
    .with(dt("AcceptTime"))
    .with(FieldDef::new("CaseId", Reference).refs("Case", "Case", Some("MessagingSessions")))
    .with(FieldDef::new("LeadId", Reference).refs("Lead", "Lead", Some("MessagingSessions")))
    .with(FieldDef::new("EndUserContactId", Reference).refs(
        "Contact",
        "EndUserContact",
        Some("MessagingSessions"),
    ))
    .with(FieldDef::new("EndUserAccountId", Reference).refs(
        "Account",
        "EndUserAccount",
        Some("MessagingSessions"),
    ))
    .with(s("Origin").len(40))
    .audit();
    let live_message = ObjectDef::new("LiveMessage", "Live Message", "Live Messages", "0Mz", true)
        .with(s("Name").len(80).ro().name().label("Live Message Name"))
        .with(FieldDef::new("MessagingSessionId", Reference).refs(
            "MessagingSession",
            "MessagingSession",
            Some("LiveMessages"),
        ))
        .with(FieldDef::new("Message", Textarea).len(4000))
        .with(
            FieldDef::new("SenderType", Picklist)
                .pick(&["Agent", "EndUser", "System"])
                .label("Sender Type"),
        )
        .with(s("SenderName").len(255))
        .with(s("PhoneNumber").len(40))
        .with(dt("MessageTime"))
        .audit();
    // Enhanced messaging keeps its turns here rather than in LiveMessage; field names, types and
    // picklist values as the object reference documents them (ActorId is polymorphic there:
    // User is the one target sfsim models).
    let entry = ObjectDef::new(
        "ConversationEntry",
        "Conversation Entry",
        "Conversation Entries",
        "0XE",
        false,
    )
    .with(
        FieldDef::new("ConversationId", Reference)
            .refs(
                "MessagingSession",
                "Conversation",
                Some("ConversationEntries"),
            )
            .req()
            .label("Conversation ID"),
    )
    .with(
        FieldDef::new("ActorId", Reference)
            .refs("User", "Actor", None)
            .label("Actor ID"),
    )
    .with(s("ActorName").len(650))
    .with(
        FieldDef::new("ActorType", Picklist)
            .pick(&["Agent", "Bot", "EndUser", "Supervisor", "System"])
            .req(),
    )
    .with(FieldDef::new("Message", Textarea).len(32000))
    .with(dt("EntryTime").req().label("Entry Start Time"))
    .with(dt("EntryEndTime"))
    .with(FieldDef::new("EntryType", Picklist).pick(&[
        "Text",
        "BotEscalated",
        "ChatbotConversationEnded",
        "ConversationEnded",
        "EndUserOptedIn",
        "EndUserOptedOut",
        "OperatorJoined",
        "OperatorTransferred",
        "RoutingRequested",
    ]))
    .with(FieldDef::new("Seq", Int).label("Sequence"))
    .with(b("HasAttachments"))
    .with(FieldDef::new("ClientDuration", Int))
    .with(dt("ClientTimestamp"))
    .audit();
    let user = ObjectDef::new("User", "User", "Users", "005", false)
        .with(s("Username").len(80).req().label("Username"))
        .with(s("LastName").len(80).req())
        .with(s("FirstName").len(40))
        .with(s("Name").len(121).name().calc().label("Full Name"))
        .with(s("Alias").len(8).req())
        .with(FieldDef::new("Email", Email).req())
        .with(b("IsActive").default(Val::Bool(true)).label("Active"))
        .with(
            FieldDef::new("ProfileId", Reference)
                .refs("Profile", "Profile", Some("Users"))
                .req(),
        )
        .with(s("CompanyName").len(80))
        .with(
            s("TimeZoneSidKey")
                .len(40)
                .default(Val::str("America/Los_Angeles")),
        )
        .with(s("LocaleSidKey").len(40).default(Val::str("en_US")))
        .with(s("LanguageLocaleKey").len(40).default(Val::str("en_US")))
        .with(s("EmailEncodingKey").len(40).default(Val::str("UTF-8")))
        .audit()
        .read_only();
    let profile = ObjectDef::new("Profile", "Profile", "Profiles", "00e", false)
        .with(s("Name").len(255).req().name())
        .with(b("PermissionsApiEnabled").label("API Enabled"))
        .with(s("UserType").len(40))
        .audit()
        .read_only();
    let record_type = ObjectDef::new("RecordType", "Record Type", "Record Types", "012", false)
        .with(s("Name").len(80).req().name().label("Record Type Name"))
        .with(s("DeveloperName").len(80).req().label("Record Type Name"))
        .with(s("NamespacePrefix").len(15))
        .with(s("Description").len(255))
        .with(s("SobjectType").len(40).req().label("SObject Type Name"))
        .with(b("IsActive").label("Active"))
        .audit()
        .read_only();
    let org = ObjectDef::new(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        false,
    )
    .with(s("Name").len(80).name())
    .with(s("Division").len(80))
    .with(s("OrganizationType").len(40).label("Edition"))
    .with(s("InstanceName").len(5))
    .with(b("IsSandbox"))
    .with(s("TimeZoneSidKey").len(40))
    .with(s("LanguageLocaleKey").len(40))
    .with(s("DefaultLocaleSidKey").len(40))
    .audit()
    .read_only();
    vec![
        account,
        contact,
        lead,
        case,
        campaign,
        member,
        chat,
        session,
        live_message,
        entry,
        user,
        profile,
        record_type,
        org,
    ]
}

// ---------- the metadata file ----------

/// A metadata file: custom objects and fields (also fields added to standard objects),
/// record types, and profiles with field-level restrictions.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataFile {
    #[serde(default)]
    pub objects: Vec<ObjectSpec>,
    #[serde(default)]
    pub profiles: Vec<ProfileSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSpec {
    pub name: String,
    pub label: Option<String>,
    pub label_plural: Option<String>,
    pub key_prefix: Option<String>,
    /// `text` (default) or `autonumber` for the Name field of a new custom object.
    pub name_field_type: Option<String>,
    pub name_field_label: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub record_types: Vec<RecordTypeSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    pub name: String,
    pub label: Option<String>,
    /// A describe type, or `masterdetail`, `lookup`, `summary`, `text`, `number`, `checkbox`.
    #[serde(rename = "type")]
    pub ftype: String,
    pub length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    pub reference_to: Option<String>,
    /// The child relationship name shown on the parent (without `__r`).
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub picklist_values: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
    pub default_value: Option<serde_json::Value>,
    pub summary: Option<SummarySpec>,
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummarySpec {
    pub operation: RollupOp,
    pub object: String,
    /// The child's master-detail field; found automatically when there is exactly one.
    pub via: Option<String>,
    pub field: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordTypeSpec {
    pub developer_name: String,
    pub name: Option<String>,
    #[serde(default)]
    pub default: bool,
    pub active: Option<bool>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSpec {
    pub name: String,
    pub api_enabled: Option<bool>,
    /// `Object.Field` names the profile cannot see.
    #[serde(default)]
    pub hidden_fields: Vec<String>,
    /// `Object.Field` names the profile can read but not edit.
    #[serde(default)]
    pub read_only_fields: Vec<String>,
}

impl MetadataFile {
    /// Parses JSON or YAML (YAML is a superset, but JSON errors read better, so try it first).
    pub fn parse(text: &str) -> anyhow::Result<MetadataFile> {
        match serde_json::from_str(text) {
            Ok(m) => Ok(m),
            Err(json_err) => serde_yaml::from_str(text).map_err(|yaml_err| {
                anyhow::anyhow!("metadata is neither JSON ({json_err}) nor YAML ({yaml_err})")
            }),
        }
    }
}

/// Builds a field from its spec; errors name the object and field.
pub fn field_from_spec(object: &str, spec: &FieldSpec) -> anyhow::Result<FieldDef> {
    use FieldType::*;
    let kind = spec.ftype.to_ascii_lowercase();
    let ftype = match kind.as_str() {
        "string" | "text" => String,
        "textarea" | "longtextarea" | "richtextarea" => Textarea,
        "email" => Email,
        "phone" => Phone,
        "url" => Url,
        "picklist" => Picklist,
        "multipicklist" => Multipicklist,
        "boolean" | "checkbox" => Boolean,
        "int" | "integer" => Int,
        "double" | "number" => Double,
        "currency" => Currency,
        "percent" => Percent,
        "date" => Date,
        "datetime" => Datetime,
        "reference" | "lookup" | "masterdetail" => Reference,
        "summary" => Double,
        other => anyhow::bail!("{object}.{}: unknown field type {other}", spec.name),
    };
    if !spec.name.ends_with("__c") {
        anyhow::bail!("{object}.{}: custom field names end in __c", spec.name);
    }
    let mut f = FieldDef::new(&spec.name, ftype);
    if let Some(l) = &spec.label {
        f.label = l.clone();
    }
    if let Some(n) = spec.length {
        f.length = n;
    }
    if let Some(p) = spec.precision {
        f.precision = p;
    }
    if let Some(s) = spec.scale {
        f.scale = s;
    }
    f.required = spec.required;
    f.external_id = spec.external_id;
    f.unique = spec.unique;
    f.case_sensitive = spec.case_sensitive;
    f.picklist = spec.picklist_values.clone();
    f.restricted = spec.restricted;
    if spec.read_only {
        f.createable = false;
        f.updateable = false;
    }
    if let Some(d) = &spec.default_value {
        f.default = match d {
            serde_json::Value::Bool(b) => Some(Val::Bool(*b)),
            serde_json::Value::Number(n) => n.as_f64().map(Val::Num),
            serde_json::Value::String(s) => Some(Val::str(s)),
            _ => None,
        };
    }
    if ftype == Reference {
        let to = spec
            .reference_to
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{object}.{}: referenceTo is required", spec.name))?;
        let rel = spec.name.trim_end_matches("__c").to_string() + "__r";
        let child = spec
            .relationship_name
            .clone()
            .unwrap_or_else(|| format!("{}s", object.trim_end_matches("__c")));
        f.reference_to = vec![to];
        f.relationship_name = Some(rel);
        f.child_relationship = Some(format!("{}__r", child.trim_end_matches("__r")));
        if kind == "masterdetail" {
            // The master is required, and reparenting is off by default.
            f.master_detail = true;
            f.required = true;
            f.updateable = false;
        }
    }
    if kind == "summary" {
        let s = spec
            .summary
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{object}.{}: summary needs `summary`", spec.name))?;
        f.rollup = Some(Rollup {
            op: s.operation,
            child: s.object.clone(),
            via: s.via.clone().unwrap_or_default(),
            field: s.field.clone(),
        });
        f.createable = false;
        f.updateable = false;
        f.calculated = true;
        if s.operation == RollupOp::Count {
            f.scale = 0;
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label_of("HasOptedOutOfEmail"), "Has Opted Out Of Email");
        assert_eq!(label_of("Survey_Score__c"), "Survey Score");
        assert_eq!(label_of("AccountId"), "Account ID");
    }

    #[test]
    fn yaml_metadata() {
        let m = MetadataFile::parse(
            "objects:\n  - name: Thing__c\n    fields:\n      - {name: Code__c, type: text, externalId: true}\n",
        )
        .unwrap();
        assert_eq!(m.objects[0].fields[0].name, "Code__c");
    }
}
