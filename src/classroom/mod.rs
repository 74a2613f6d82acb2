//! Classroom mode: the instructor's lab opened to the room's network.
//!
//! The lab then listens twice: on loopback for the instructor (everything,
//! plus the roster at `/lab/classroom`) and on the room's address for the
//! attendees, behind a gate. The gate lets nobody in without the room's
//! code: `/join?code=…` (the URL the instructor shares, also as a QR code)
//! gives a browser a seat, kept in an HttpOnly cookie. With a seat, each
//! attendee has their own long-lived auth API and lab clock (`/api/*`,
//! `/lab/clock`) and their own runs, within per-attendee limits; the room
//! as a whole is bounded too. Without one, a page asking for the code is
//! all there is; the lab and auth APIs answer 401.
//!
//! Nobody in the room can take it from the others: a browser keeps its
//! seat when it follows the link again, each address may take only a few
//! new seats and make only a few wrong guesses a minute, a seat idle for
//! long gives its place to a newcomer when the room is full, and the
//! seats' runs have a share of the lab's of their own
//! ([`crate::runs::ROOM_LIVE_RUNS`]).

pub mod room;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::Rng;
use schemars::JsonSchema;
use serde::Serialize;
use tower::ServiceExt;

use crate::challenge::ChallengeId;
use crate::server::{ApiError, AuthState};
use crate::settings::RunSettings;
use crate::timeline::Recorder;

/// Letters and digits nobody confuses when reading from a projector.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 10 of 32 symbols: 50 bits. At the guess limit below, from a thousand
/// addresses at once, half the codes take about 100,000 years to try.
const CODE_LEN: usize = 10;
/// Where a browser joins (`/join?code=…`).
pub use crate::protocol::JOIN_PATH;
/// The cookie that holds a browser's seat.
pub const SEAT_COOKIE: &str = "rr_seat";

/// What one attendee and the whole room may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RoomLimits {
    /// Seats in the room.
    pub max_attendees: usize,
    /// Runs one attendee may have live at once.
    pub runs_per_attendee: usize,
    /// Requests (secret + public + late) in one attendee's run.
    pub requests_per_run: u32,
    /// Events each attendee's long-lived API keeps.
    pub api_events: usize,
    /// New seats one address may take per minute (a burst of as many, then
    /// one every 60/N s); a browser that rejoins keeps its seat and takes none.
    pub seats_per_address_per_minute: u32,
    /// Wrong codes one address may try per minute; past it even the right
    /// code waits, so a guesser learns nothing.
    pub guesses_per_address_per_minute: u32,
    /// A seat that sent nothing for this long, with no live run, gives its
    /// place to a newcomer when the room is full (milliseconds).
    pub seat_idle_ms: u64,
}

impl Default for RoomLimits {
    fn default() -> Self {
        RoomLimits {
            max_attendees: 60,
            runs_per_attendee: 2,
            requests_per_run: 200,
            api_events: 1_000,
            seats_per_address_per_minute: 6,
            guesses_per_address_per_minute: 10,
            seat_idle_ms: 10 * 60 * 1000,
        }
    }
}

/// Addresses a throttle remembers at most; past it, an address it does not
/// know yet is refused until some allowances are full again.
const THROTTLED_ADDRESSES: usize = 4_096;

