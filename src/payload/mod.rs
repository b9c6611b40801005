//! The seeded generator: turns an event kind, a scenario time and a subject (contact,
//! campaign) into a realistic body in the flavor's envelope, as compact JSON bytes
//! that survive JavaScript's `JSON.stringify(JSON.parse(body))` unchanged.
//! STUB: owned by the payload helper; the public signatures below are the contract.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::events::{EventKind, Flavor};

/// One contact's identity, shared by all of its events (sent, opened, clicked...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub contact_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub message_id: String,
}

/// The campaign the events belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub campaign_id: u64,
    pub name: String,
}

/// The seeded source of everything random in a run: identities, bodies, delivery ids.
/// The same flavor, seed and calls give the same bytes.
pub struct Generator {
    flavor: Flavor,
}

impl Generator {
    pub fn new(flavor: Flavor, seed: u64) -> Self {
        let _ = seed;
        Generator { flavor }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// A new, internally consistent contact (name, matching email, message id).
    pub fn contact(&mut self) -> Contact {
        unimplemented!()
    }

    /// A new campaign (id and a realistic name).
    pub fn campaign(&mut self) -> Campaign {
        unimplemented!()
    }

    /// A fresh delivery id (a UUID drawn from the seeded RNG).
    pub fn delivery_id(&mut self) -> String {
        unimplemented!()
    }

    /// The realistic body of `kind` at scenario time `at`, for this contact and campaign.
    pub fn event(
        &mut self,
        kind: &EventKind,
        at: DateTime<Utc>,
        contact: &Contact,
        campaign: &Campaign,
    ) -> Value {
        let _ = (kind, at, contact, campaign);
        unimplemented!()
    }
}

/// Compact JSON bytes of a body (no spaces, raw UTF-8, keys in insertion order).
pub fn to_bytes(body: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(body).unwrap_or_default())
}

/// Applies `--set PATH=VALUE` to a body: PATH is dotted (`data.email`) and must already
/// exist in the body; VALUE is JSON when it parses as JSON, else a string.
pub fn set_path(body: &mut Value, assignment: &str) -> Result<(), crate::InputError> {
    let _ = (body, assignment);
    unimplemented!()
}
