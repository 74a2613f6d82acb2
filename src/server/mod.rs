//! The embedded auth server (docs/design.md, "The auth server"): axum routes
//! over shared state.
//!
//! `app(state)` builds the router so tests and the lab can run it
//! in-process; `AuthServer::start` binds it to 127.0.0.1 on a free port.

pub mod error;
pub mod revocation;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::LabClock;
use crate::network::{LegInfo, Network};
use crate::protocol::{Exchange, Lane, Reason, RevokeCause, Route};
use crate::settings::RunSettings;
use crate::timeline::{EventKind, Recorder};
pub use error::{ApiError, TokenFault};
use revocation::{RefreshDecision, RevocationStore};
use tokens::{Claims, TokenAuthority};

/// Largest request body the API reads; a login needs far less.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Request headers the lab's clients add so the server's events can name
/// the lane and attempt they belong to. Other clients simply omit them.
pub const LANE_HEADER: &str = "x-lab-lane";
pub const ATTEMPT_HEADER: &str = "x-lab-attempt";
/// What the exchange is for (`request`, `refresh`, `retry`, `login`): the
/// network tray shows it.
pub const EXCHANGE_HEADER: &str = "x-lab-exchange";

/// Everything one server shares between its handlers.
pub struct AuthState {
    pub authority: TokenAuthority,
    pub revocations: RevocationStore,
    pub clock: LabClock,
    pub network: Arc<Network>,
    pub recorder: Recorder,
    pub access_ttl_s: u64,
    pub refresh_window_s: u64,
}

impl AuthState {
    /// A run's own server, configured by its settings, with a fresh key and
    /// clock, whose network schedules the run's legs.
    pub fn for_run(settings: &RunSettings, recorder: Recorder) -> Arc<Self> {
        let clock = LabClock::with_rate(settings.speed);
        Self::build(
            settings,
            recorder,
            Network::for_run(settings, clock.clone()),
            clock,
        )
    }

    /// The long-lived server of the lab's own port: latency only, no legs.
    pub fn long_lived(settings: &RunSettings, recorder: Recorder) -> Arc<Self> {
        let clock = LabClock::with_rate(settings.speed);
        Self::build(
            settings,
            recorder,
            Network::passthrough(settings, clock.clone()),
            clock,
        )
    }

    fn build(
        settings: &RunSettings,
        recorder: Recorder,
        network: Network,
        clock: LabClock,
    ) -> Arc<Self> {
        Arc::new(AuthState {
            authority: TokenAuthority::new(),
            revocations: RevocationStore::new(settings.policy, settings.grace_s),
            clock,
            network: Arc::new(network),
            recorder,
            access_ttl_s: settings.access_ttl_s,
            refresh_window_s: settings.refresh_window_s,
        })
    }

