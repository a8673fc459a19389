//! Making spent fixtures again: each `Spend` a row uses up is made anew before the next call.

use super::{Spend, World, ADMIN, EDITOR, MISSING_CASE, SCHEDULED_DISTRIBUTION};
use crate::harness;
use engine::Role;
use reqwest::Method;
use serde_json::{json, Value};

impl World {
    /// Makes a spent fixture again (for `who`, when it is theirs).
    pub(super) async fn renew(&mut self, spend: Spend, who: usize) {
        match spend {
            Spend::Session => {
                let email = self.callers[who].email.clone().expect("a signed-in caller");
                self.callers[who].session = Some(self.app.sign_in(&email).await);
            }
            Spend::FailedRun => {
                let r = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/surveys/{survey}/responses",
                        &format!(
                            r#"{{"answers": {{answers}}, "embeddedData": {{"CaseId": "{MISSING_CASE}"}}, "finished": true}}"#
                        ),
                        201,
                    )
                    .await;
                let response = r["responseId"].as_str().unwrap();
                self.app.sonde.drain_workflows().await.unwrap();
                let (runs, _) = self
                    .app
                    .sonde
                    .workflow_runs(&self.editor, &self.values["workflow"], Some("failed"), 1000)
                    .await
                    .unwrap();
                let run = runs
                    .into_iter()
                    .find(|r| r.response_id == response)
                    .expect("the run updating a missing Case failed");
                self.values.insert("failed_run", run.id);
            }
            Spend::SpareWorkflow => {
                let v = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/surveys/{survey}/workflows",
                        "{dir_workflow_json}",
                        201,
                    )
                    .await;
                self.values
                    .insert("spare_workflow", v["id"].as_str().unwrap().into());
            }
            Spend::SpareConnection => {
                let token = self.callers[EDITOR].token.clone().unwrap();
                let id = harness::link_sfsim(&self.app, &token, &self.sf).await;
                self.values.insert("spare_connection", id);
            }
            Spend::SpareToken => {
                let v = self
                    .editor_call(Method::POST, "/api/v1/tokens", r#"{"name": "spare"}"#, 201)
                    .await;
                self.values
                    .insert("spare_token", v["id"].as_str().unwrap().into());
            }
            Spend::SpareUser => {
                let (user, _) = self.app.user_in(&self.editor.org_id, Role::Viewer).await;
                self.values.insert("spare_user", user.user_id);
            }
            Spend::SpareSurvey | Spend::ArchivedSurvey => {
                let token = self.callers[EDITOR].token.clone().unwrap();
                let id = self.app.sample_survey(&token).await;
                self.values.insert("new_survey", id.clone());
                self.editor_call(
                    Method::POST,
                    "/api/v1/surveys/{new_survey}/collaborators",
                    r#"{"email": "{viewer_email}"}"#,
                    204,
                )
                .await;
                if spend == Spend::ArchivedSurvey {
                    self.editor_call(
                        Method::POST,
                        "/api/v1/surveys/{new_survey}/archive",
                        "",
                        200,
                    )
                    .await;
                    self.values.insert("archived_survey", id);
                } else {
                    self.values.insert("spare_survey", id);
                }
            }
            Spend::SpareResponse => {
                let id = harness::insert_response(
                    &self.app,
                    &self.editor.org_id,
                    &self.values["survey"],
                    store::responses::ResponseStatus::Complete,
                    store::now_ms(),
                    &Default::default(),
                )
                .await;
                self.values.insert("spare_response", id);
            }
            Spend::SpareContact => {
                let v = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/contacts?listId={list}",
                        r#"{"email": "spare{n}@example.com", "firstName": "Spare"}"#,
                        201,
                    )
                    .await;
                self.values
                    .insert("spare_contact", v["id"].as_str().unwrap().into());
            }
            Spend::SpareList => {
                let v = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/mailing-lists",
                        r#"{"name": "Spare list {n}"}"#,
                        201,
                    )
                    .await;
                self.values
                    .insert("spare_list", v["id"].as_str().unwrap().into());
            }
            Spend::SpareInvitation | Spend::InvitationLink => {
                let email = self.fill("spare{n}@example.com");
                let made = self
                    .app
                    .sonde
                    .invite_user(&self.admin, &email, "viewer")
                    .await
                    .unwrap();
                if spend == Spend::SpareInvitation {
                    self.values.insert("spare_invitation", made.invitation.id);
                } else {
                    let token = made.link.rsplit('/').next().unwrap().to_string();
                    self.values.insert("invitation_token", token);
                }
            }
            Spend::SpareTemplate => {
                let v = self
                    .editor_call(Method::POST, "/api/v1/templates", "{template_json}", 201)
                    .await;
                self.values
                    .insert("spare_template", v["id"].as_str().unwrap().into());
            }
            Spend::SpareDistribution => {
                let v = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/surveys/{survey}/distributions",
                        SCHEDULED_DISTRIBUTION,
                        201,
                    )
                    .await;
                self.values
                    .insert("spare_distribution", v["id"].as_str().unwrap().into());
            }
            Spend::DiscoverRun => {
                let j = self
                    .editor_call(
                        Method::POST,
                        "/api/v1/discover/jobs",
                        "{discover_job_json}",
                        201,
                    )
                    .await;
                self.values
                    .insert("discover_job", j["id"].as_str().unwrap().into());
            }
            Spend::CancelledRun => {
                self.app.sonde.drain_discover_runs().await.unwrap();
                let run = self
                    .app
                    .sonde
                    .start_discover_run(&self.editor, &self.values["cancel_job"])
                    .await
                    .unwrap();
                self.values.insert("discover_run", run.id);
            }
            Spend::SpareRule => {
                // Rules are the admins' to add.
                let r = self
                    .http
                    .post(self.app.url("/api/v1/directory/frequency-rules"))
                    .bearer_auth(self.callers[ADMIN].token.as_deref().unwrap())
                    .json(&json!({"scope": {"type": "organization"}, "maxInvitations": 50, "periodDays": 1}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                self.values
                    .insert("spare_rule", v["id"].as_str().unwrap().into());
            }
            Spend::OAuthGrant => {
                // The last grant made the editor a connection; let it go so the five-link
                // limit is never reached.
                for c in self
                    .app
                    .sonde
                    .salesforce_connections(&self.editor)
                    .await
                    .unwrap()
                {
                    let kept = [&self.values["connection"], &self.values["spare_connection"]];
                    if !kept.contains(&&c.id) {
                        self.app
                            .sonde
                            .disconnect_salesforce(&self.editor, &c.id)
                            .await
                            .unwrap();
                    }
                }
                let token = self.callers[EDITOR].token.clone().unwrap();
                let callback = sonde::bench::mapping::authorize_via_oauth(
                    &self.app.base,
                    &token,
                    self.sf.login_url(),
                    &self.sf.username(),
                    self.sf.password(),
                )
                .await
                .unwrap();
                let query = callback.split_once('?').expect("state and code").1;
                self.values.insert("oauth_grant", query.to_string());
            }
        }
    }
}
