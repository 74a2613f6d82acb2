//! The embedded auth server (docs/design.md, "The auth server"): axum routes
//! over shared state.
//!
//! `app(state)` builds the router so tests and the lab can run it
//! in-process; `AuthServer::start` binds it to 127.0.0.1 on a free port.

pub mod doors;
pub mod error;
pub mod grants;
pub mod listen;
pub mod revocation;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::clock::{LabClock, NumericDate};
use crate::network::{Arrival, LegInfo, LegJti, Network};
use crate::protocol::{Exchange, Lane, Reason, RevokeCause, Route, TokenKind};
use crate::settings::{Mode, RunSettings};
use crate::timeline::{EventKind, Recorder};
pub use error::{ApiError, TokenFault};
use grants::{Grant, Grants};
pub use listen::Limits;
use revocation::{RefreshDecision, Refusal, RevocationStore};
use tokens::{Claims, FamilyId, TokenAuthority, TokenId};

/// Largest request body the API reads; a login needs far less.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The lab's request headers and the refresh's form type are words the
/// clients share with the server.
pub use crate::protocol::{ATTEMPT_HEADER, EXCHANGE_HEADER, FORM, LANE_HEADER};

/// Everything one server shares between its handlers.
pub struct AuthState {
    pub authority: TokenAuthority,
    pub revocations: RevocationStore,
    pub clock: LabClock,
    pub network: Arc<Network>,
    pub recorder: Recorder,
    pub access_ttl_s: u64,
    pub refresh_window_s: u64,
    /// What the refresh credential is (article: the access token; oauth: an
    /// opaque refresh token).
    pub mode: Mode,
    /// Refresh credentials to find again (OAuth tokens; Supabase's parents).
    pub grants: Grants,
    /// What the server grants its peers: timeouts, connections, store size.
    pub limits: Limits,
}

/// How often the revocation store forgets lapsed tokens when nothing else
/// makes it (registrations forget a few on their way).
const SWEEP_EVERY: Duration = Duration::from_millis(100);

impl AuthState {
    /// A run's own server, configured by its settings, with a fresh key and
    /// clock, whose network schedules the run's legs.
    pub fn for_run(settings: &RunSettings, recorder: Recorder) -> Arc<Self> {
        let clock = LabClock::with_rate(settings.speed);
        Self::build(
            settings,
            recorder,
            Limits::default(),
            Network::for_run(settings, clock.clone()),
            clock,
        )
    }

    /// A run's server with chosen limits and clock (tests shorten the limits
    /// and freeze the clock).
    pub fn for_run_with(
        settings: &RunSettings,
        recorder: Recorder,
        limits: Limits,
        clock: LabClock,
    ) -> Arc<Self> {
        let network = Network::for_run(settings, clock.clone());
        Self::build(settings, recorder, limits, network, clock)
    }

    /// The long-lived server of the lab's own port: latency only, no legs.
    pub fn long_lived(settings: &RunSettings, recorder: Recorder) -> Arc<Self> {
        Self::long_lived_with(settings, recorder, Limits::default())
    }

    /// [`AuthState::long_lived`] with chosen limits (tests shorten them).
    pub fn long_lived_with(
        settings: &RunSettings,
        recorder: Recorder,
        limits: Limits,
    ) -> Arc<Self> {
        let clock = LabClock::with_rate(settings.speed);
        Self::build(
            settings,
            recorder,
            limits,
            Network::passthrough(settings, clock.clone()),
            clock,
        )
    }

    /// A server with chosen limits, network and clock. Inside a tokio
    /// runtime it also starts the task that forgets lapsed tokens, which
    /// ends when the state is dropped.
    pub fn build(
        settings: &RunSettings,
        recorder: Recorder,
        limits: Limits,
        network: Network,
        clock: LabClock,
    ) -> Arc<Self> {
        let state = Arc::new(AuthState {
            authority: TokenAuthority::new(),
            revocations: RevocationStore::new(
                crate::settings::presets::rule(settings),
                limits.max_remembered,
            ),
            clock,
            network: Arc::new(network),
            recorder,
            access_ttl_s: settings.access_ttl_s,
            refresh_window_s: settings.refresh_window_s,
            mode: settings.mode,
            grants: Grants::default(),
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
                token_kind: TokenKind::Access,
            },
        );
        self.report_born_dead(born_dead, attempt, claims.jti.to_string());
        // In article mode the access token is the refresh credential:
        // Supabase's rule may have to hand it out again.
        if self.mode == Mode::Article && self.revocations.rule().parent_gets_active {
            self.grants.insert(
                token.clone(),
                Grant {
                    id: claims.jti,
                    fam,
                    sub: sub.to_owned(),
                    lapses_at_ms: refresh_until.as_ms(),
                },
            );
        }
        (token, claims)
    }

