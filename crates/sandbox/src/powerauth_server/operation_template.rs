//! `/rest/v3/operation/template/{list,detail,create,update,remove}` (digest §12): the
//! templates `/rest/v3/operation/create` builds operations from, named by a numeric `id`.
//!
//! Validation follows PowerAuth Server's validators, with its messages (ERR0024); an
//! unknown id is ERR0033, a taken name ERR0039. The sandbox adds: a `dataTemplate`
//! whose `${…}` placeholders do not close, or any text with control characters, is
//! ERR0024; the built-in `login` and `payment` templates, and a template a `PENDING`
//! operation still uses, cannot be removed (ERR0042). Form data and UI are the
//! enrollment server's part (§16.4): a created template shows its operation type as the
//! title on a phone; the built-ins keep theirs through updates. As the sandbox plays the
//! enrollment server too, `create` also takes that server's template (sandbox-only,
//! optional): `formData` (title, message, attributes with `${…}` placeholders) and `ui`
//! (the mobile API's `ui` object), so a tester can see every screen a phone shows.

use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use crate::store::{Template, TemplateRemoval};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use powerauth::signature::SignatureType;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Templates every sandbox has, which stay.
pub(super) const BUILT_IN: [&str; 2] = ["login", "payment"];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/operation/template/list", post(list))
        .route("/rest/v3/operation/template/detail", post(detail))
        .route("/rest/v3/operation/template/create", post(create))
        .route("/rest/v3/operation/template/update", post(update))
        .route("/rest/v3/operation/template/remove", post(remove))
}

/// `OperationTemplateDetailResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateDetail {
    id: i64,
    template_name: String,
    operation_type: String,
    data_template: String,
    signature_type: Vec<String>,
    max_failure_count: i64,
    expiration: i64,
    risk_flags: Option<String>,
    proximity_check_enabled: bool,
}

impl From<Template> for TemplateDetail {
    fn from(t: Template) -> Self {
        Self {
            id: t.template_id,
            template_name: t.template_name,
            operation_type: t.operation_type,
            data_template: t.data_template,
            signature_type: t.signature_types,
            max_failure_count: t.max_failure_count,
            expiration: t.expiration_seconds,
            risk_flags: t.risk_flags,
            proximity_check_enabled: t.proximity_check_enabled,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::rest(RestCode::InvalidRequest, message)
}

fn not_found(id: i64) -> Error {
    Error::rest(
        RestCode::OperationTemplateNotFound,
        format!("no operation template with id {id}"),
    )
}

async fn list(State(state): State<AppState>) -> Result<ResponseObject<Vec<TemplateDetail>>, Error> {
    let templates = state.store.templates().await?;
    Ok(ResponseObject(
        templates.into_iter().map(TemplateDetail::from).collect(),
    ))
}

#[derive(Deserialize)]
struct IdRequest {
    id: Option<i64>,
}

fn required_id(request: &IdRequest, what: &str) -> Result<i64, Error> {
    request.id.ok_or_else(|| {
        invalid(format!(
            "Operation template ID must not be null when {what}"
        ))
    })
}

async fn detail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<IdRequest>,
) -> Result<ResponseObject<TemplateDetail>, Error> {
    let id = required_id(&request, "requesting the template detail")?;
    let template = state
        .store
        .template_by_id(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(ResponseObject(template.into()))
}

/// The fields create and update share, as sent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    operation_type: Option<String>,
    data_template: Option<String>,
    signature_type: Option<Vec<String>>,
    max_failure_count: Option<i64>,
    expiration: Option<i64>,
    risk_flags: Option<String>,
    #[serde(default)]
    proximity_check_enabled: bool,
}

/// The checked fields.
struct Valid {
    operation_type: String,
    data_template: String,
    signature_types: Vec<String>,
    max_failure_count: i64,
    expiration_seconds: i64,
    risk_flags: Option<String>,
    proximity_check_enabled: bool,
}

impl Valid {
    /// The template with these fields and what the template API does not change.
    fn into_template(
        self,
        template_id: i64,
        template_name: String,
        form_data: serde_json::Value,
        ui: Option<serde_json::Value>,
    ) -> Template {
        Template {
            template_id,
            template_name,
            operation_type: self.operation_type,
            data_template: self.data_template,
            signature_types: self.signature_types,
            max_failure_count: self.max_failure_count,
            expiration_seconds: self.expiration_seconds,
            risk_flags: self.risk_flags,
            proximity_check_enabled: self.proximity_check_enabled,
            form_data,
            ui,
        }
    }
}

/// PowerAuth Server's checks in its order and words (`when` ends the "must not be null"
/// messages), then the sandbox's own.
fn validate(fields: Fields, when: &str) -> Result<Valid, Error> {
    // PowerAuth Server ends its create messages with a period, its update messages not.
    let dot = if when.ends_with('.') { "." } else { "" };
    let text = |value: Option<String>, what: &str| match value {
        None => Err(invalid(format!("{what} must not be null {when}"))),
        Some(v) if v.is_empty() => Err(invalid(format!("{what} must not be empty {when}"))),
        Some(v) => Ok(v),
    };
    let operation_type = text(fields.operation_type, "Template operation type")?;
    let signature_type = fields
        .signature_type
        .ok_or_else(|| invalid(format!("Template signature types must not be null {when}")))?;
    if signature_type.is_empty() {
        return Err(invalid(format!(
            "Template signature types must contain at least one value{dot}"
        )));
    }
    let mut signature_types = Vec::with_capacity(signature_type.len());
    for name in &signature_type {
        let parsed: SignatureType = name
            .parse()
            .map_err(|_| invalid(format!("unknown signature type {name:?}")))?;
        let server_name = parsed.server_name().to_owned();
        if signature_types.contains(&server_name) {
            return Err(invalid("Template signature types must be unique."));
        }
        signature_types.push(server_name);
    }
    let data_template = text(fields.data_template, "Template data")?;
    let expiration_seconds = fields
        .expiration
        .ok_or_else(|| invalid(format!("Template expiration value must not be null {when}")))?;
    if expiration_seconds <= 0 {
        return Err(invalid(format!(
            "Template expiration value must be greater than zero{dot}"
        )));
    }
    let max_failure_count = fields.max_failure_count.ok_or_else(|| {
        invalid(format!(
            "Template maximum allowed failure count must not be null{dot}"
        ))
    })?;
    if max_failure_count <= 0 {
        return Err(invalid(format!(
            "Template maximum allowed failure count must be greater than zero{dot}"
        )));
    }
    check_text("operationType", &operation_type)?;
    check_text("dataTemplate", &data_template)?;
    check_placeholders(&data_template)?;
    if let Some(flags) = &fields.risk_flags {
        check_text("riskFlags", flags)?;
    }
    Ok(Valid {
        operation_type,
        data_template,
        signature_types,
        max_failure_count,
        expiration_seconds,
        risk_flags: fields.risk_flags,
        proximity_check_enabled: fields.proximity_check_enabled,
    })
}

/// At most 255 characters, none of them control characters (the operation data string
/// forbids them, digest §11.4).
fn check_text(field: &str, value: &str) -> Result<(), Error> {
    if value.chars().count() > 255 || value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must be at most 255 characters without control characters"
        )));
    }
    Ok(())
}

