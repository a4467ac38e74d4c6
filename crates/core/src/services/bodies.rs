//! Article bodies are rendered and sanitised here, before any write
//! transaction opens: on the blocking pool (never on the threads that serve
//! requests), at most `BROADSHEET_RENDER_CONCURRENCY` at once, each held to
//! `BROADSHEET_BODY_MAX_BYTES` and `BROADSHEET_BODY_MAX_DEPTH` (422
//! `validation_failed` beyond them). A body that cannot get a turn within
//! `BROADSHEET_RENDER_WAIT_MS` is answered 503 `overloaded`.

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;

use crate::{
    domain::body::{self, BodyFormat, BodyLimits, Rendered},
    error::AppError,
};

/// The bounded rendering gate, one per instance (in `AppState`).
pub struct BodyRenderer {
    permits: Arc<Semaphore>,
    wait: Duration,
    limits: BodyLimits,
}

impl BodyRenderer {
    /// At most `concurrency` renders at once (at least 1), each waiting at
    /// most `wait` for its turn, each body held to `limits`.
    pub fn new(concurrency: u32, wait: Duration, limits: BodyLimits) -> Self {
        BodyRenderer {
            permits: Arc::new(Semaphore::new(concurrency.max(1) as usize)),
            wait,
            limits,
        }
    }

    /// The limits bodies are held to.
    pub fn limits(&self) -> BodyLimits {
        self.limits
    }

    /// Render `source` (the field `field`) once a turn is free; 422 on
    /// `field` when it is too large, too deep or holds a character XML
    /// forbids. The turn is held by the blocking task itself, so a caller
    /// that goes away cannot free it while the render still runs.
    pub async fn render(
        &self,
        field: &'static str,
        source: String,
        format: BodyFormat,
    ) -> Result<Rendered, AppError> {
        // Too large is known without a turn.
        if source.len() > self.limits.max_bytes {
            return Err(AppError::validation(
                field,
                format!("must be at most {} bytes", self.limits.max_bytes),
            ));
        }
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Overloaded)?
            .map_err(|_| AppError::Overloaded)?;
        let limits = self.limits;
        tokio::task::spawn_blocking(move || {
            let _turn = permit;
            body::render_checked(&source, format, limits)
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|message| AppError::validation(field, message))
    }
}
