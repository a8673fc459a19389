//! The install kit behind `sonde salesforce package`: the Salesforce metadata, in the source
//! format `sf project deploy start` takes, that puts Sonde's panel inside Salesforce.
//!
//! Pure: [`generate`] returns each file's path (relative to the project directory) and text;
//! the command writes them. What is generated:
//! - `sfdx-project.json` and `manifest/package.xml`;
//! - the connected app (`connectedApps/<ApiName>.connectedApp-meta.xml`): OAuth for linking the
//!   org (callback `{url}/oauth/salesforce/callback`, scopes `api` and `refresh_token`, which is
//!   what Sonde asks for) and Canvas (`{url}/panel` by signed request, POST, in Lightning
//!   components and Visualforce);
//! - the Lightning (Aura) component `SondePanel`, which wraps `force:canvasApp` and passes the
//!   record's id and object as the Canvas `parameters`, with a design file so the Lightning App
//!   Builder can drop it on any record page;
//! - record pages (`flexipages/`) for Contact, Lead, Account, Case and Campaign with the
//!   standard highlights, details and related lists and the panel beside them.

mod xml;

use std::fmt;

/// The API version the generated source declares (Winter '25).
pub const API_VERSION: &str = "62.0";
/// The Aura component's name; the record pages place `c:SondePanel`.
pub const COMPONENT: &str = "SondePanel";
/// Objects whose record pages are generated with the panel.
pub const RECORD_PAGE_OBJECTS: &[&str] = &["Contact", "Lead", "Account", "Case", "Campaign"];

/// What the admin chose on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageOptions {
    /// Where people reach Sonde, e.g. `https://sonde.example.com` (a path prefix is kept).
    pub url: String,
    /// The connected app's label; its API name is derived from it.
    pub name: String,
    /// Who Salesforce contacts about the connected app (required by Salesforce).
    pub contact_email: String,
}

impl Default for PackageOptions {
    fn default() -> Self {
        PackageOptions {
            url: String::new(),
            name: "Sonde".into(),
            contact_email: "admin@example.com".into(),
        }
    }
}

/// One file of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the project directory, `/`-separated.
    pub path: String,
    pub contents: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("--url: {0}")]
    Url(String),
    #[error("--name: {0}")]
    Name(String),
    #[error("--contact-email: {0}")]
    ContactEmail(String),
}

/// Sonde's base URL, checked: absolute, HTTPS (plain HTTP only on this machine, for trying
/// the kit against a local Sonde), no query or fragment; without a trailing slash.
fn base_url(raw: &str) -> Result<String, PackageError> {
    let url = url::Url::parse(raw.trim()).map_err(|e| PackageError::Url(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| PackageError::Url("the URL names no host".into()))?;
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        "http" => {
            return Err(PackageError::Url(
                "Salesforce frames and posts signed requests to HTTPS URLs only; use https://"
                    .into(),
            ))
        }
        other => return Err(PackageError::Url(format!("{other}: not an http(s) URL"))),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(PackageError::Url(
            "give Sonde's base URL, without ?query or #fragment".into(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The connected app's API name (developer name) from its label: letters, digits and single
/// underscores, starting with a letter, as Salesforce requires of API names.
pub fn api_name(label: &str) -> Result<String, PackageError> {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        return Err(PackageError::Name(format!(
            "{label:?} has no letters or digits to make an API name from"
        )));
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert_str(0, "Sonde_");
    }
    out.truncate(40);
    Ok(out.trim_end_matches('_').to_string())
}

/// The checked options the templates read.
pub(crate) struct Kit {
    pub base: String,
    pub label: String,
    pub api_name: String,
    pub contact_email: String,
}

impl Kit {
    pub fn canvas_url(&self) -> String {
        format!("{}/panel", self.base)
    }
    pub fn callback_url(&self) -> String {
        format!("{}/oauth/salesforce/callback", self.base)
    }
}

fn check(opts: &PackageOptions) -> Result<Kit, PackageError> {
    let label = opts.name.trim();
    if label.is_empty() {
        return Err(PackageError::Name("the app needs a name".into()));
    }
    if label.chars().count() > 80 {
        return Err(PackageError::Name("at most 80 characters".into()));
    }
    let email = opts.contact_email.trim();
    let plausible = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !plausible {
        return Err(PackageError::ContactEmail(format!(
            "{email:?} is not an email address"
        )));
    }
    Ok(Kit {
        base: base_url(&opts.url)?,
        label: label.to_string(),
        api_name: api_name(label)?,
        contact_email: email.to_string(),
    })
}

/// Every file of the project, in a stable order.
pub fn generate(opts: &PackageOptions) -> Result<Vec<GeneratedFile>, PackageError> {
    let kit = check(opts)?;
    let root = "force-app/main/default";
    let file = |path: String, contents: String| GeneratedFile { path, contents };
    let mut files = vec![
        file("sfdx-project.json".into(), sfdx_project(&kit)),
        file("manifest/package.xml".into(), xml::package_manifest(&kit)),
        file(
            format!(
                "{root}/connectedApps/{}.connectedApp-meta.xml",
                kit.api_name
            ),
            xml::connected_app(&kit),
        ),
        file(
            format!("{root}/aura/{COMPONENT}/{COMPONENT}.cmp"),
            xml::component(&kit),
        ),
        file(
            format!("{root}/aura/{COMPONENT}/{COMPONENT}.cmp-meta.xml"),
            xml::component_meta(&kit),
        ),
        file(
            format!("{root}/aura/{COMPONENT}/{COMPONENT}.design"),
            xml::design(&kit),
        ),
        file(
            format!("{root}/aura/{COMPONENT}/{COMPONENT}Controller.js"),
            controller(),
        ),
    ];
    for object in RECORD_PAGE_OBJECTS {
        files.push(file(
            format!(
                "{root}/flexipages/{}.flexipage-meta.xml",
                flexipage_name(object)
            ),
            xml::record_page(&kit, object),
        ));
    }
    Ok(files)
}

/// The generated record page of `object` (its API name, also the file's stem).
pub fn flexipage_name(object: &str) -> String {
    format!("Sonde_{object}_Record_Page")
}

fn sfdx_project(kit: &Kit) -> String {
    let name = format!("{}-salesforce", kit.api_name.to_lowercase());
    let v = serde_json::json!({
        "packageDirectories": [{"path": "force-app", "default": true}],
        "name": name,
        "namespace": "",
        "sfdcLoginUrl": "https://login.salesforce.com",
        "sourceApiVersion": API_VERSION,
    });
    let mut text = serde_json::to_string_pretty(&v).unwrap_or_default();
    text.push('\n');
    text
}

/// The component's client-side controller: `force:canvasApp` takes its parameters as one JSON
/// string, so it is built here from the record the page shows.
fn controller() -> String {
    r#"({
    // force:canvasApp reads `parameters` as a JSON string; Sonde's panel looks for recordId
    // there (Lightning sends the Canvas app no record of its own).
    doInit: function (component) {
        component.set(
            "v.canvasParameters",
            JSON.stringify({
                recordId: component.get("v.recordId") || null,
                sObjectName: component.get("v.sObjectName") || null
            })
        );
    }
});
"#
    .to_string()
}

impl fmt::Display for GeneratedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)
    }
}

#[cfg(test)]
mod tests;