    /// Issues an opaque OAuth refresh token for `sub` in `fam`: `r4.` and
    /// 128 random bits. It lapses with the refresh window of the access
    /// token issued beside it.
    fn issue_refresh(&self, sub: &str, fam: FamilyId, attempt: Option<u64>) -> (String, TokenId) {
        let id = self.authority.new_refresh_id();
        let key = TokenId(id.0);
        let mut secret = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let value = format!("{id}.{hex}");
        let now = self.clock.now();
        let lapses = self.lapses_at(now.plus_ms(self.access_ttl_s * 1000));
        let born_dead = self
            .revocations
            .register(key, fam, lapses.as_ms(), now.as_ms());
        self.grants.insert(
            value.clone(),
            Grant {
                id: key,
                fam,
                sub: sub.to_owned(),
                lapses_at_ms: lapses.as_ms(),
            },
        );
        self.recorder.record(
            Lane::Server,
            EventKind::Issued {
                attempt,
                jti: id.to_string(),
                fam: fam.to_string(),
                sub: sub.to_owned(),
                token: value.clone(),
                iat: now,
                exp: lapses,
                refresh_until: lapses,
                token_kind: TokenKind::Refresh,
            },
        );
        self.report_born_dead(born_dead, attempt, id.to_string());
        (value, key)
    }

    /// A token issued into a family that reuse detection already killed.
    fn report_born_dead(&self, born_dead: bool, attempt: Option<u64>, jti: String) {
        if born_dead {
            self.recorder.record(
                Lane::Server,
                EventKind::Revoked {
                    attempt,
                    jti,
                    cause: RevokeCause::Family,
                },
            );
        }
    }

    /// The name a refresh credential has on the timeline: `t1` (article)
    /// or `r2` (an OAuth refresh token).
    fn credential_name(&self, id: TokenId) -> String {
        match self.mode {
            Mode::Article => id.to_string(),
            Mode::Oauth => tokens::RefreshId(id.0).to_string(),
        }
    }

    /// The answer to a login or refresh: the article's `{token, ...}`, or
    /// RFC 6749 §5.1's access and refresh tokens.
    fn token_response(&self, token: String, refresh: Option<String>) -> Json<Value> {
        match refresh {
            None => Json(json!({
                "token": token,
                "expires_in": self.access_ttl_s,
                "refresh_window": self.refresh_window_s,
            })),
            Some(refresh) => Json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.access_ttl_s,
                "refresh_token": refresh,
            })),
        }
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
            state.grants.forget_lapsed(state.clock.now_ms());
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

