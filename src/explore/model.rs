//! What an exploration finds: the outcomes of orders, their classes, the
//! size of a setup before it runs.

use serde::{Deserialize, Serialize};

use crate::protocol::LegId;
use crate::settings::{Policy, RunSettings, Strategy};
use crate::verdict::Verdict;

/// How one order ended: the counts a learner compares, and whether the
/// run settled with requests that could never complete.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct Outcome {
    pub refresh_calls: u32,
    pub refresh_rejected: u32,
    /// Logical requests that failed.
    pub failed: u32,
    pub logged_out: bool,
    /// Nothing was left in flight, yet some request never finished.
    pub hang: bool,
    /// The client's code failed in this order (a learner's module threw,
    /// or ran without yielding): the run ended there, its requests
    /// unfinished. Only a client that runs in the page can.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
}

impl Outcome {
    /// The outcome of a finished (or stuck) run from its events.
    pub fn of(verdict: &Verdict, requests: u32) -> Outcome {
        Outcome {
            refresh_calls: verdict.refresh_calls,
            refresh_rejected: verdict.refresh_rejected,
            failed: verdict.failed,
            logged_out: verdict.logouts > 0,
            // The verdict tells a hang (what waits, on what); a run that
            // settled with requests unfinished and no hang found is one too.
            hang: verdict.hang || verdict.requests < requests,
            error: false,
        }
    }

    /// The outcome of a run whose client failed: what it had done so far,
    /// and the error (its unfinished requests are the error's, not a hang).
    pub fn failed(verdict: &Verdict) -> Outcome {
        Outcome {
            hang: false,
            error: true,
            ..Outcome::of(verdict, 0)
        }
    }

    /// Every request succeeded and the user stayed logged in.
    pub fn ok(&self) -> bool {
        self.failed == 0 && !self.logged_out && !self.hang && !self.error
    }

    /// "2 refreshes, 1 rejected, 1 failed, logged out".
    pub fn describe(&self) -> String {
        let mut parts = vec![
            match self.refresh_calls {
                1 => "1 refresh".to_owned(),
                n => format!("{n} refreshes"),
            },
            format!("{} rejected", self.refresh_rejected),
            format!("{} failed", self.failed),
        ];
        if self.logged_out {
            parts.push("logged out".into());
        }
        if self.hang {
            parts.push("hangs".into());
        }
        if self.error {
            parts.push("the client failed".into());
        }
        parts.join(", ")
    }

    /// What the orders of this outcome do to the user, for "k of M orders …".
    pub fn effect(&self) -> &'static str {
        if self.error {
            "end in an error of the client"
        } else if self.hang {
            "leave a request hanging"
        } else if self.logged_out {
            "log the user out"
        } else if self.failed > 0 {
            "lose a request"
        } else {
            "end well"
        }
    }
}

/// The orders of one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Class {
    pub outcome: Outcome,
    pub ok: bool,
    /// How many orders end this way.
    pub count: u64,
    /// The shortest of them (the first in leg order among equals), as a
    /// `--deliver` list from the start of the run.
    pub shortest: Vec<LegId>,
    /// Index into `shortest`: after this delivery every continuation fails.
    /// `None` for an outcome that is ok, for one whose run was lost before
    /// the first delivery (every order fails), and when a budget cut the
    /// exploration short (then it cannot be told).
    pub no_return: Option<usize>,
    /// For an outcome in error: what the client's failure said in the
    /// shortest order (the page's message, "tab 2: …" with several tabs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What delivering one of the legs in flight now leads to (the hints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NextLeg {
    pub leg: LegId,
    /// Complete orders that continue with this leg.
    pub orders: u64,
    /// How many of them fail.
    pub failing: u64,
}

/// Why an exploration stopped before it counted every order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    BudgetOrders,
    BudgetSeconds,
}

/// A finished exploration (docs/design.md, "Explore").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Exploration {
    /// The run settings explored (`deliver`: the prefix every order starts with).
    pub setup: RunSettings,
    /// Complete orders counted: all of them when `exact`.
    pub orders: u64,
    /// False only when a budget cut the exploration short.
    pub exact: bool,
    /// Orders that exist at least (equals `orders` when exact).
    pub at_least: u64,
    /// Counted orders whose outcome is not ok.
    pub failing: u64,
    /// Outcomes: the ok ones first, then the most frequent.
    pub classes: Vec<Class>,
    /// Per leg in flight at the start: the orders that continue with it.
    pub next: Vec<NextLeg>,
    /// Distinct lab states met, real runs started to meet them, and steps
    /// known without a run (deliveries that commute).
    pub states: u64,
    pub runs: u64,
    pub shortcuts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

impl Exploration {
    /// The class ending in `outcome`, if any order does.
    pub fn class(&self, outcome: &Outcome) -> Option<&Class> {
        self.classes.iter().find(|c| c.outcome == *outcome)
    }
}

/// The size of a setup, before anything runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    /// Legs a run can have in flight over its life, at most.
    pub legs: u32,
    /// States, at most the product of each lane's progress (shared order
    /// can add some).
    pub states: u64,
    /// Orders, at most: the interleavings of every lane's legs (saturates).
    pub orders: u64,
}

/// Sizes `settings`' space: each lane sends at most a request, a refresh
/// and a retry (two legs each, three for a non-atomic refresh).
pub fn estimate(settings: &RunSettings) -> Estimate {
    let refresh = if settings.policy == Policy::NonAtomic {
        3
    } else {
        2
    };
    let mut lanes: Vec<u64> = Vec::new();
    for _tab in settings.tab_numbers() {
        let secret = (0..settings.secret).chain(0..u32::from(settings.late));
        lanes.extend(secret.map(|_| 4 + refresh));
        lanes.extend((0..settings.public).map(|_| 2));
        if settings.strategy == Strategy::Proactive {
            lanes.push(refresh);
        }
    }
    let legs: u64 = lanes.iter().sum();
    let states = lanes.iter().fold(1u64, |acc, l| acc.saturating_mul(l + 1));
    // Multinomial: legs! / prod(l!), built up one lane at a time.
    let mut orders: u128 = 1;
    let mut placed: u128 = 0;
    for &l in &lanes {
        for k in 1..=u128::from(l) {
            placed += 1;
            orders = orders.saturating_mul(placed) / k;
            if orders > u128::from(u64::MAX) {
                orders = u128::from(u64::MAX);
            }
        }
    }
    Estimate {
        legs: legs.min(u64::from(u32::MAX)) as u32,
        states,
        orders: orders.min(u128::from(u64::MAX)) as u64,
    }
}

/// How far an exploration got.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Progress {
    /// Share of the tree of orders done, 0..=1 (branches weigh alike).
    pub done: f64,
    pub states: u64,
    pub runs: u64,
}
/// An estimate of orders in words: "up to N", or "more than 10^19" once
/// it saturates.
pub fn orders_text(orders: u64) -> String {
    if orders == u64::MAX {
        "more than 10^19".into()
    } else {
        format!("up to {orders}")
    }
}
