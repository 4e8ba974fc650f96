//! Errors as the API answers them: a status and a JSON body
//! `{"error": {"code": "...", "message": "..."}}` whose `code` is stable.
//! The CLI's exit-code classes map onto statuses: bad input 400 (413 for a
//! body or payload too large), unknown instance, run or workflow 404,
//! conflicts 409, the database unreachable 503. A 500 is a bug.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use continuum_host::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`unknown_run`, `invalid_json`, ...).
    pub code: &'static str,
    /// One line for a human.
    pub message: String,
}

/// The JSON body of an error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code.
    #[schema(value_type = String)]
    pub code: &'static str,
    /// One line for a human.
    pub message: String,
}

impl ApiError {
    /// An error of `status` with `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let (status, code) = match &e {
            Error::InstanceNotRegistered(_) => (S::NOT_FOUND, "unknown_instance"),
            Error::UnknownWorkflow { .. } => (S::NOT_FOUND, "unknown_workflow"),
            Error::UnknownRun { .. } => (S::NOT_FOUND, "unknown_run"),
            Error::UnknownQuery { .. } => (S::NOT_FOUND, "unknown_query"),
            Error::QueriesUnsupported { .. } => (S::CONFLICT, "queries_unsupported"),
            Error::QueryFailed { .. } => (S::UNPROCESSABLE_ENTITY, "query_failed"),
            Error::UpdateRejected { .. } => (S::UNPROCESSABLE_ENTITY, "update_rejected"),
            Error::UpdateNotReplied { .. } => (S::CONFLICT, "update_not_replied"),
            Error::UpdateTimeout { .. } => (S::ACCEPTED, "not_replied"),
            Error::UnknownSchedule { .. } => (S::NOT_FOUND, "unknown_schedule"),
            Error::InvalidSchedule { .. } => (S::BAD_REQUEST, "invalid_schedule"),
            Error::ScheduleExists { .. } => (S::CONFLICT, "schedule_exists"),
            Error::InvalidJson { .. } => (S::BAD_REQUEST, "invalid_json"),
            Error::InvalidName { .. } => (S::BAD_REQUEST, "invalid_name"),
            Error::NothingToReplay => (S::BAD_REQUEST, "bad_request"),
            Error::PayloadTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::Module(_) | Error::WorkflowModule { .. } | Error::ActivityModule { .. } => {
                (S::BAD_REQUEST, "invalid_module")
            }
            Error::RunExists { .. } => (S::CONFLICT, "run_exists"),
            Error::RunConflict { .. } => (S::CONFLICT, "run_conflict"),
            Error::SignalKeyConflict { .. } => (S::CONFLICT, "signal_key_conflict"),
            Error::RunFinished { .. } => (S::CONFLICT, "run_finished"),
            Error::RunControlRefused { .. } => (S::CONFLICT, "run_control_refused"),
            Error::InvalidResetPoint { .. } => (S::BAD_REQUEST, "invalid_reset_point"),
            Error::WorkflowMismatch { .. } => (S::CONFLICT, "workflow_mismatch"),
            Error::DeployRefused { .. } => (S::CONFLICT, "deploy_refused"),
            Error::AwaitTimeout { .. } => (S::ACCEPTED, "not_finished"),
            Error::CancelNotConfirmed { .. } => (S::SERVICE_UNAVAILABLE, "cancel_not_confirmed"),
            Error::Database(_) | Error::DatabaseUnreachable { .. } => (S::SERVICE_UNAVAILABLE, "database_unavailable"),
            _ => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), code = self.code, message = %self.message, "HTTP request failed");
        }
        let retry = matches!(self.code, "cancel_not_confirmed" | "database_unavailable");
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        let mut response = (self.status, axum::Json(body)).into_response();
        if retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