/// The API routes alone, for embedding in a larger router. Every request
/// crosses `state`'s network on its way in and out.
///
/// Each layer costs every request of its routes a boxed service clone and a
/// boxed future, so the routes carry only the layers they need: the body
/// limit only where a body is read (login, an OAuth refresh's form), the
/// network only where it does something (an instant network's settings
/// cannot change, so the long-lived API of `serve` goes without).
pub fn routes(state: Arc<AuthState>) -> Router<Arc<AuthState>> {
    let router = Router::new()
        .route(Route::Public.path(), get(public))
        .route(Route::Secret.path(), get(secret))
        .route(
            Route::Login.path(),
            no_store(post(login)).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route(
            Route::Refresh.path(),
            no_store(post(refresh)).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        );
    if state.network.is_instant() {
        router
    } else {
        router.route_layer(middleware::from_fn_with_state(state, travel))
    }
}

/// The lab's network around a handler: the request leg before it runs, the
/// response leg after. Callers that are not a run's request lanes only wait
/// out their latency (none at all on the long-lived API).
async fn travel(State(state): State<Arc<AuthState>>, request: Request, next: Next) -> Response {
    let network = &state.network;
    let Some(route) = Route::from_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let tag = LabTag::from_headers(request.headers());
    if !network.schedules(tag.lane) {
        let lane_text = tag.lane_text.as_ref().and_then(|v| v.to_str().ok());
        let delay = network.delay(route, lane_text);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        return next.run(request).await;
    }
    let jti = presented(request.headers());
    let to_server = tag.leg(route, jti.clone(), None, None);
    network.count_refresh(&to_server);
    if network.to_server(to_server).await == Arrival::Abandoned {
        // Its tab was closed before it got there: the server never sees it.
        return lost_answer();
    }
    let response = next.run(request).await;
    let reason = response.extensions().get::<Reason>().copied();
    let status = Some(response.status().as_u16());
    match network.to_client(tag.leg(route, jti, status, reason)).await {
        Arrival::Delivered => response,
        Arrival::Lost | Arrival::Abandoned => lost_answer(),
    }
}

/// An answer the lab's network lost: the connection breaks before a byte
/// of the body arrives, so the client sees a network error, as it would
/// when a real response never came back.
pub(crate) fn lost_answer() -> Response {
    let broken = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("the lab's network lost this answer"))
    });
    let mut response = Response::new(axum::body::Body::from_stream(broken));
    // Never reused: the client must not read a half-answer as a whole one.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
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
pub(crate) struct LabTag {
    pub(crate) lane: Option<Lane>,
    /// The header as sent: jitter is keyed on it even for foreign lanes.
    lane_text: Option<HeaderValue>,
    pub(crate) attempt: Option<u64>,
    pub(crate) exchange: Option<Exchange>,
}

impl LabTag {
    /// What the network needs to know about one leg of this request.
    fn leg(
        &self,
        route: Route,
        jti: LegJti,
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

    /// Records a refusal of this request, which presented `jti`, on the
    /// server lane.
    fn record_refusal(&self, state: &AuthState, jti: Option<String>, route: Route, reason: Reason) {
        state.recorder.record(
            Lane::Server,
            EventKind::Rejected {
                attempt: self.attempt,
                route,
                jti,
                reason,
            },
        );
    }

    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let lane = headers.get(LANE_HEADER);
        LabTag {
            lane: lane
                .and_then(|v| v.to_str().ok())
                .and_then(|lane| lane.parse().ok()),
            // Kept as sent (a cheap clone, no copy): jitter is keyed on it.
            lane_text: lane.cloned(),
            attempt: text(ATTEMPT_HEADER).and_then(|v| v.parse().ok()),
            exchange: text(EXCHANGE_HEADER).and_then(|v| v.parse().ok()),
        }
    }
}

/// The bearer token of a request, or why there is none.
fn bearer(headers: &HeaderMap) -> Result<&str, TokenFault> {
    bearer_of(authorization(headers)?)
}

/// The request's one Authorization header: none, or more than one, is a
/// fault.
fn authorization(headers: &HeaderMap) -> Result<&HeaderValue, TokenFault> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(TokenFault::Missing)?;
    if values.next().is_some() {
        return Err(TokenFault::Repeated);
    }
    Ok(value)
}

/// The bearer token in one Authorization header's value.
fn bearer_of(value: &HeaderValue) -> Result<&str, TokenFault> {
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

/// What `/api/secret` answers; a typed body costs less than a `json!` tree
/// (`jti` is written as its text, `t12`).
#[derive(serde::Serialize)]
struct SecretData {
    data: &'static str,
    sub: String,
    jti: TokenId,
}

/// The request itself rather than a `HeaderMap` extractor, which would
/// clone every header of every request.
async fn secret(
    State(state): State<Arc<AuthState>>,
    request: Request,
) -> Result<Json<SecretData>, ApiError> {
    let headers = request.headers();
    let tag = LabTag::from_headers(headers);
    match authorize(&state, headers) {
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
                jti: claims.jti,
            }))
        }
        Err(err) => {
            if let ApiError::InvalidToken { reason, .. } = &err {
                tag.record_refusal(&state, presented_jti(headers), Route::Secret, *reason);
            }
            Err(err)
        }
    }
}

