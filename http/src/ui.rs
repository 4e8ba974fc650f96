//! The web UI: static HTML, CSS and JavaScript modules (the `ui/`
//! directory of this crate), embedded in the binary and served at `/`
//! (the page) and `/ui/...` (its files). It is a client of the JSON API
//! like any other: the page and its files carry no data and need no token;
//! the browser sends the token the user pastes with every API call. These
//! paths are not part of `/openapi.json`.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

use crate::errors::ApiError;
use crate::AppState;

/// The UI's files.
static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// The page's policy: its own files only, no inline script or style, and
/// requests to this server only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The UI's routes: `/` and `/ui/{*path}`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/ui/{*path}", get(asset))
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

/// The embedded file at `path`, or a JSON 404.
fn serve(path: &str) -> Response {
    // `include_dir` paths never start with `/` nor hold `..`: such a path
    // finds nothing.
    let Some(file) = ASSETS.get_file(path) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file of the web UI").into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, file.contents()).into_response()
}

/// The media type of a UI file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use continuum_host::{Continuum, HttpConfig};
    use tower::ServiceExt;

    use super::*;

    /// The status, content type, CSP and body of `GET path` on the whole
    /// router of a server that takes tokens.
    async fn get(path: &str) -> (StatusCode, String, String, Vec<u8>) {
        let mut config = HttpConfig::loopback("127.0.0.1:0".parse().unwrap());
        config.admin_token = Some("secret".into());
        let app = crate::router(Arc::new(Continuum::new()), &config, std::env::temp_dir());
        let response = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let header = |h| response.headers().get(h).map(|v: &HeaderValue| v.to_str().unwrap().to_string()).unwrap_or_default();
        let (ct, csp) = (header(header::CONTENT_TYPE), header(header::CONTENT_SECURITY_POLICY));
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec();
        (status, ct, csp, body)
    }

    #[tokio::test]
    async fn the_page_and_its_files_are_served_without_a_token_the_api_is_not() {
        let (status, ct, csp, body) = get("/").await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert!(String::from_utf8(body).unwrap().contains("/ui/js/app.js"));
        let (status, ct, _, _) = get("/ui/js/app.js").await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/javascript; charset=utf-8"));
        for missing in ["/ui/nope.js", "/ui/../Cargo.toml", "/ui/%2e%2e/Cargo.toml", "/ui//etc/passwd", "/index.html"] {
            let (status, ct, _, body) = get(missing).await;
            assert_eq!((status, ct.as_str()), (StatusCode::NOT_FOUND, "application/json"), "{missing}");
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], "not_found", "{missing}");
        }
        let (status, _, _, _) = get("/v1/instances").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn the_ui_is_not_in_the_api_document() {
        let doc = crate::openapi::document();
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert!(paths.iter().all(|p| p.as_str() != "/" && !p.starts_with("/ui")), "{paths:?}");
    }

    #[test]
    fn every_file_has_a_known_type() {
        fn walk(dir: &Dir<'_>, out: &mut Vec<String>) {
            for f in dir.files() {
                out.push(f.path().display().to_string());
            }
            for d in dir.dirs() {
                walk(d, out);
            }
        }
        let mut files = Vec::new();
        walk(&ASSETS, &mut files);
        assert!(files.iter().any(|f| f == "index.html"), "{files:?}");
        for f in files {
            assert_ne!(content_type(&f), "application/octet-stream", "{f}");
        }
    }
}
