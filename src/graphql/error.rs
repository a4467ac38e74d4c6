//! `AppError` → GraphQL error: the REST detail as `message`, the GraphQL code
//! as `extensions.code`, invalid fields (camelCase) as `extensions.fields`.

use async_graphql::{ErrorExtensions, Value};

use crate::error::AppError;

/// The GraphQL side of [`AppError`] (which lives in the core crate and knows
/// no GraphQL): `err.to_graphql()`.
pub trait ToGraphql {
    fn to_graphql(&self) -> async_graphql::Error;
}

impl ToGraphql for AppError {
    fn to_graphql(&self) -> async_graphql::Error {
        self.log_if_internal();
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.graphql_code());
            // What REST sends as `Retry-After`.
            if let AppError::RateLimited { retry_after_secs } = self {
                ext.set("retryAfter", *retry_after_secs);
            }
            if let AppError::Validation(fields) = self {
                let list: Vec<Value> = fields
                    .iter()
                    .map(|f| {
                        let mut obj = async_graphql::indexmap::IndexMap::new();
                        obj.insert(
                            async_graphql::Name::new("field"),
                            Value::from(camel_case(&f.field)),
                        );
                        obj.insert(
                            async_graphql::Name::new("message"),
                            Value::from(f.message.clone()),
                        );
                        Value::Object(obj)
                    })
                    .collect();
                ext.set("fields", Value::List(list));
            }
        })
    }
}

/// Resolver helper: `service(...).await.gql()?`.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.to_graphql())
    }
}

/// `per_page` → `perPage`: GraphQL names fields in camelCase.
fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