/// The `jti` of whatever token was presented, even a bad one, for the
/// timeline of a refusal. Read only on the refusal path: it costs a decode.
pub(crate) fn presented_jti(headers: &HeaderMap) -> Option<String> {
    jti_of_authorization(authorization(headers).ok()?)
}

/// The presented token for a leg, named only if the leg is shown: the
/// request's Authorization header when it has exactly one, as [`bearer`]
/// reads it.
fn presented(headers: &HeaderMap) -> LegJti {
    match authorization(headers) {
        Ok(value) => LegJti::Presented {
            header: value.clone(),
            name: jti_of_authorization,
        },
        Err(_) => LegJti::None,
    }
}

/// The `jti` of the token in one Authorization header (see [`LegJti`]).
fn jti_of_authorization(value: &HeaderValue) -> Option<String> {
    bearer_of(value).ok().and_then(tokens::peek_jti)
}

/// Signature, revocation, then expiry against the lab clock with leeway 0:
/// a token is refused from the millisecond of its `exp` on. The signature
/// check may come from the authority's cache of verified tokens; revocation
/// and expiry are checked on every request.
fn authorize(state: &AuthState, headers: &HeaderMap) -> Result<Claims, ApiError> {
    let token = bearer(headers).map_err(TokenFault::refuse_access)?;
    let claims = state.authority.verify_access(token).map_err(|fault| {
        // Looked up only on the refusal path: a refresh token sent as the
        // access token gets told so, not "malformed".
        if state.mode == Mode::Oauth && state.grants.find(token).is_some() {
            return ApiError::WrongTokenKind(
                "this is the refresh token: send the access token as Authorization: Bearer (the refresh token goes only to /api/refresh)".into(),
            );
        }
        fault.refuse_access()
    })?;
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

/// Longest login name, in bytes.
pub const MAX_LOGIN_BYTES: usize = 64;

/// Reads a JSON body, turning every way it can be wrong into a clear error.
/// `what` names the body in the message ("invalid JSON body: …").
pub fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, ApiError> {
    parse_json(&read_body(body)?, what)
}

/// Like [`json_body`], but an empty (or blank) body means `T::default()`:
/// for routes where every field is optional.
pub fn json_body_or_default<T: serde::de::DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, ApiError> {
    let bytes = read_body(body)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(&bytes, what)
    }
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
    let sub = request.login.trim();
    if sub.is_empty() {
        return Err(ApiError::BadJson("login must not be empty".into()));
    }
    // The name rides on every event and token of the login: bounded, so a
    // store of events is bounded in bytes, not only in count.
    if sub.len() > MAX_LOGIN_BYTES {
        return Err(ApiError::BadJson(format!(
            "login must be at most {MAX_LOGIN_BYTES} bytes (this one has {})",
            sub.len()
        )));
    }
    // Any password works: it is a lab. It still has to be present.
    let _ = request.password;
    let family = state.authority.new_family();
    state.revocations.room(family, state.clock.now_ms())?;
    let (token, claims) = state.issue(sub, family, tag.attempt);
    let (refresh, credential) = match state.mode {
        Mode::Article => (None, claims.jti),
        Mode::Oauth => {
            let (value, id) = state.issue_refresh(sub, family, tag.attempt);
            (Some(value), id)
        }
    };
    state.revocations.issued_credential(family, credential);
    Ok(state.token_response(token, refresh))
}

/// The credential a refresh presents, as the server found it.
struct Credential {
    id: TokenId,
    fam: FamilyId,
    sub: String,
    lapses_at_ms: u64,
    /// An OAuth refresh token's value (handed back when nothing rotates).
    value: Option<String>,
}

async fn refresh(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let tag = LabTag::from_headers(&headers);
    let credential = match state.mode {
        Mode::Article => article_credential(&state, &headers),
        Mode::Oauth => oauth_credential(&state, &headers, body),
    };
    let presented = credential
        .as_ref()
        .ok()
        .map(|c| state.credential_name(c.id));
    let outcome = match credential {
        Ok(credential) => rotate(&state, &tag, credential).await,
        Err(err) => Err(err),
    };
    if let Err(ApiError::InvalidGrant { reason, .. }) = &outcome {
        let jti = presented.or_else(|| presented_jti(&headers));
        tag.record_refusal(&state, jti, Route::Refresh, *reason);
    }
    outcome
}

