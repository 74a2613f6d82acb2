//! The embedded auth server (docs/design.md, "The auth server"): axum routes
//! over shared state.
//!
//! `app(state)` builds the router so tests and the lab can run it
//! in-process; `AuthServer::start` binds it to 127.0.0.1 on a free port.

pub mod error;
pub mod listen;
pub mod network;
pub mod revocation;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::clock::{LabClock, NumericDate};
use crate::protocol::{Lane, Reason, RevokeCause, Route};
use crate::settings::RunSettings;
use crate::timeline::{EventKind, Recorder};
pub use error::{ApiError, TokenFault};
pub use listen::Limits;
use network::Network;
use revocation::{RefreshDecision, RevocationStore};
use tokens::{Claims, FamilyId, TokenAuthority};

/// Largest request body the API reads; a login needs far less.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Request headers the lab's clients add so the server's events can name
/// the lane and attempt they belong to. Other clients simply omit them.
pub const LANE_HEADER: &str = "x-lab-lane";
pub const ATTEMPT_HEADER: &str = "x-lab-attempt";

/// Everything one server shares between its handlers.
pub struct AuthState {
    pub authority: TokenAuthority,
    pub revocations: RevocationStore,
    pub clock: LabClock,
    pub network: Network,
    pub recorder: Recorder,
    pub access_ttl_s: u64,
    pub refresh_window_s: u64,
    /// What the server grants its peers: timeouts, connections, store size.
    pub limits: Limits,
}

/// How often the revocation store forgets lapsed tokens when nothing else
/// makes it (registrations forget a few on their way).
const SWEEP_EVERY: Duration = Duration::from_millis(100);

impl AuthState {
    /// A server configured by a run's settings, with a fresh key and clock.
    pub fn for_run(settings: &RunSettings, recorder: Recorder) -> Arc<Self> {
        Self::build(
            settings,
            recorder,
            Limits::default(),
            LabClock::with_rate(settings.speed),
        )
    }

    /// A server with chosen limits and clock (tests shorten the limits and
    /// freeze the clock). Inside a tokio runtime it also starts the task
    /// that forgets lapsed tokens, which ends when the state is dropped.
    pub fn build(
        settings: &RunSettings,
        recorder: Recorder,
        limits: Limits,
        clock: LabClock,
    ) -> Arc<Self> {
        let state = Arc::new(AuthState {
            authority: TokenAuthority::new(),
            revocations: RevocationStore::new(
                settings.policy,
                settings.grace_s,
                limits.max_remembered,
            ),
            clock,
            network: Network::new(settings),
            recorder,
            access_ttl_s: settings.access_ttl_s,
            refresh_window_s: settings.refresh_window_s,
            limits,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep_lapsed(Arc::downgrade(&state)));
        }
        state
    }

    /// When a token issued with `exp` lapses: its refresh window is over.
    fn lapses_at(&self, exp: NumericDate) -> NumericDate {
        exp.plus_ms(self.refresh_window_s * 1000)
    }

    /// Signs a token for `sub` in `fam` at lab time, records and registers it.
    fn issue(&self, sub: &str, fam: FamilyId, attempt: Option<u64>) -> (String, Claims) {
        let now = self.clock.now();
        let (token, claims) = self.authority.sign(sub, fam, now, self.access_ttl_s * 1000);
        let refresh_until = self.lapses_at(claims.exp);
        let born_dead =
            self.revocations
                .register(claims.jti, fam, refresh_until.as_ms(), now.as_ms());
        self.recorder.record(
            Lane::Server,
            EventKind::Issued {
                attempt,
                jti: claims.jti.to_string(),
                fam: claims.fam.to_string(),
                sub: claims.sub.clone(),
                token: token.clone(),
                iat: claims.iat,
                exp: claims.exp,
                refresh_until,
            },
        );
        if born_dead {
            self.recorder.record(
                Lane::Server,
                EventKind::Revoked {
                    attempt,
                    jti: claims.jti.to_string(),
                    cause: RevokeCause::Family,
                },
            );
        }
        (token, claims)
    }

    fn token_response(&self, token: String) -> Json<Value> {
        Json(json!({
            "token": token,
            "expires_in": self.access_ttl_s,
            "refresh_window": self.refresh_window_s,
        }))
    }
}

/// Forgets lapsed tokens every [`SWEEP_EVERY`], a batch at a time with a
/// yield between batches, so no request waits behind a long pass; ends
/// when the server's state is gone.
async fn sweep_lapsed(state: Weak<AuthState>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            let Some(state) = state.upgrade() else {
                return;
            };
            let swept = state.revocations.sweep(state.clock.now_ms());
            if swept.shrunk {
                release_freed_memory();
            }
            if !swept.more {
                break;
            }
            drop(state);
            tokio::task::yield_now().await;
        }
    }
}

