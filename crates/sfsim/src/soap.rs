//! The SOAP partner `login` call (`/services/Soap/u/{version}`): the sign-in that
//! simple-salesforce and jsforce use when given only a username, password and security token.
//! A failed login is a SOAP 1.1 fault, which that protocol sends with HTTP 500.

use crate::org::OrgState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The text of the first element whose local name is `name`, entities decoded.
fn element(xml: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(p) = xml[from..].find('<') {
        let start = from + p + 1;
        let end = start + xml[start..].find('>')?;
        let tag = &xml[start..end];
        let local = tag
            .split_whitespace()
            .next()
            .unwrap_or("")
            .rsplit(':')
            .next()
            .unwrap_or("");
        if local == name && !tag.starts_with('/') && !tag.ends_with('/') {
            let body_end = end + 1 + xml[end + 1..].find('<')?;
            let text = &xml[end + 1..body_end];
            return Some(
                text.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
        }
        from = end;
    }
    None
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn fault(code: &str, message: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:sf=\"urn:fault.partner.soap.sforce.com\"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {}</faultstring><detail><sf:LoginFault><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
            esc(message),
            esc(message)
        ),
    )
}

/// POST /services/Soap/u/{version}
pub async fn login(
    State(state): State<Arc<OrgState>>,
    Path(version): Path<String>,
    body: String,
) -> Response {
    if element(&body, "login").is_none() && !body.contains(":login") && !body.contains("<login") {
        return fault(
            "UNKNOWN_EXCEPTION",
            "sfsim answers only the login call on the SOAP API",
        );
    }
    let username = element(&body, "username").unwrap_or_default();
    let password = element(&body, "password").unwrap_or_default();
    let found = {
        let store = state.store.read();
        store
            .users
            .iter()
            .find(|u| {
                u.username == username
                    && (password == u.password
                        || password == format!("{}{}", u.password, store.security_token))
            })
            .map(|u| (u.id, u.username.clone(), u.name.clone(), u.email.clone()))
    };
    let Some((user, uname, full_name, email)) = found else {
        return fault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        );
    };
    let now = state.clock.now_ms();
    let org = state.org_id();
    let token = state.auth.lock().issue_access(
        org,
        user,
        &state.config.client_id,
        now + state.config.session_ms,
    );
    state.mark_dirty();
    let v = version.trim_start_matches('v');
    let base = state.instance_url();
    let org18 = org.to18();
    xml(
        StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns=\"urn:partner.soap.sforce.com\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body><loginResponse><result>\
             <metadataServerUrl>{base}/services/Soap/m/{v}/{org18}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>\
             <serverUrl>{base}/services/Soap/u/{v}/{org18}</serverUrl><sessionId>{token}</sessionId><userId>{user18}</userId>\
             <userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol><orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>\
             <organizationId>{org18}</organizationId><organizationMultiCurrency>false</organizationMultiCurrency><organizationName>Sfsim Demo Co</organizationName>\
             <sessionSecondsValid>{secs}</sessionSecondsValid><userEmail>{email}</userEmail><userFullName>{name}</userFullName><userId>{user18}</userId>\
             <userLanguage>en_US</userLanguage><userLocale>en_US</userLocale><userName>{uname}</userName><userTimeZone>America/Los_Angeles</userTimeZone><userType>Standard</userType>\
             </userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>",
            user18 = user.to18(),
            secs = state.config.session_ms / 1000,
            email = esc(&email),
            name = esc(&full_name),
            uname = esc(&uname),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::element;

    #[test]
    fn reads_prefixed_elements() {
        let x = "<env:Body><n1:login xmlns:n1=\"urn:partner.soap.sforce.com\"><n1:username>a&amp;b</n1:username><n1:password>p</n1:password></n1:login></env:Body>";
        assert_eq!(element(x, "username").as_deref(), Some("a&b"));
        assert_eq!(element(x, "password").as_deref(), Some("p"));
        assert_eq!(element(x, "missing"), None);
    }
}