/// A per-address allowance: `per_minute` at once, then one more every
/// 60/`per_minute` s.
struct Throttle {
    per_minute: u32,
    what: &'static str,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Throttle {
    fn new(per_minute: u32, what: &'static str) -> Self {
        Throttle {
            per_minute: per_minute.max(1),
            what,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }

    /// What is left for `addr` now (an unknown address has everything).
    fn left(&self, buckets: &HashMap<IpAddr, (f64, Instant)>, addr: IpAddr, now: Instant) -> f64 {
        let full = f64::from(self.per_minute);
        buckets.get(&addr).map_or(full, |(tokens, at)| {
            (tokens + now.duration_since(*at).as_secs_f64() * self.refill()).min(full)
        })
    }

    fn refusal(&self, left: f64) -> ApiError {
        let wait = ((1.0 - left) / self.refill()).ceil().max(1.0) as u64;
        ApiError::TooMany {
            what: format!(
                "too many {} from this address (at most {} a minute); try again in {wait} s",
                self.what, self.per_minute
            ),
            retry_after_s: wait,
        }
    }

    /// `Ok` if `addr` has an allowance left, without using it.
    fn check(&self, addr: IpAddr) -> Result<(), ApiError> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let left = self.left(&buckets, addr, Instant::now());
        if left >= 1.0 {
            Ok(())
        } else {
            Err(self.refusal(left))
        }
    }

    /// Uses one of `addr`'s allowance, or refuses.
    fn take(&self, addr: IpAddr) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if buckets.len() >= THROTTLED_ADDRESSES && !buckets.contains_key(&addr) {
            let full = f64::from(self.per_minute);
            let recovered: Vec<IpAddr> = buckets
                .keys()
                .copied()
                .filter(|a| self.left(&buckets, *a, now) >= full)
                .collect();
            for a in recovered {
                buckets.remove(&a);
            }
            if buckets.len() >= THROTTLED_ADDRESSES {
                return Err(self.refusal(0.0));
            }
        }
        let left = self.left(&buckets, addr, now);
        if left < 1.0 {
            return Err(self.refusal(left));
        }
        buckets.insert(addr, (left - 1.0, now));
        Ok(())
    }
}

/// One seat: an attendee's own API, lab clock and counters.
pub struct Attendee {
    /// 1, 2, … in the order they joined: what the roster shows.
    pub number: u32,
    /// When the seat last sent anything, in ms since the room opened.
    last_seen_ms: AtomicU64,
    api: Arc<AuthState>,
    api_router: Router,
    runs_live: AtomicUsize,
    runs_done: AtomicU64,
    solved: Mutex<BTreeSet<ChallengeId>>,
    /// The room's notice board (what was pushed) and this seat's results.
    board: Arc<room::Board>,
    record: room::SeatRecord,
}

/// A row of the instructor's roster.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Seat {
    pub number: u32,
    pub runs_live: usize,
    pub runs_done: u64,
    pub solved: Vec<ChallengeId>,
}

/// The room: its code, its seats, its limits.
pub struct Classroom {
    /// Builds an attendee's own API router (the auth API and the lab clock)
    /// over their own state.
    api_router: fn(Arc<AuthState>) -> Router,
    code: String,
    limits: RoomLimits,
    api_settings: RunSettings,
    seats: Mutex<HashMap<String, Arc<Attendee>>>,
    next_number: AtomicU64,
    opened: Instant,
    new_seats: Throttle,
    guesses: Throttle,
    /// What the instructor pushed to every seat ([`room`]).
    board: Arc<room::Board>,
}