/// Every `${` closes with a `}` around a non-empty name.
fn check_placeholders(template: &str) -> Result<(), Error> {
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if end > 0 => rest = &after[end + 1..],
            _ => {
                return Err(invalid(
                    "dataTemplate has a ${ placeholder without a name or closing }",
                ));
            }
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    template_name: Option<String>,
    #[serde(flatten)]
    fields: Fields,
    /// The enrollment server's form data for this template (sandbox-only).
    form_data: Option<serde_json::Value>,
    /// The enrollment server's `ui` for this template (sandbox-only).
    ui: Option<serde_json::Value>,
}

async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<TemplateDetail>, Error> {
    const WHEN: &str = "when creating operation template.";
    let template_name = match request.template_name {
        None => return Err(invalid(format!("Template name must not be null {WHEN}"))),
        Some(name) if name.is_empty() => {
            return Err(invalid(format!("Template name must not be empty {WHEN}")));
        }
        Some(name) => name,
    };
    let valid = validate(request.fields, WHEN)?;
    check_text("templateName", &template_name)?;
    let form_data = match request.form_data {
        Some(form) if form.is_object() => form,
        Some(_) => return Err(invalid("formData must be a JSON object")),
        None => json!({
            "title": valid.operation_type,
            "message": "",
            "attributes": [],
        }),
    };
    let ui = match request.ui {
        Some(ui) if !ui.is_object() => return Err(invalid("ui must be a JSON object")),
        ui => ui,
    };
    let template = valid.into_template(0, template_name, form_data, ui);
    let saved = state
        .store
        .insert_template(&template)
        .await?
        .ok_or_else(|| {
            Error::rest(
                RestCode::OperationTemplateAlreadyExists,
                format!("a template is named {:?}", template.template_name),
            )
        })?;
    tracing::info!(template = %saved.template_name, id = saved.template_id, "operation template created");
    Ok(ResponseObject(saved.into()))
}

#[derive(Deserialize)]
struct UpdateRequest {
    id: Option<i64>,
    #[serde(flatten)]
    fields: Fields,
}

async fn update(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<UpdateRequest>,
) -> Result<ResponseObject<TemplateDetail>, Error> {
    let id = request
        .id
        .ok_or_else(|| invalid("Operation template ID must not be null when updating template"))?;
    let valid = validate(request.fields, "when updating operation template")?;
    let current = state
        .store
        .template_by_id(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let updated = valid.into_template(
        current.template_id,
        current.template_name,
        current.form_data,
        current.ui,
    );
    if !state.store.update_template(&updated).await? {
        return Err(not_found(id));
    }
    Ok(ResponseObject(updated.into()))
}

async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<IdRequest>,
) -> Result<Response, Error> {
    let id = required_id(&request, "requesting the template detail")?;
    let template = state
        .store
        .template_by_id(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if BUILT_IN.contains(&template.template_name.as_str()) {
        return Err(Error::rest(
            RestCode::OperationTemplateError,
            format!(
                "the built-in template {:?} stays; update it instead",
                template.template_name
            ),
        ));
    }
    match state.store.remove_template(id).await? {
        TemplateRemoval::Removed => {
            tracing::info!(template = %template.template_name, id, "operation template removed");
            Ok(crate::extract::json_response(&json!({"status": "OK"})).into_response())
        }
        TemplateRemoval::NotFound => Err(not_found(id)),
        TemplateRemoval::InUse(pending) => Err(Error::rest(
            RestCode::OperationTemplateError,
            format!("{pending} PENDING operations use this template; cancel them first"),
        )),
    }
}