    /// Signs a token for `sub` in `fam` at lab time, records and registers it.
    fn issue(&self, sub: &str, fam: &str, attempt: Option<u64>) -> (String, Claims) {
        let (token, claims) = self
            .authority
            .sign(sub, fam, self.clock.now_s(), self.access_ttl_s);
        let refresh_until = claims.exp + self.refresh_window_s;
        let born_dead =
            self.revocations
                .register(&claims.jti, fam, refresh_until * 1000, self.clock.now_ms());
        self.recorder.record(
            Lane::Server,
            EventKind::Issued {
                attempt,
                jti: claims.jti.clone(),
                fam: claims.fam.clone(),
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
                    jti: claims.jti.clone(),
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

/// The API routes alone, for embedding in a larger router. Every request
/// crosses `state`'s network on its way in and out.
pub fn routes(state: Arc<AuthState>) -> Router<Arc<AuthState>> {
    Router::new()
        .route(Route::Public.path(), get(public))
        .route(Route::Secret.path(), get(secret))
        .route(Route::Login.path(), post(login))
        .route(Route::Refresh.path(), post(refresh))
        .route_layer(middleware::from_fn_with_state(state, travel))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The lab's network around a handler: the request leg before it runs, the
/// response leg after. Callers that are not a run's request lanes only wait
/// out their latency (none at all on the long-lived API).
async fn travel(State(state): State<Arc<AuthState>>, request: Request, next: Next) -> Response {
    let network = &state.network;
    // The long-lived API without latency: nothing to do on the hot path.
    if network.is_instant() {
        return next.run(request).await;
    }
    let Some(route) = Route::from_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let tag = LabTag::from_headers(request.headers());
    if !network.schedules(tag.lane) {
        let delay = network.delay(route, tag.lane_text.as_deref());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        return next.run(request).await;
    }
    let jti = presented_jti(request.headers());
    network
        .to_server(tag.leg(route, jti.clone(), None, None))
        .await;
    let response = next.run(request).await;
    let reason = response.extensions().get::<Reason>().copied();
    let status = Some(response.status().as_u16());
    network.to_client(tag.leg(route, jti, status, reason)).await;
    response
}

/// The auth server on its own, with JSON 404 and 405 for everything else.
pub fn app(state: Arc<AuthState>) -> Router {
    routes(state.clone())
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

/// The lane, attempt and exchange a lab client put on its request, if any.
struct LabTag {
    lane: Option<Lane>,
    /// The header as sent: jitter is keyed on it even for foreign lanes.
    lane_text: Option<String>,
    attempt: Option<u64>,
    exchange: Option<Exchange>,
}

impl LabTag {
    /// What the network needs to know about one leg of this request.
    fn leg(
        &self,
        route: Route,
        jti: Option<String>,
        status: Option<u16>,
        reason: Option<Reason>,
    ) -> LegInfo {
        let exchange = self.exchange.unwrap_or(match route {
            Route::Refresh => Exchange::Refresh,
            Route::Login => Exchange::Login,
            Route::Public | Route::Secret => Exchange::Request,
        });
        LegInfo {
            lane: self.lane,
            exchange,
            route,
            attempt: self.attempt,
            jti,
            status,
            reason,
        }
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
        let lane_text = text(LANE_HEADER);
        LabTag {
            lane: lane_text.and_then(|lane| lane.parse().ok()),
            lane_text: lane_text.map(str::to_owned),
            attempt: text(ATTEMPT_HEADER).and_then(|v| v.parse().ok()),
            exchange: text(EXCHANGE_HEADER).and_then(|v| v.parse().ok()),
        }
    }
}

/// The bearer token of a request, or why there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, TokenFault> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(TokenFault::Missing)?;
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

async fn public() -> Json<Value> {
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
    let tag = LabTag::from_headers(&headers);
    match authorize(&state, &headers) {
        Ok(claims) => {
            state.recorder.record(
                Lane::Server,
                EventKind::Accepted {
                    attempt: tag.attempt,
                    route: Route::Secret,
                    jti: Some(claims.jti.clone()),
                },
            );
            Ok(Json(SecretData {
                data: "the secret",
                sub: claims.sub,
                jti: claims.jti,
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

/// Signature, revocation, then expiry against the lab clock with leeway 0.
fn authorize(state: &AuthState, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let invalid = |fault: TokenFault| ApiError::InvalidToken {
        reason: fault.reason(),
        description: fault.to_string(),
    };
    let claims = state
        .authority
        .verify(bearer(headers).map_err(invalid)?)
        .map_err(invalid)?;
    if let Some(reason) = state.revocations.access_refusal(&claims.jti, &claims.fam) {
        return Err(ApiError::InvalidToken {
            reason,
            description: format!("token {} was revoked", claims.jti),
        });
    }
    let now_ms = state.clock.now_ms();
    if now_ms >= claims.exp * 1000 {
        return Err(ApiError::InvalidToken {
            reason: Reason::Expired,
            description: format!(
                "token {} expired {:.1} s ago (lab clock)",
                claims.jti,
                (now_ms - claims.exp * 1000) as f64 / 1000.0
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

/// The body's bytes, or why they could not be read (413 past [`BODY_LIMIT`]).
pub fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::BadJson(rejection.body_text())
        }
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
    let family = state.authority.new_family();
    let (token, _) = state.issue(request.login.trim(), &family, tag.attempt);
    Ok(state.token_response(token))
}

async fn refresh(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let tag = LabTag::from_headers(&headers);
    let outcome = rotate(&state, &headers, &tag).await;
    if let Err(ApiError::InvalidGrant { reason, .. }) = &outcome {
        tag.record_refusal(&state, &headers, Route::Refresh, *reason);
    }
    outcome.map(|token| state.token_response(token))
}

/// The refresh decision: window, then the store's atomic check-and-revoke.
async fn rotate(state: &AuthState, headers: &HeaderMap, tag: &LabTag) -> Result<String, ApiError> {
    let attempt = tag.attempt;
    let grant = |fault: TokenFault| ApiError::InvalidGrant {
        reason: fault.reason(),
        description: fault.to_string(),
    };
    let claims = state
        .authority
        .verify(bearer(headers).map_err(grant)?)
        .map_err(grant)?;
    let now_ms = state.clock.now_ms();
    let refresh_until_ms = (claims.exp + state.refresh_window_s) * 1000;
    if now_ms >= refresh_until_ms {
        return Err(ApiError::InvalidGrant {
            reason: Reason::WindowOver,
            description: format!(
                "the refresh window of token {} ended {:.1} s ago",
                claims.jti,
                (now_ms - refresh_until_ms) as f64 / 1000.0
            ),
        });
    }
    match state
        .revocations
        .decide_refresh(&claims.jti, &claims.fam, now_ms, || {
            // Only the non-atomic store waits here: its revoke is a leg.
            state
                .network
                .commit(tag.leg(Route::Refresh, Some(claims.jti.clone()), None, None))
        })
        .await
    {
        RefreshDecision::Allow { rotate } => {
            state.recorder.record(
                Lane::Server,
                EventKind::Accepted {
                    attempt,
                    route: Route::Refresh,
                    jti: Some(claims.jti.clone()),
                },
            );
            let (token, fresh) = state.issue(&claims.sub, &claims.fam, attempt);
            if rotate {
                state.recorder.record(
                    Lane::Server,
                    EventKind::Rotated {
                        attempt,
                        jti: claims.jti.clone(),
                        new_jti: fresh.jti.clone(),
                    },
                );
                state.recorder.record(
                    Lane::Server,
                    EventKind::Revoked {
                        attempt,
                        jti: claims.jti.clone(),
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
                        jti,
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
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start(state: Arc<AuthState>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = crate::doors::lock(app(state.clone()), addr);
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
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