/// The article's refresh credential: the (expired) access token as bearer.
fn article_credential(state: &AuthState, headers: &HeaderMap) -> Result<Credential, ApiError> {
    if content_type(headers) == Some(FORM) {
        return Err(ApiError::InvalidRequest(
            "this run is in article mode: /api/refresh takes the expired access token as Authorization: Bearer, not a form (a run in oauth mode takes grant_type=refresh_token)".into(),
        ));
    }
    let claims = state
        .authority
        .verify(bearer(headers).map_err(TokenFault::refuse_grant)?)
        .map_err(TokenFault::refuse_grant)?;
    Ok(Credential {
        id: claims.jti,
        fam: claims.fam,
        lapses_at_ms: state.lapses_at(claims.exp).as_ms(),
        sub: claims.sub,
        value: None,
    })
}

/// OAuth's refresh credential: `grant_type=refresh_token&refresh_token=…`
/// in a form body (RFC 6749 §6).
fn oauth_credential(
    state: &AuthState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Credential, ApiError> {
    let how = "send grant_type=refresh_token&refresh_token=<the refresh token> as application/x-www-form-urlencoded (RFC 6749 §6)";
    if content_type(headers) != Some(FORM) {
        return Err(ApiError::BadForm(format!("the body is not a form: {how}")));
    }
    let bytes = read_body(body)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|err| ApiError::BadForm(format!("the body is not a form ({err}): {how}")))?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    match field("grant_type") {
        Some("refresh_token") => {}
        Some(other) => return Err(ApiError::UnsupportedGrantType(other.to_owned())),
        None => {
            return Err(ApiError::BadForm(format!(
                "the form has no grant_type: {how}"
            )))
        }
    }
    let value = field("refresh_token")
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::BadForm(format!("the form has no refresh_token: {how}")))?;
    match state.grants.find(value) {
        Some(grant) => Ok(Credential {
            id: grant.id,
            fam: grant.fam,
            sub: grant.sub,
            lapses_at_ms: grant.lapses_at_ms,
            value: Some(value.to_owned()),
        }),
        None if state.authority.verify(value).is_ok() => Err(ApiError::InvalidGrant {
            reason: Reason::WrongKind,
            description: "refresh_token holds an access token (a JWT): /api/refresh takes the opaque refresh token the login returned".into(),
        }),
        None => Err(ApiError::InvalidGrant {
            reason: Reason::Malformed,
            description: "this server never issued that refresh token".into(),
        }),
    }
}

/// The media type of the body, without parameters.
fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}