impl Classroom {
    /// A room with a fresh random code.
    pub fn new(
        api_settings: RunSettings,
        limits: RoomLimits,
        api_router: fn(Arc<AuthState>) -> Router,
    ) -> Self {
        let mut rng = rand::rng();
        let code = (0..CODE_LEN)
            .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        Classroom {
            api_router,
            code,
            limits,
            api_settings,
            seats: Mutex::new(HashMap::new()),
            next_number: AtomicU64::new(1),
            opened: Instant::now(),
            new_seats: Throttle::new(limits.seats_per_address_per_minute, "new seats"),
            guesses: Throttle::new(limits.guesses_per_address_per_minute, "wrong codes"),
            board: Arc::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn limits(&self) -> RoomLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Attendee>>> {
        self.seats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives a seat for the right code: returns the cookie value.
    pub fn join(&self, code: &str) -> Result<String, ApiError> {
        self.join_from(IpAddr::V4(Ipv4Addr::UNSPECIFIED), code)
    }

    /// Gives a seat to a browser at `addr` for the right code, as typed
    /// (any case, spaces and dashes anywhere); returns the cookie value.
    pub fn join_from(&self, addr: IpAddr, typed: &str) -> Result<String, ApiError> {
        self.guesses.check(addr)?;
        if !same_code(&normalize_code(typed), &self.code) {
            self.guesses.take(addr)?;
            return Err(ApiError::Forbidden {
                message: "that is not this room's code: ask the instructor for the join link"
                    .into(),
            });
        }
        self.new_seats.take(addr)?;
        let mut seats = self.lock();
        if seats.len() >= self.limits.max_attendees {
            // A seat nobody used for long, with no run going, makes room.
            let now = self.now_ms();
            let idle = seats
                .iter()
                .filter(|(_, a)| {
                    a.runs_live.load(Ordering::SeqCst) == 0
                        && now.saturating_sub(a.last_seen_ms.load(Ordering::Relaxed))
                            >= self.limits.seat_idle_ms
                })
                .min_by_key(|(_, a)| a.last_seen_ms.load(Ordering::Relaxed))
                .map(|(session, _)| session.clone());
            if let Some(session) = idle {
                seats.remove(&session);
            }
        }
        if seats.len() >= self.limits.max_attendees {
            return Err(ApiError::Busy {
                what: format!(
                    "the room is full ({} seats); ask the instructor",
                    self.limits.max_attendees
                ),
                retry_after_s: 30,
            });
        }
        let session = random_token();
        let api = AuthState::long_lived(
            &self.api_settings,
            Recorder::bounded(self.limits.api_events),
        );
        let attendee = Attendee {
            number: self.next_number.fetch_add(1, Ordering::Relaxed) as u32,
            last_seen_ms: AtomicU64::new(self.now_ms()),
            api_router: (self.api_router)(api.clone()),
            api,
            runs_live: AtomicUsize::new(0),
            runs_done: AtomicU64::new(0),
            solved: Mutex::new(BTreeSet::new()),
            board: self.board.clone(),
            record: room::SeatRecord::default(),
        };
        seats.insert(session.clone(), Arc::new(attendee));
        Ok(session)
    }

    /// The attendee whose seat cookie `headers` carry.
    pub fn seat(&self, headers: &HeaderMap) -> Option<Arc<Attendee>> {
        let session = cookie(headers, SEAT_COOKIE)?;
        let attendee = self.lock().get(session).cloned()?;
        attendee
            .last_seen_ms
            .store(self.now_ms(), Ordering::Relaxed);
        Some(attendee)
    }

    /// Frees seat `number` (the instructor's roster): its cookie is no
    /// seat any more. Its runs still live finish on their own.
    pub fn remove(&self, number: u32) -> bool {
        let mut seats = self.lock();
        let before = seats.len();
        seats.retain(|_, a| a.number != number);
        seats.len() < before
    }

    /// The room's notice board.
    pub fn board(&self) -> &room::Board {
        &self.board
    }

    /// Every seat, in joining order.
    pub fn attendees(&self) -> Vec<Arc<Attendee>> {
        let mut seats: Vec<Arc<Attendee>> = self.lock().values().cloned().collect();
        seats.sort_by_key(|a| a.number);
        seats
    }

    /// The roster, in joining order.
    pub fn roster(&self) -> Vec<Seat> {
        let mut seats: Vec<Seat> = self
            .lock()
            .values()
            .map(|a| Seat {
                number: a.number,
                runs_live: a.runs_live.load(Ordering::Relaxed),
                runs_done: a.runs_done.load(Ordering::Relaxed),
                solved: a
                    .solved
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .copied()
                    .collect(),
            })
            .collect();
        seats.sort_by_key(|s| s.number);
        seats
    }
}

impl Attendee {
    /// The attendee's own long-lived API state (lab clock, tokens).
    pub fn api(&self) -> &Arc<AuthState> {
        &self.api
    }

    /// A run of this attendee finished: its challenges, and its outcome
    /// for the room's results.
    pub fn finished(
        &self,
        settings: &RunSettings,
        verdict: &crate::verdict::Verdict,
        ids: &[ChallengeId],
    ) {
        self.solved(ids);
        self.record.finished(&self.board, settings, verdict);
    }

    /// This seat's results in the room.
    pub fn record(&self) -> &room::SeatRecord {
        &self.record
    }

    /// The challenges this seat solved.
    pub fn solved_challenges(&self) -> Vec<ChallengeId> {
        self.solved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect()
    }

    /// Records challenges a finished run of this attendee solved.
    pub fn solved(&self, ids: &[ChallengeId]) {
        self.runs_done.fetch_add(1, Ordering::Relaxed);
        self.solved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(ids.iter().copied());
    }
}

/// What a run started by an attendee may use: put into the request's
/// extensions by the gate, read by `POST /lab/runs`.
#[derive(Clone)]
pub struct RunQuota {
    pub max_requests: u32,
    pub max_live: usize,
    pub attendee: Arc<Attendee>,
}

/// Holds one of an attendee's live-run places until dropped.
pub struct RunPlace {
    attendee: Arc<Attendee>,
}

impl RunQuota {
    /// Takes a live-run place, or says why not.
    pub fn take(&self, settings: &RunSettings) -> Result<RunPlace, ApiError> {
        let per_attendee = self.max_live;
        // Every tab sends the run's requests.
        let requests = u64::from(settings.secret + settings.public + u32::from(settings.late))
            * u64::from(settings.tabs);
        if requests > u64::from(self.max_requests) {
            return Err(ApiError::Busy {
                what: format!(
                    "in this classroom a run may have at most {} requests (this one has {requests})",
                    self.max_requests
                ),
                retry_after_s: 0,
            });
        }
        let live = &self.attendee.runs_live;
        let taken = live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < per_attendee).then_some(n + 1)
            })
            .is_ok();
        if !taken {
            return Err(ApiError::Busy {
                what: format!(
                    "you already have {per_attendee} runs going; let one finish (or close it) first"
                ),
                retry_after_s: 2,
            });
        }
        Ok(RunPlace {
            attendee: self.attendee.clone(),
        })
    }
}

