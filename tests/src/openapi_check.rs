//! Checks an answer of the HTTP API against its `/openapi.json`: the
//! operation of the path (matched against the document's templates), the
//! method and the status must be documented, and the body must fit the
//! schema. The check is strict where the document is silent: an object
//! with `properties` and no `additionalProperties` takes no other key, so
//! a field the server sends but the document lacks is caught too.

use serde_json::Value;

/// An OpenAPI document to check answers against.
#[derive(Debug, Clone)]
pub struct OpenApiDoc(pub Value);

impl OpenApiDoc {
    /// The document's path template that `path` (without its query) matches.
    pub fn template(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let segs: Vec<&str> = path.split('/').collect();
        let paths = self.0["paths"].as_object()?;
        paths
            .keys()
            .find(|t| {
                let tsegs: Vec<&str> = t.split('/').collect();
                tsegs.len() == segs.len()
                    && tsegs.iter().zip(&segs).all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .cloned()
    }

    /// Checks one answer; the error says where it does not fit.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let op = self.template(path).and_then(|t| self.0["paths"][t.as_str()].get(method.to_lowercase()).cloned());
        let Some(op) = op else {
            // A path or method the API does not have: a JSON 404 or 405.
            if status == 404 || status == 405 {
                return self.validate(&serde_json::json!({"$ref": "#/components/schemas/ErrorBody"}), body, "$");
            }
            return Err(format!("{method} {path} is not in the document, yet answered {status}"));
        };
        let schema = op["responses"][status.to_string()]["content"]["application/json"]["schema"].clone();
        if schema.is_null() {
            return Err(format!("{method} {path}: status {status} is not documented"));
        }
        self.validate(&schema, body, "$").map_err(|e| format!("{method} {path} {status}: {e}"))
    }

    fn resolve<'a>(&'a self, reference: &str) -> Result<&'a Value, String> {
        let name = reference.strip_prefix("#/components/schemas/").ok_or_else(|| format!("unsupported $ref {reference}"))?;
        let s = &self.0["components"]["schemas"][name];
        if s.is_null() {
            return Err(format!("$ref {reference} names no schema"));
        }
        Ok(s)
    }

    /// Whether `v` fits `schema` (the subset of JSON Schema the generator
    /// writes: $ref, allOf/anyOf/oneOf, enum, type, format date-time,
    /// properties, required, additionalProperties, items).
    pub fn validate(&self, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
        if let Some(r) = schema["$ref"].as_str() {
            return self.validate(self.resolve(r)?, v, at);
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.validate(s, v, at)?;
            }
        }
        if let Some(any) = schema["anyOf"].as_array() {
            if !any.iter().any(|s| self.validate(s, v, at).is_ok()) {
                return Err(format!("{at}: {v} fits none of anyOf"));
            }
        }
        if let Some(one) = schema["oneOf"].as_array() {
            let n = one.iter().filter(|s| self.validate(s, v, at).is_ok()).count();
            if n != 1 {
                return Err(format!("{at}: {v} fits {n} of oneOf, not exactly one"));
            }
        }
        if let Some(values) = schema["enum"].as_array() {
            if !values.contains(v) {
                return Err(format!("{at}: {v} is not one of {values:?}"));
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_fits(t, v)) {
            return Err(format!("{at}: {v} is not of type {types:?}"));
        }
        if let (Some("date-time"), Some(s)) = (schema["format"].as_str(), v.as_str()) {
            chrono::DateTime::parse_from_rfc3339(s).map_err(|e| format!("{at}: `{s}` is not a date-time: {e}"))?;
        }
        if let Some(obj) = v.as_object() {
            for key in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !obj.contains_key(key) {
                    return Err(format!("{at}: required `{key}` is missing"));
                }
            }
            let props = schema["properties"].as_object();
            for (key, value) in obj {
                let here = format!("{at}.{key}");
                match (props.and_then(|p| p.get(key)), &schema["additionalProperties"]) {
                    (Some(s), _) => self.validate(s, value, &here)?,
                    (None, Value::Bool(false)) => return Err(format!("{here}: not allowed")),
                    (None, Value::Null) if props.is_some() => return Err(format!("{here}: not in the document")),
                    (None, extra @ Value::Object(_)) => self.validate(extra, value, &here)?,
                    _ => {}
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
            for (i, item) in arr.iter().enumerate() {
                self.validate(items, item, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }
}

fn type_fits(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}