/// The refresh decision: window, then the store's atomic check-and-revoke,
/// then the answer (new tokens, or Supabase's active token).
async fn rotate(
    state: &AuthState,
    tag: &LabTag,
    credential: Credential,
) -> Result<Json<Value>, ApiError> {
    let attempt = tag.attempt;
    let name = state.credential_name(credential.id);
    let now_ms = state.clock.now_ms();
    if now_ms >= credential.lapses_at_ms {
        return Err(ApiError::InvalidGrant {
            reason: Reason::WindowOver,
            description: format!(
                "the refresh window of token {name} ended {:.3} s ago",
                (now_ms - credential.lapses_at_ms) as f64 / 1000.0
            ),
        });
    }
    let decision = state
        .revocations
        .decide_refresh(
            credential.id,
            credential.fam,
            now_ms,
            credential.lapses_at_ms,
            || {
                // Only the non-atomic store waits here: its revoke is a leg.
                state.network.commit(tag.leg(
                    Route::Refresh,
                    LegJti::Named(name.clone()),
                    None,
                    None,
                ))
            },
        )
        .await;
    let accepted = || {
        state.recorder.record(
            Lane::Server,
            EventKind::Accepted {
                attempt,
                route: Route::Refresh,
                jti: Some(name.clone()),
            },
        )
    };
    match decision {
        RefreshDecision::Allow { rotate } => {
            accepted();
            let (token, fresh) = state.issue(&credential.sub, credential.fam, attempt);
            let (refresh, new_id) = match (state.mode, state.revocations.rule().rotate) {
                (Mode::Article, _) => (None, fresh.jti),
                // Nothing rotates: the same refresh token goes on.
                (Mode::Oauth, false) => (credential.value.clone(), credential.id),
                (Mode::Oauth, true) => {
                    let (value, id) = state.issue_refresh(&credential.sub, credential.fam, attempt);
                    (Some(value), id)
                }
            };
            if rotate {
                state.recorder.record(
                    Lane::Server,
                    EventKind::Rotated {
                        attempt,
                        jti: name.clone(),
                        new_jti: state.credential_name(new_id),
                    },
                );
                state.recorder.record(
                    Lane::Server,
                    EventKind::Revoked {
                        attempt,
                        jti: name.clone(),
                        cause: RevokeCause::Rotation,
                    },
                );
                let child_lapses_at_ms = state.lapses_at(fresh.exp).as_ms();
                state.revocations.set_child(
                    credential.id,
                    credential.fam,
                    new_id,
                    child_lapses_at_ms,
                );
            }
            state.revocations.issued_credential(credential.fam, new_id);
            Ok(state.token_response(token, refresh))
        }
        RefreshDecision::ReturnActive { active } => {
            accepted();
            let active_value = state.grants.value_of(active);
            match (state.mode, active_value) {
                // The access token is the credential: hand the active one back.
                (Mode::Article, Some(active)) => Ok(state.token_response(active, None)),
                (mode, active) => {
                    let (token, _) = state.issue(&credential.sub, credential.fam, attempt);
                    let refresh = active.filter(|_| mode == Mode::Oauth);
                    Ok(state.token_response(token, refresh))
                }
            }
        }
        RefreshDecision::Refuse {
            reason,
            family_revoked,
            why,
        } => {
            for jti in family_revoked {
                // A family holds both kinds in OAuth mode: name each as issued.
                let name = match state.grants.value_of(jti) {
                    Some(_) => state.credential_name(jti),
                    None => jti.to_string(),
                };
                state.recorder.record(
                    Lane::Server,
                    EventKind::Revoked {
                        attempt,
                        jti: name,
                        cause: RevokeCause::Family,
                    },
                );
            }
            let description = match why {
                Refusal::Reused => format!("token {name} was already used for a refresh"),
                Refusal::Stale => format!(
                    "token {name} is stale: its session already moved on to a newer token (Keycloak \"Stale token\")"
                ),
                Refusal::Overwritten => format!(
                    "token {name} is no longer known: a concurrent refresh of the same token saved its own new token over it"
                ),
                Refusal::FamilyDead => format!("token {name} belongs to a revoked family"),
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
        let listener = bind_free_port().await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // listen::serve locks the doors of the listener's address.
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

/// Ports the lab's run servers take in turn: below Linux's ephemeral range
/// (32768–60999), where the kernel's own choices and outgoing connections
/// take theirs.
const RUN_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// Binds 127.0.0.1 on a free port. The kernel's choice (port 0) scans the
/// ephemeral range for a free port and checks each bound one on the way,
/// and a run's closed connections stay bound for a minute (TIME_WAIT): an
/// exploration, which starts thousands of runs a minute, spent a third of
/// its time in that scan. So the lab tries ports itself, in turn from a
/// random one, each checked alone; if none of a few binds, the kernel picks.
async fn bind_free_port() -> std::io::Result<TcpListener> {
    static NEXT: std::sync::LazyLock<std::sync::atomic::AtomicU32> =
        std::sync::LazyLock::new(|| std::sync::atomic::AtomicU32::new(rand::random()));
    let span = u32::from(RUN_PORTS.end - RUN_PORTS.start);
    for _ in 0..16 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % span;
        // Taken (by another run, another program): the next one.
        let port = RUN_PORTS.start + n as u16;
        if let Ok(listener) = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).await {
            return Ok(listener);
        }
    }
    TcpListener::bind("127.0.0.1:0").await
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
