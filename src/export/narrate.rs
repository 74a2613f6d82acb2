//! One sentence per exchange: what happened and what the lane does next,
//! e.g. "secret#2 got 401 with t1 (expired) and refreshes on its own".
//!
//! Every export that explains an exchange (the HAR's `comment`, the trace's
//! `args`) calls [`exchange`], so a richer narration can replace this one
//! function.

use crate::protocol::{Reason, Route};
use crate::settings::Strategy;

use super::exchanges::{Exchange, ExchangeKind, Then};

/// The sentence for one exchange, without a final period.
pub fn exchange(ex: &Exchange, strategy: Strategy) -> String {
    let lane = ex.lane;
    let token = |jti: &Option<String>| match jti {
        Some(jti) => format!("with {jti}"),
        None => "without a token".to_owned(),
    };
    let Some(answer) = &ex.answer else {
        let what = match ex.kind {
            ExchangeKind::Refresh => "a refresh".to_owned(),
            _ => format!("{} {}", ex.method(), ex.route),
        };
        return format!(
            "{lane} sent {what} {} and the run ended before an answer",
            token(&ex.jti)
        );
    };
    if ex.kind == ExchangeKind::Refresh {
        let presented = ex.jti.as_deref().unwrap_or("no token");
        if let Some(new) = &answer.new_jti {
            return format!("{lane} refreshed {presented} and got {new}");
        }
        let why = match answer.reason {
            Some(Reason::Reused) => format!(": {presented} was already spent by another refresh"),
            Some(Reason::WindowOver) => format!(": the refresh window of {presented} is over"),
            Some(Reason::Revoked) => format!(": {presented} was revoked"),
            Some(Reason::Transport) => String::new(),
            Some(reason) => format!(" ({reason})"),
            None => String::new(),
        };
        let outcome = if answer.status == 0 {
            format!("{lane} tried to refresh {presented} and got no answer")
        } else {
            format!(
                "{lane} tried to refresh {presented} and got {}{why}",
                answer.status
            )
        };
        let logout = if ex.logged_out {
            ", so the tab logs out"
        } else {
            ""
        };
        return format!("{outcome}{logout}");
    }

    let got = if answer.status == 0 {
        "got no answer".to_owned()
    } else {
        match answer.reason {
            Some(reason) if !answer.ok() => format!("got {} ({reason})", answer.status),
            _ => format!("got {}", answer.status),
        }
    };
    let head = match ex.kind {
        ExchangeKind::Retry => format!("{lane} retried {} and {got}", token(&ex.jti)),
        _ => format!("{lane} {got} {}", token(&ex.jti)),
    };
    if answer.ok() {
        return if ex.route == Route::Public && ex.jti.is_some() {
            format!("{head}: the public route does not look at the token")
        } else {
            head
        };
    }
    let next = match &ex.then {
        Then::Refresh { .. } if strategy == Strategy::Naive => {
            " and refreshes on its own".to_owned()
        }
        Then::Refresh { .. } => " and starts the refresh".to_owned(),
        Then::Wait => " and waits for the refresh already running".to_owned(),
        Then::Retry { jti: Some(jti), .. } => {
            format!(" and retries with {jti}, which is already in the token store")
        }
        Then::Retry { jti: None, .. } => " and retries".to_owned(),
        Then::Finish { .. } if ex.jti.is_none() => {
            " and gives up: there is no token to refresh".to_owned()
        }
        Then::Finish { .. } if ex.kind == ExchangeKind::Retry => {
            " and gives up: the token it was handed is no good either".to_owned()
        }
        Then::Finish { .. } => " and gives up".to_owned(),
        Then::Nothing => String::new(),
    };
    format!("{head}{next}")
}
