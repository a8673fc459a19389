//! OAuth: password, authorization code with PKCE through the sign-in page, refresh with
//! rotation (one winner under concurrency), revoke, userinfo/identity, profiles without API.

use crate::*;
use base64::Engine;
use sha2::Digest;

async fn password_grant(t: &TestOrg, user: &str, password: &str) -> Answer {
    let (id, secret) = (
        t.org.client_id().to_string(),
        t.org.client_secret().to_string(),
    );
    t.form(
        "/services/oauth2/token",
        &[
            ("grant_type", "password"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("username", user),
            ("password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn password_grant_and_its_errors() {
    let t = demo().await;
    let ok = password_grant(&t, &t.org.username(), t.org.password()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    for k in [
        "access_token",
        "instance_url",
        "id",
        "issued_at",
        "signature",
        "token_type",
    ] {
        assert!(ok.json[k].is_string(), "missing {k}");
    }
    assert!(
        ok.json["refresh_token"].is_null(),
        "password grant gives no refresh token"
    );
    assert_eq!(ok.json["instance_url"], t.org.instance_url());
    let with_token = password_grant(
        &t,
        &t.org.username(),
        &format!("{}{}", t.org.password(), t.org.security_token()),
    )
    .await;
    assert_eq!(with_token.status, 200);
    let bad = password_grant(&t, &t.org.username(), "nope").await;
    assert_eq!(
        (bad.status.as_u16(), bad.json["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let bad_client = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", "x"),
                ("client_secret", "y"),
                ("username", "a"),
                ("password", "b"),
            ],
        )
        .await;
    assert_eq!(bad_client.json["error"], "invalid_client_id");
    let unsupported = t
        .form("/services/oauth2/token", &[("grant_type", "magic")])
        .await;
    assert_eq!(unsupported.json["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn authorization_code_with_pkce_through_the_sign_in_page() {
    let t = start(
        Org::builder()
            .seed(Seed::Empty)
            .redirect_uri("https://app.example/callback"),
    )
    .await;
    let verifier = "a-very-long-code-verifier-with-enough-entropy-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let client_id = t.org.client_id().to_string();
    let page = t
        .http
        .get(t.url("/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "https://app.example/callback"),
            ("state", "xyz"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains(&challenge));
    let user = t.org.username();
    let form = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", "https://app.example/callback"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("username", user.as_str()),
        ("password", t.org.password()),
        ("action", "Allow"),
    ];
    let posted = t.form("/services/oauth2/authorize", &form).await;
    assert!(posted.status.is_redirection(), "{}", posted.status);
    let location = url::Url::parse(posted.headers["location"].to_str().unwrap()).unwrap();
    assert!(location
        .as_str()
        .starts_with("https://app.example/callback?"));
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();
    let wrong = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("redirect_uri", "https://app.example/callback"),
                ("code_verifier", "wrong"),
            ],
        )
        .await;
    assert_eq!(
        wrong.json["error"], "invalid_grant",
        "a wrong verifier burns the code"
    );
    // Sign in again for a fresh code, exchange it properly.
    let posted = t.form("/services/oauth2/authorize", &form).await;
    let location = url::Url::parse(posted.headers["location"].to_str().unwrap()).unwrap();
    let code: String = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let ok = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("redirect_uri", "https://app.example/callback"),
                ("code_verifier", verifier),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.json["refresh_token"].is_string());
    let again = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("redirect_uri", "https://app.example/callback"),
                ("code_verifier", verifier),
            ],
        )
        .await;
    assert_eq!(again.json["error"], "invalid_grant", "codes are single use");
    let foreign = t
        .http
        .get(t.url("/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 400);
    let loopback = t
        .http
        .get(t.url("/services/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(loopback.status(), 200, "any loopback redirect is accepted");
}

#[tokio::test]
async fn refresh_rotation_lets_exactly_one_concurrent_refresh_win() {
    let t = start(Org::builder().rotate_refresh_tokens(true)).await;
    let id = t.org.client_id().to_string();
    let secret = t.org.client_secret().to_string();
    let rt = t.org.refresh_token().to_string();
    let refresh = |token: String| {
        let (t, id, secret) = (&t, id.clone(), secret.clone());
        async move {
            t.form(
                "/services/oauth2/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };
    let results = futures::future::join_all((0..4).map(|_| refresh(rt.clone()))).await;
    let winners: Vec<_> = results.iter().filter(|a| a.status == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    assert!(results
        .iter()
        .filter(|a| a.status != 200)
        .all(|a| a.json["error"] == "invalid_grant"));
    let new_rt = winners[0].json["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_rt, rt);
    assert_eq!(refresh(new_rt).await.status, 200);
    let token = winners[0].json["access_token"].as_str().unwrap();
    assert_eq!(
        t.call_as(token, Method::GET, "limits", None).await.status,
        200
    );
}

#[tokio::test]
async fn revoke_userinfo_identity_and_api_disabled_profile() {
    let t = demo().await;
    let info = t
        .http
        .get(t.url("/services/oauth2/userinfo"))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["preferred_username"], t.org.username());
    let res = t.get("").await;
    let identity = res.json["identity"].as_str().unwrap().to_string();
    let id: Value = t
        .http
        .get(&identity)
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(id["organization_id"], t.org.org_id());
    let token = t.org.session_for("admin@sfsim.example").unwrap();
    assert_eq!(
        t.call_as(&token, Method::GET, "limits", None).await.status,
        200
    );
    assert_eq!(
        t.form("/services/oauth2/revoke", &[("token", &token)])
            .await
            .status,
        200
    );
    let after = t.call_as(&token, Method::GET, "limits", None).await;
    assert_eq!(
        (after.status.as_u16(), error_code(&after)),
        (401, "INVALID_SESSION_ID".to_string())
    );
    let noapi = t.org.session_for("noapi@sfsim.example").unwrap();
    let refused = t.call_as(&noapi, Method::GET, "sobjects", None).await;
    assert_eq!(
        (refused.status.as_u16(), error_code(&refused)),
        (403, "API_CURRENTLY_DISABLED".to_string())
    );
    assert_eq!(
        refused.json,
        serde_json::json!([{"message": "The REST API is not enabled for this Organization.", "errorCode": "API_CURRENTLY_DISABLED"}]),
        "Salesforce's own body"
    );
}

#[tokio::test]
async fn jwt_bearer_checks_issuer_audience_and_subject() {
    let t = demo().await;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = chrono::Utc::now().timestamp() + 300;
    let jwt = |iss: &str, aud: &str, sub: &str| {
        format!(
            "{}.{}.c2ln",
            b64(serde_json::json!({"alg": "RS256"})),
            b64(serde_json::json!({"iss": iss, "aud": aud, "sub": sub, "exp": exp}))
        )
    };
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let good = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", grant),
                (
                    "assertion",
                    &jwt(t.org.client_id(), t.org.login_url(), &t.org.username()),
                ),
            ],
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.text);
    let wrong_aud = t
        .form(
            "/services/oauth2/token",
            &[
                ("grant_type", grant),
                (
                    "assertion",
                    &jwt(
                        t.org.client_id(),
                        "https://login.salesforce.com",
                        &t.org.username(),
                    ),
                ),
            ],
        )
        .await;
    assert_eq!(wrong_aud.json["error"], "invalid_grant");
}

#[tokio::test]
async fn jwt_bearer_verifies_rs256_with_the_apps_key() {
    use rsa::pkcs8::EncodePublicKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let pem = key
        .to_public_key()
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    let t = start(Org::builder().jwt_public_key(pem)).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let claims = serde_json::json!({"iss": t.org.client_id(), "aud": t.org.login_url(), "sub": t.org.username(), "exp": chrono::Utc::now().timestamp() + 300});
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"RS256"}"#),
        b64(claims.to_string().as_bytes())
    );
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let signed = format!("{input}.{}", b64(&signer.sign(input.as_bytes()).to_bytes()));
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let ok = t
        .form(
            "/services/oauth2/token",
            &[("grant_type", grant), ("assertion", &signed)],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let forged = format!("{input}.{}", b64(b"not a signature"));
    let bad = t
        .form(
            "/services/oauth2/token",
            &[("grant_type", grant), ("assertion", &forged)],
        )
        .await;
    assert_eq!(bad.json["error"], "invalid_grant");
}
