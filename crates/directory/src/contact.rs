//! A contact as it arrives from the API or a CSV row, every field already parsed. Storage adds
//! ids and mailing lists; this type is only what a person can type in.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{EmailAddress, FieldError, Language, PhoneNumber};

/// A new or replacement contact. JSON shape (camelCase, like Qualtrics' directory API):
/// `firstName`, `lastName`, `email`, `phone`, `language`, `extRef`, `embeddedData`,
/// `unsubscribed`.
///
/// Deserialising goes through [`ContactInput::from_json_value`], so a deserialised contact always
/// has at least one of email, phone or external reference. Blank strings count as absent: API
/// clients and spreadsheets send `""` for "no value" far more often than they mean anything else.
///
/// The schema is what the API accepts: every field optional, values still to be parsed (an
/// address that does not parse is refused by name), embedded data values any scalar.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[schema(value_type = Option<String>, format = Email)]
    pub email: Option<EmailAddress>,
    /// Any common notation; stored in E.164 (`+442079460958`).
    #[schema(value_type = Option<String>)]
    pub phone: Option<PhoneNumber>,
    /// A language code such as `EN` or `en-gb`.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    #[serde(rename = "extRef")]
    pub external_ref: Option<String>,
    /// Strings, numbers and booleans are kept as text; `null` drops the field.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    pub embedded_data: BTreeMap<String, String>,
    #[schema(value_type = Option<bool>)]
    pub unsubscribed: bool,
}

/// The JSON keys a contact may have; anything else is reported rather than dropped, because a
/// silently ignored `"lastname"` loses data the sender thinks was saved.
const KNOWN_KEYS: &[&str] = &[
    "firstName",
    "lastName",
    "email",
    "phone",
    "language",
    "extRef",
    "embeddedData",
    "unsubscribed",
];

impl ContactInput {
    /// Whether the contact can be reached or matched at all: a contact with none of email, phone
    /// or external reference could never receive a distribution nor be updated by a later import.
    pub fn has_identity(&self) -> bool {
        self.email.is_some() || self.phone.is_some() || self.external_ref.is_some()
    }

    /// The error reported when [`has_identity`](Self::has_identity) is false.
    pub(crate) fn identity_error(field: &str) -> FieldError {
        FieldError::new(
            field,
            "a contact needs at least one of email, phone or external reference (extRef)",
        )
    }

    /// Parses the API's JSON body, reporting every bad field (by its JSON key) rather than the
    /// first. Phone numbers must be international (`+…`): the API has no default country.
    pub fn from_json_value(value: &Value) -> Result<ContactInput, Vec<FieldError>> {
        let Some(obj) = value.as_object() else {
            return Err(vec![FieldError::new(
                "contact",
                "must be a JSON object with fields such as email, firstName, lastName",
            )]);
        };
        let mut errors = Vec::new();
        let mut contact = ContactInput::default();

        for key in obj.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key.as_str(),
                    format!(
                        "is not a contact field (known fields: {})",
                        KNOWN_KEYS.join(", ")
                    ),
                ));
            }
        }

        contact.first_name = text(obj.get("firstName"), "firstName", &mut errors);
        contact.last_name = text(obj.get("lastName"), "lastName", &mut errors);
        contact.external_ref = text(obj.get("extRef"), "extRef", &mut errors);
        let email = text(obj.get("email"), "email", &mut errors);
        let phone = text(obj.get("phone"), "phone", &mut errors);
        let language = text(obj.get("language"), "language", &mut errors);
        contact.email = email.and_then(|s| keep(EmailAddress::parse(&s), &mut errors));
        contact.phone = phone.and_then(|s| keep(PhoneNumber::parse(&s, None), &mut errors));
        contact.language = language.and_then(|s| keep(Language::parse(&s), &mut errors));

        match obj.get("unsubscribed") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => contact.unsubscribed = *b,
            Some(_) => errors.push(FieldError::new("unsubscribed", "must be true or false")),
        }

        match obj.get("embeddedData") {
            None | Some(Value::Null) => {}
            Some(Value::Object(fields)) => {
                for (name, value) in fields {
                    let field = format!("embeddedData.{name}");
                    if name.trim().is_empty() {
                        errors.push(FieldError::new(field, "has an empty name"));
                        continue;
                    }
                    // Embedded data is text everywhere else (query strings, CSV, piped text), so
                    // scalars are accepted and stored as their JSON text.
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => continue,
                        Value::Array(_) | Value::Object(_) => {
                            errors.push(FieldError::new(
                                field,
                                "must be text, a number or true/false",
                            ));
                            continue;
                        }
                    };
                    contact.embedded_data.insert(name.clone(), text);
                }
            }
            Some(_) => errors.push(FieldError::new(
                "embeddedData",
                "must be an object of field names to values",
            )),
        }

        let identity_fields_failed = errors
            .iter()
            .any(|e| matches!(e.field.as_str(), "email" | "phone" | "extRef"));
        if !contact.has_identity() && !identity_fields_failed {
            errors.push(Self::identity_error("email"));
        }

        if errors.is_empty() {
            Ok(contact)
        } else {
            Err(errors)
        }
    }
}

