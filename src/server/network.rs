//! The lab's "network": a per-route delay with seeded jitter, so overlaps are
//! visible on screen and a seeded run is reproducible.

use std::time::Duration;

use crate::protocol::Route;
use crate::settings::RunSettings;

/// Mixed into the jitter so that two routes of one lane differ.
fn salt(route: Route) -> u64 {
    match route {
        Route::Public => 1,
        Route::Secret => 2,
        Route::Refresh => 3,
        Route::Login => 4,
    }
}

/// Delays for one server, taken from the run's settings.
#[derive(Debug, Clone)]
pub struct Network {
    settings: RunSettings,
}

impl Network {
    pub fn new(settings: &RunSettings) -> Self {
        Network {
            settings: settings.clone(),
        }
    }

    /// How long `route` takes for `lane`. The jitter depends only on the
    /// seed, the lane and the route, never on arrival order, so the same
    /// seed gives the same race.
    pub fn delay(&self, route: Route, lane: Option<&str>) -> Duration {
        let latency = &self.settings.latency_ms;
        let base = match route {
            Route::Public => latency.public,
            Route::Secret => latency.secret,
            Route::Refresh => latency.refresh,
            Route::Login => latency.login,
        };
        let jitter = match self.settings.jitter_ms {
            0 => 0,
            max => {
                let mut key = self.settings.seed ^ salt(route).wrapping_mul(0x9E37_79B9);
                for byte in lane.unwrap_or("").bytes() {
                    key = splitmix64(key ^ u64::from(byte));
                }
                splitmix64(key) % (max + 1)
            }
        };
        self.settings.scaled(base + jitter)
    }

    /// Waits out the delay (nothing to wait for a zero delay).
    pub async fn traverse(&self, route: Route, lane: Option<&str>) {
        let delay = self.delay(route, lane);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// A small, well-mixed hash step (Steele et al.'s SplitMix64).
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_seeded_and_bounded() {
        let settings = RunSettings {
            jitter_ms: 40,
            seed: 7,
            ..RunSettings::default()
        };
        let a = Network::new(&settings);
        let b = Network::new(&settings);
        let mut distinct = std::collections::HashSet::new();
        for lane in ["secret#1", "secret#2", "secret#3", "secret#4"] {
            let delay = a.delay(Route::Refresh, Some(lane));
            assert_eq!(delay, b.delay(Route::Refresh, Some(lane)));
            assert!(delay >= Duration::from_millis(200) && delay <= Duration::from_millis(240));
            distinct.insert(delay);
        }
        assert!(distinct.len() > 1, "jitter should differ between lanes");
    }
}
