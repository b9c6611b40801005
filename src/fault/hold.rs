//! Events kept back by the delivery loop: `reorder` holds an event until `window`
//! later events have started (they overtake it); `burst` gathers events until `count`
//! are waiting, then releases them together (past the concurrency limit: a burst is a
//! spike). Whatever is still held when the source ends is released then.

/// Why an event is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Reorder(u32),
    Burst(u32),
}

/// How a released event goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// As taken, in its turn.
    Now,
    /// After the events that overtook it.
    Reordered,
    /// With its burst, regardless of the concurrency limit.
    Burst,
}

/// The events held back, in the order they were taken.
#[derive(Debug)]
pub struct Held<T> {
    reorder: Vec<(T, u32)>,
    burst: Vec<T>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            reorder: Vec::new(),
            burst: Vec::new(),
        }
    }
}

impl<T> Held<T> {
    /// Takes the next event: returns what starts now, in order.
    pub fn pass(&mut self, item: T, hold: Option<Hold>) -> Vec<(T, Release)> {
        match hold {
            Some(Hold::Reorder(window)) => {
                self.reorder.push((item, window.max(1)));
                Vec::new()
            }
            Some(Hold::Burst(count)) => {
                self.burst.push(item);
                if self.burst.len() < count as usize {
                    return Vec::new();
                }
                let out: Vec<_> = self.burst.drain(..).map(|t| (t, Release::Burst)).collect();
                let n = out.len() as u32;
                let mut out = out;
                out.extend(self.overtaken(n));
                out
            }
            None => {
                let mut out = vec![(item, Release::Now)];
                out.extend(self.overtaken(1));
                out
            }
        }
    }

    /// Counts `n` events past every held one and releases those whose window is full.
    fn overtaken(&mut self, n: u32) -> Vec<(T, Release)> {
        let mut out = Vec::new();
        let mut kept = Vec::with_capacity(self.reorder.len());
        for (t, left) in self.reorder.drain(..) {
            if left <= n {
                out.push((t, Release::Reordered));
            } else {
                kept.push((t, left - n));
            }
        }
        self.reorder = kept;
        out
    }

    /// Everything still held (at the end of the source).
    pub fn drain(&mut self) -> Vec<(T, Release)> {
        let mut out: Vec<_> = self
            .reorder
            .drain(..)
            .map(|(t, _)| (t, Release::Reordered))
            .collect();
        out.extend(self.burst.drain(..).map(|t| (t, Release::Burst)));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.reorder.is_empty() && self.burst.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(items: &[(u32, Option<Hold>)]) -> Vec<u32> {
        let mut h = Held::default();
        let mut out: Vec<u32> = Vec::new();
        for (i, hold) in items {
            out.extend(h.pass(*i, *hold).into_iter().map(|(t, _)| t));
        }
        out.extend(h.drain().into_iter().map(|(t, _)| t));
        out
    }

    #[test]
    fn reordered_events_are_overtaken_by_window_later_ones() {
        let r = Some(Hold::Reorder(2));
        assert_eq!(
            order(&[(1, r), (2, None), (3, None), (4, None)]),
            vec![2, 3, 1, 4]
        );
        // A window longer than the rest of the run: released at the end.
        assert_eq!(order(&[(1, Some(Hold::Reorder(9))), (2, None)]), vec![2, 1]);
    }

    #[test]
    fn bursts_go_together() {
        let b = Some(Hold::Burst(3));
        assert_eq!(
            order(&[(1, b), (2, None), (3, b), (4, b), (5, b)]),
            vec![2, 1, 3, 4, 5]
        );
        let mut h = Held::default();
        assert!(h.pass(1, b).is_empty());
        assert!(h.pass(2, b).is_empty());
        let out = h.pass(3, b);
        assert!(out.iter().all(|(_, r)| *r == Release::Burst) && out.len() == 3);
    }
}