/// A string field: absent, null and blank all mean "no value"; surrounding whitespace is dropped.
fn text(value: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

fn keep<T>(parsed: Result<T, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    parsed.map_err(|e| errors.push(e)).ok()
}

impl<'de> Deserialize<'de> for ContactInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ContactInput::from_json_value(&value).map_err(|errors| {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            D::Error::custom(all.join("; "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn parses_a_full_contact() {
        let c = ContactInput::from_json_value(&json!({
            "firstName": " Ada ",
            "lastName": "Lovelace",
            "email": "Ada@Example.COM",
            "phone": "+44 20 7946 0958",
            "language": "en-gb",
            "extRef": "003000000000001",
            "embeddedData": {"Region": "EMEA", "Score": 9, "VIP": true, "Gone": null},
            "unsubscribed": true
        }))
        .unwrap();
        assert_eq!(c.first_name.as_deref(), Some("Ada"));
        assert_eq!(c.email.unwrap().as_str(), "Ada@example.com");
        assert_eq!(c.phone.unwrap().as_str(), "+442079460958");
        assert_eq!(c.language.unwrap().as_str(), "EN-GB");
        assert_eq!(c.external_ref.as_deref(), Some("003000000000001"));
        assert_eq!(c.embedded_data["Score"], "9");
        assert_eq!(c.embedded_data["VIP"], "true");
        assert!(!c.embedded_data.contains_key("Gone"));
        assert!(c.unsubscribed);
    }

    #[test]
    fn reports_every_bad_field_by_name() {
        let errors = ContactInput::from_json_value(&json!({
            "firstName": 3,
            "email": "not-an-email",
            "phone": "555-0100",
            "language": "English",
            "embeddedData": {"Tags": ["a"]},
            "unsubscribed": "yes",
            "lastname": "Lovelace"
        }))
        .unwrap_err();
        let mut got = fields(&errors);
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "email",
                "embeddedData.Tags",
                "firstName",
                "language",
                "lastname",
                "phone",
                "unsubscribed"
            ]
        );
    }

    #[test]
    fn needs_email_phone_or_external_ref() {
        let errors =
            ContactInput::from_json_value(&json!({"firstName": "Ada", "email": "  "})).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("at least one of email, phone"));
        for body in [
            json!({"email": "ada@example.com"}),
            json!({"phone": "+14155550100"}),
            json!({"extRef": "A-1"}),
        ] {
            assert!(ContactInput::from_json_value(&body).is_ok(), "{body}");
        }
        assert_eq!(
            fields(&ContactInput::from_json_value(&json!([1])).unwrap_err()),
            ["contact"]
        );
    }

    #[test]
    fn json_shape_round_trips() {
        let c = ContactInput::from_json_value(&json!({
            "email": "ada@example.com", "extRef": "X", "embeddedData": {"A": "1"}
        }))
        .unwrap();
        let out = serde_json::to_value(&c).unwrap();
        assert_eq!(
            out,
            json!({
                "firstName": null, "lastName": null, "email": "ada@example.com", "phone": null,
                "language": null, "extRef": "X", "embeddedData": {"A": "1"}, "unsubscribed": false
            })
        );
        let back: ContactInput = serde_json::from_value(out).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn deserialize_reports_the_same_errors() {
        let e = serde_json::from_str::<ContactInput>(r#"{"email":"x","language":"?"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("email: \"x\""), "{e}");
        assert!(e.contains("language: "), "{e}");
    }
}