impl RunPlace {
    pub fn attendee(&self) -> &Arc<Attendee> {
        &self.attendee
    }
}

impl Drop for RunPlace {
    fn drop(&mut self) {
        self.attendee.runs_live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The attendees' door: nothing without a seat but the join page.
pub async fn gate(
    State(room): State<Arc<Classroom>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == JOIN_PATH {
        return join(&room, &request);
    }
    let Some(attendee) = room.seat(request.headers()) else {
        let wants_page = request.method() == Method::GET
            && !path.starts_with("/api/")
            && !path.starts_with("/lab/");
        return if wants_page {
            join_page(None, StatusCode::OK)
        } else {
            ApiError::NotJoined.into_response()
        };
    };
    // The attendee's own long-lived API and lab clock.
    if path.starts_with("/api/") || path == "/lab/clock" {
        let router = attendee.api_router.clone();
        return match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    if path == "/lab/classroom/status" && request.method() == Method::GET {
        // An attendee's page: no share button, and which seat it is.
        let status = serde_json::json!({"role": "attendee", "open": true, "seat": attendee.number});
        return axum::Json(status).into_response();
    }
    // The room as one: the seat's own state, the room's events, its lesson.
    if path == "/lab/room" || path.starts_with("/lab/room/") {
        return room::seat_answer(&room, &attendee, request).await;
    }
    if path.starts_with("/lab/classroom") {
        return ApiError::Forbidden {
            message: "the roster is the instructor's".into(),
        }
        .into_response();
    }
    request.extensions_mut().insert(RunQuota {
        max_requests: room.limits.requests_per_run,
        max_live: room.limits.runs_per_attendee,
        attendee,
    });
    next.run(request).await
}

fn join(room: &Classroom, request: &Request) -> Response {
    let to_lab = || {
        let mut response = (StatusCode::SEE_OTHER, Body::empty()).into_response();
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/"));
        response
    };
    // A browser that has a seat keeps it, however often it follows the link.
    if room.seat(request.headers()).is_some() {
        return to_lab();
    }
    let code = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("code="))
            .map(str::to_owned)
    });
    let Some(code) = code else {
        return join_page(None, StatusCode::OK);
    };
    let addr = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    match room.join_from(addr, &code) {
        Ok(session) => {
            let mut response = to_lab();
            if let Ok(cookie) = HeaderValue::from_str(&format!(
                "{SEAT_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(ApiError::Forbidden { message }) => join_page(Some(&message), StatusCode::FORBIDDEN),
        Err(other) => other.into_response(),
    }
}

/// A code as typed or pasted: percent-escapes and `+` decoded, spaces and
/// dashes dropped, any case.
fn normalize_code(typed: &str) -> String {
    let plus_as_space = typed.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy();
    decoded
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The join page's policy: no script, no style, its form to this origin only.
const JOIN_PAGE_CSP: &str =
    "default-src 'none'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The one page a browser without a seat gets: a form asking for the code.
fn join_page(error: Option<&str>, status: StatusCode) -> Response {
    let error = error
        .map(|e| format!("<p role=\"alert\" data-join-error>{}</p>", escape(e)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Join the Refresh Race classroom</title></head><body>\
<main data-join><h1>Join the classroom</h1>\
<p>This lab is open to a workshop room. Enter the code the instructor shows (or scan the QR code).</p>\
{error}<form method=\"get\" action=\"/join\"><label>Code <input name=\"code\" autocomplete=\"off\" \
autocapitalize=\"characters\" required data-join-code></label> <button type=\"submit\">Join</button></form>\
</main></body></html>"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Answered before the lab's own layers, so its locks are set here: no
    // script at all, and the one form may only go to this origin.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(JOIN_PAGE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

/// Compares codes without stopping at the first difference, so timing
/// does not tell how much of a guess was right.
fn same_code(guess: &str, code: &str) -> bool {
    let guess = guess.to_ascii_uppercase();
    guess.len() == code.len()
        && guess
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// 128 random bits, hex: a seat's session id.
fn random_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The join URL as an SVG QR code, for the instructor's screen.
pub fn qr_svg(url: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|err| ApiError::Internal(format!("cannot make a QR code: {err}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server;

    #[test]
    fn a_code_is_ten_unambiguous_characters_and_compares_without_case() {
        let room = Classroom::new(RunSettings::default(), RoomLimits::default(), server::app);
        assert_eq!(room.code().len(), 10);
        let typed = format!(
            " {}-{} ",
            &room.code()[..5],
            room.code()[5..].to_lowercase()
        );
        assert!(same_code(&normalize_code(&typed), room.code()));
        assert!(room.code().bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert!(same_code(&room.code().to_ascii_lowercase(), room.code()));
        assert!(!same_code("", room.code()));
    }

    #[test]
    fn seats_are_numbered_and_the_room_is_bounded() {
        let limits = RoomLimits {
            max_attendees: 2,
            ..RoomLimits::default()
        };
        let room = Classroom::new(RunSettings::default(), limits, server::app);
        assert!(room.join("WRONG1").is_err());
        let a = room.join(room.code()).unwrap();
        room.join(room.code()).unwrap();
        assert!(matches!(room.join(room.code()), Err(ApiError::Busy { .. })));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            format!("x=1; {SEAT_COOKIE}={a}").parse().unwrap(),
        );
        assert_eq!(room.seat(&headers).unwrap().number, 1);
        assert_eq!(room.roster().len(), 2);
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg("http://192.0.2.1:3000/join?code=ABCDEF").unwrap();
        assert!(svg.contains("<svg"));
    }
}