/// Hands freed memory back to the system. glibc keeps the pages of freed
/// small blocks for reuse; after a flood's tokens are forgotten that is tens
/// of megabytes nobody will use again (BENCHMARKS.md §3). Call it after
/// freeing much, not on a hot path: it walks every arena.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it takes
    // the allocator's own locks and touches no memory of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The API routes alone, for embedding in a larger router.
pub fn routes() -> Router<Arc<AuthState>> {
    Router::new()
        .route(Route::Public.path(), get(public))
        .route(Route::Secret.path(), get(secret))
        .route(Route::Login.path(), no_store(post(login)))
        .route(Route::Refresh.path(), no_store(post(refresh)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Token answers must not be cached (RFC 6749 §5.1): `no-store`, and
/// `Pragma` for HTTP/1.0 caches.
fn no_store(route: MethodRouter<Arc<AuthState>>) -> MethodRouter<Arc<AuthState>> {
    let layers = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ));
    route.layer::<_, std::convert::Infallible>(layers)
}

/// The auth server on its own, with JSON 404 and 405 for everything else.
pub fn app(state: Arc<AuthState>) -> Router {
    routes()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound {
        path: uri.path().to_owned(),
    }
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// The lane and attempt a lab client put on its request, if any.
struct LabTag {
    lane: Option<String>,
    attempt: Option<u64>,
}

impl LabTag {
    /// Reads the tag and waits out the simulated network for `route`:
    /// the first step of every handler.
    async fn arrive(state: &AuthState, headers: &HeaderMap, route: Route) -> Self {
        let tag = Self::from_headers(headers);
        state.network.traverse(route, tag.lane.as_deref()).await;
        tag
    }

    /// Records a refusal of this request on the server lane.
    fn record_refusal(&self, state: &AuthState, headers: &HeaderMap, route: Route, reason: Reason) {
        state.recorder.record(
            Lane::Server,
            EventKind::Rejected {
                attempt: self.attempt,
                route,
                jti: presented_jti(headers),
                reason,
            },
        );
    }

    fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        LabTag {
            lane: text(LANE_HEADER).map(str::to_owned),
            attempt: text(ATTEMPT_HEADER).and_then(|v| v.parse().ok()),
        }
    }
}

/// The bearer token of a request, or why there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, TokenFault> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(TokenFault::Missing)?;
    if values.next().is_some() {
        return Err(TokenFault::Repeated);
    }
    let text = value.to_str().map_err(|_| {
        TokenFault::Malformed("the Authorization header is not visible ASCII".into())
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(TokenFault::Malformed(
            "the Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}

async fn public(State(state): State<Arc<AuthState>>, headers: HeaderMap) -> Json<Value> {
    LabTag::arrive(&state, &headers, Route::Public).await;
    Json(json!({"data": "public news", "auth": "none needed"}))
}

/// What `/api/secret` answers; a typed body costs less than a `json!` tree.
#[derive(serde::Serialize)]
struct SecretData {
    data: &'static str,
    sub: String,
    jti: String,
}

async fn secret(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
) -> Result<Json<SecretData>, ApiError> {
    let tag = LabTag::arrive(&state, &headers, Route::Secret).await;
    match authorize(&state, &headers) {
        Ok(claims) => {
            state.recorder.record(
                Lane::Server,
                EventKind::Accepted {
                    attempt: tag.attempt,
                    route: Route::Secret,
                    jti: Some(claims.jti.to_string()),
                },
            );
            Ok(Json(SecretData {
                data: "the secret",
                sub: claims.sub,
                jti: claims.jti.to_string(),
            }))
        }
        Err(err) => {
            if let ApiError::InvalidToken { reason, .. } = &err {
                tag.record_refusal(&state, &headers, Route::Secret, *reason);
            }
            Err(err)
        }
    }
}

/// The `jti` of whatever token was presented, even a bad one, for the
/// timeline of a refusal. Read only on the refusal path: it costs a decode.
fn presented_jti(headers: &HeaderMap) -> Option<String> {
    bearer(headers).ok().and_then(tokens::peek_jti)
}

/// Signature, revocation, then expiry against the lab clock with leeway 0:
/// a token is refused from the millisecond of its `exp` on.
fn authorize(state: &AuthState, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let claims = state
        .authority
        .verify(bearer(headers).map_err(TokenFault::refuse_access)?)
        .map_err(TokenFault::refuse_access)?;
    if let Some(reason) = state.revocations.access_refusal(claims.jti, claims.fam) {
        return Err(ApiError::InvalidToken {
            reason,
            description: format!("token {} was revoked", claims.jti),
        });
    }
    let (now_ms, exp_ms) = (state.clock.now_ms(), claims.exp.as_ms());
    if now_ms >= exp_ms {
        return Err(ApiError::InvalidToken {
            reason: Reason::Expired,
            description: format!(
                "token {} expired {:.3} s ago (lab clock)",
                claims.jti,
                (now_ms - exp_ms) as f64 / 1000.0
            ),
        });
    }
    Ok(claims)
}

#[derive(Deserialize)]
struct LoginRequest {
    login: String,
    password: String,
}

/// Reads a JSON body, turning every way it can be wrong into a clear error.
/// `what` names the body in the message ("invalid JSON body: …").
pub fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, ApiError> {
    parse_json(&read_body(body)?, what)
}

/// The body's bytes, or why they could not be read (413 past [`BODY_LIMIT`],
/// 408 past the body-read deadline).
pub fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge { limit: BODY_LIMIT };
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
        while let Some(error) = cause {
            if let Some(listen::BodyTimedOut(limit)) = error.downcast_ref() {
                return ApiError::BodyTimeout { limit: *limit };
            }
            cause = error.source();
        }
        ApiError::BadJson("the request body could not be read to its end".into())
    })
}

/// Parses JSON bytes; `what` names them in the message.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| ApiError::BadJson(format!("invalid {what}: {err}")))
}

async fn login(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let tag = LabTag::from_headers(&headers);
    let request: LoginRequest = json_body(body, "JSON body")?;
    if request.login.trim().is_empty() {
        return Err(ApiError::BadJson("login must not be empty".into()));
    }
    // Any password works: it is a lab. It still has to be present.
    let _ = request.password;
    state
        .network
        .traverse(Route::Login, tag.lane.as_deref())
        .await;
    let family = state.authority.new_family();
    state.revocations.room(family, state.clock.now_ms())?;
    let (token, _) = state.issue(request.login.trim(), family, tag.attempt);
    Ok(state.token_response(token))
}

async fn refresh(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let tag = LabTag::arrive(&state, &headers, Route::Refresh).await;
    let outcome = rotate(&state, &headers, tag.attempt).await;
    if let Err(ApiError::InvalidGrant { reason, .. }) = &outcome {
        tag.record_refusal(&state, &headers, Route::Refresh, *reason);
    }
    outcome.map(|token| state.token_response(token))
}

/// The refresh decision: window, then the store's atomic check-and-revoke.
async fn rotate(
    state: &AuthState,
    headers: &HeaderMap,
    attempt: Option<u64>,
) -> Result<String, ApiError> {
    let claims = state
        .authority
        .verify(bearer(headers).map_err(TokenFault::refuse_grant)?)
        .map_err(TokenFault::refuse_grant)?;
    let now_ms = state.clock.now_ms();
    let refresh_until_ms = state.lapses_at(claims.exp).as_ms();
    if now_ms >= refresh_until_ms {
        return Err(ApiError::InvalidGrant {
            reason: Reason::WindowOver,
            description: format!(
                "the refresh window of token {} ended {:.3} s ago",
                claims.jti,
                (now_ms - refresh_until_ms) as f64 / 1000.0
            ),
        });
    }
    match state
        .revocations
        .decide_refresh(claims.jti, claims.fam, now_ms, refresh_until_ms)
        .await
    {
        RefreshDecision::Allow { rotate } => {
            state.recorder.record(
                Lane::Server,
                EventKind::Accepted {
                    attempt,
                    route: Route::Refresh,
                    jti: Some(claims.jti.to_string()),
                },
            );
            let (token, fresh) = state.issue(&claims.sub, claims.fam, attempt);
            if rotate {
                state.recorder.record(
                    Lane::Server,
                    EventKind::Rotated {
                        attempt,
                        jti: claims.jti.to_string(),
                        new_jti: fresh.jti.to_string(),
                    },
                );
                state.recorder.record(
                    Lane::Server,
                    EventKind::Revoked {
                        attempt,
                        jti: claims.jti.to_string(),
                        cause: RevokeCause::Rotation,
                    },
                );
            }
            Ok(token)
        }
        RefreshDecision::Refuse {
            reason,
            family_revoked,
        } => {
            for jti in family_revoked {
                state.recorder.record(
                    Lane::Server,
                    EventKind::Revoked {
                        attempt,
                        jti: jti.to_string(),
                        cause: RevokeCause::Family,
                    },
                );
            }
            let description = match reason {
                Reason::Reused => format!("token {} was already used for a refresh", claims.jti),
                _ => format!("token {} belongs to a revoked family", claims.jti),
            };
            Err(ApiError::InvalidGrant {
                reason,
                description,
            })
        }
        RefreshDecision::Full(full) => Err(full.into()),
    }
}

/// A server running on 127.0.0.1 in the background; stops when dropped
/// or when `shutdown` is called.
pub struct AuthServer {
    pub addr: SocketAddr,
    pub state: Arc<AuthState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl AuthServer {
    /// Binds 127.0.0.1 on a free port and starts serving, with the
    /// state's [`Limits`].
    pub async fn start(state: Arc<AuthState>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = app(state.clone());
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(listen::serve(
            listener,
            router,
            state.limits.clone(),
            shutdown,
        ));
        Ok(AuthServer {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
