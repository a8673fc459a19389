//! The kit's XML files. Every value that came from the command line goes through [`esc`];
//! elements follow the order Salesforce's Metadata API schema gives them (alphabetical for
//! these types, which is also how `sf project retrieve` writes them).

use crate::{flexipage_name, Kit, API_VERSION, COMPONENT, RECORD_PAGE_OBJECTS};

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// Text or attribute value made safe for XML.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn package_manifest(kit: &Kit) -> String {
    let pages: String = RECORD_PAGE_OBJECTS
        .iter()
        .map(|o| format!("        <members>{}</members>\n", flexipage_name(o)))
        .collect();
    format!(
        "{HEAD}<Package xmlns=\"{NS}\">\n\
         \x20   <types>\n        <members>{COMPONENT}</members>\n        <name>AuraDefinitionBundle</name>\n    </types>\n\
         \x20   <types>\n        <members>{app}</members>\n        <name>ConnectedApp</name>\n    </types>\n\
         \x20   <types>\n{pages}        <name>FlexiPage</name>\n    </types>\n\
         \x20   <version>{API_VERSION}</version>\n</Package>\n",
        app = esc(&kit.api_name),
    )
}

/// The connected app: Canvas by signed request (POST) where Lightning components and
/// Visualforce pages show it, and OAuth for linking the org to Sonde. Admin-approved, because
/// a signed request is only posted without asking each user when the admin pre-authorizes them.
pub(crate) fn connected_app(kit: &Kit) -> String {
    format!(
        "{HEAD}<ConnectedApp xmlns=\"{NS}\">\n\
         \x20   <canvasConfig>\n\
         \x20       <accessMethod>Post</accessMethod>\n\
         \x20       <canvasUrl>{canvas}</canvasUrl>\n\
         \x20       <locations>Aura</locations>\n\
         \x20       <locations>Visualforce</locations>\n\
         \x20       <samlInitiationMethod>None</samlInitiationMethod>\n\
         \x20   </canvasConfig>\n\
         \x20   <contactEmail>{email}</contactEmail>\n\
         \x20   <description>{description}</description>\n\
         \x20   <label>{label}</label>\n\
         \x20   <oauthConfig>\n\
         \x20       <callbackUrl>{callback}</callbackUrl>\n\
         \x20       <isAdminApproved>true</isAdminApproved>\n\
         \x20       <scopes>Api</scopes>\n\
         \x20       <scopes>RefreshToken</scopes>\n\
         \x20   </oauthConfig>\n\
         </ConnectedApp>\n",
        canvas = esc(&kit.canvas_url()),
        email = esc(&kit.contact_email),
        description = esc(&format!(
            "{}: surveys sent from Salesforce records and their responses, in a panel on the record.",
            kit.label
        )),
        label = esc(&kit.label),
        callback = esc(&kit.callback_url()),
    )
}

/// The Aura component: `force:canvasApp` by the connected app's API name, given the record as
/// `parameters` once the init handler has built them.
pub(crate) fn component(kit: &Kit) -> String {
    format!(
        "<aura:component implements=\"force:hasRecordId,force:hasSObjectName,flexipage:availableForRecordHome,flexipage:availableForAllPageTypes\" access=\"global\">\n\
         \x20   <aura:attribute name=\"height\" type=\"String\" default=\"900px\" access=\"global\" />\n\
         \x20   <aura:attribute name=\"canvasParameters\" type=\"String\" />\n\
         \x20   <aura:handler name=\"init\" value=\"{{!this}}\" action=\"{{!c.doInit}}\" />\n\
         \x20   <aura:handler name=\"change\" value=\"{{!v.recordId}}\" action=\"{{!c.doInit}}\" />\n\
         \x20   <aura:if isTrue=\"{{!not(empty(v.canvasParameters))}}\">\n\
         \x20       <force:canvasApp developerName=\"{app}\" parameters=\"{{!v.canvasParameters}}\" width=\"100%\" height=\"{{!v.height}}\" />\n\
         \x20   </aura:if>\n\
         </aura:component>\n",
        app = esc(&kit.api_name),
    )
}

pub(crate) fn component_meta(kit: &Kit) -> String {
    format!(
        "{HEAD}<AuraDefinitionBundle xmlns=\"{NS}\">\n\
         \x20   <apiVersion>{API_VERSION}</apiVersion>\n\
         \x20   <description>{}</description>\n\
         </AuraDefinitionBundle>\n",
        esc(&format!(
            "{} panel: the Canvas app {} on a record page.",
            kit.label, kit.api_name
        ))
    )
}

/// What the Lightning App Builder offers for the component: its label and its height.
pub(crate) fn design(kit: &Kit) -> String {
    format!(
        "<design:component label=\"{}\">\n\
         \x20   <design:attribute name=\"height\" label=\"Height\" description=\"Height of the panel, e.g. 900px.\" />\n\
         </design:component>\n",
        esc(&format!("{} panel", kit.label))
    )
}

fn component_instance(name: &str) -> String {
    format!(
        "        <itemInstances>\n\
         \x20           <componentInstance>\n\
         \x20               <componentName>{name}</componentName>\n\
         \x20               <identifier>{}</identifier>\n\
         \x20           </componentInstance>\n\
         \x20       </itemInstances>\n",
        name.replace(':', "_")
    )
}

fn region(name: &str, components: &[&str]) -> String {
    let items: String = components.iter().map(|c| component_instance(c)).collect();
    format!(
        "    <flexiPageRegions>\n{items}        <name>{name}</name>\n        <type>Region</type>\n    </flexiPageRegions>\n"
    )
}

/// A record page for `object` on the two-column record template: highlights in the header,
/// the record's details in the main column, the panel and the related lists beside them.
pub(crate) fn record_page(kit: &Kit, object: &str) -> String {
    let panel = format!("c:{COMPONENT}");
    format!(
        "{HEAD}<FlexiPage xmlns=\"{NS}\">\n{header}{main}{sidebar}\
         \x20   <masterLabel>{label}</masterLabel>\n\
         \x20   <sobjectType>{object}</sobjectType>\n\
         \x20   <template>\n        <name>flexipage:recordHomeTemplateDesktop</name>\n    </template>\n\
         \x20   <type>RecordPage</type>\n\
         </FlexiPage>\n",
        header = region("header", &["force:highlightsPanel"]),
        main = region("main", &["force:detailPanel"]),
        sidebar = region("sidebar", &[&panel, "force:relatedListContainer"]),
        // Salesforce keeps a page's label to 80 characters.
        label = esc(&format!("{object} Record Page ({})", kit.label)
            .chars()
            .take(80)
            .collect::<String>()),
    )
}
