//! The server's background threads (housekeeping, audit chainer, statistics folder, report
//! scheduler, outbox dispatcher), supervised, stopped and joined together.
//!
//! Every thread holds the database pool; a thread left running after the server stopped would
//! keep the pool (and its reconnecting workers) alive until the process exits, and a process
//! that exits while a thread is inside the database client library can crash in the library's
//! exit handlers. So the server stops them when it stops, and dropping [`Workers`] stops them too.
//!
//! A thread that panics does not end silently: a periodic job's tick is caught and the next
//! tick runs as usual, and a long-running body (the outbox dispatcher) is started again after a
//! growing pause. Each panic is logged, counted in [`Health`], and shown on `/health/ready` and
//! `/metrics`, so that an operator learns of it while the rest of the server goes on serving.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The stop signal shared by the threads.
#[derive(Debug, Default)]
pub struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Whether the stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.stopped.lock().map_or(true, |s| *s)
    }

    /// Sleeps for `interval` or until the stop is asked for; returns whether it was.
    pub fn wait(&self, interval: Duration) -> bool {
        let Ok(guard) = self.stopped.lock() else { return true };
        match self.wake.wait_timeout_while(guard, interval, |stopped| !*stopped) {
            Ok((stopped, _)) => *stopped,
            Err(_) => true,
        }
    }

    fn ask(&self) {
        if let Ok(mut stopped) = self.stopped.lock() {
            *stopped = true;
        }
        self.wake.notify_all();
    }
}

/// How a background thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Working, or waiting for its next tick.
    Running,
    /// Its body panicked; it starts again after a pause.
    Restarting,
    /// Ended: the server is stopping, or its body finished.
    Stopped,
}

impl ThreadStatus {
    /// The name shown on `/health/ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Stopped => "stopped",
        }
    }
}

/// One background thread's state and the panics caught in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadState {
    pub status: ThreadStatus,
    /// Panics caught since the process started (each a failed tick, or a body started again).
    pub panics: u64,
}

/// The background threads' states by name, shared with the health and metrics endpoints.
#[derive(Debug, Default)]
pub struct Health {
    threads: Mutex<BTreeMap<String, ThreadState>>,
}

impl Health {
    /// Every thread started in this process, by name.
    pub fn threads(&self) -> BTreeMap<String, ThreadState> {
        self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn set(&self, name: &str, status: ThreadStatus) {
        let mut threads = self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        threads.entry(name.to_owned()).or_insert(ThreadState { status, panics: 0 }).status = status;
    }

    /// Counts and logs a panic of thread `name` (the message is our code's, never a request's).
    fn panicked(&self, name: &str, panic: &(dyn std::any::Any + Send), then: &str) {
        let message = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("?");
        log::error!("background thread {name} panicked ({message}); {then}");
        let mut threads = self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        threads.entry(name.to_owned()).or_insert(ThreadState { status: ThreadStatus::Running, panics: 0 }).panics += 1;
    }
}

/// The first pause before a panicked body starts again; each further panic doubles it, up to
/// [`MAX_RESTART_PAUSE`].
const RESTART_PAUSE: Duration = Duration::from_secs(1);
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(60);

/// The running background threads.
#[derive(Debug, Default)]
pub struct Workers {
    stop: Arc<Stop>,
    health: Arc<Health>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Workers that record their threads' states in `health`.
    pub fn new(health: Arc<Health>) -> Self {
        Self { stop: Arc::default(), health, threads: Vec::new() }
    }

    /// The stop signal, for threads that wait in their own way.
    pub fn stop_signal(&self) -> Arc<Stop> {
        self.stop.clone()
    }

    /// Starts a thread that runs `tick` every `interval` (first after one interval) until
    /// stopped. A tick that panics is logged and counted, and the next one runs as usual.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn every(&mut self, name: &str, interval: Duration, mut tick: impl FnMut() + Send + 'static) -> std::io::Result<()> {
        let (stop, health, label) = (self.stop.clone(), self.health.clone(), name.to_owned());
        self.start(name, move || {
            while !stop.wait(interval) {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(&mut tick)) {
                    health.panicked(&label, panic.as_ref(), "the next tick runs as usual");
                }
            }
        })
    }

    /// Starts a thread running `body`, which must return soon after the stop signal. A body
    /// that panics is logged and counted, and runs again after a pause (1 s, doubling with each
    /// panic up to a minute) unless the stop comes first.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn(&mut self, name: &str, mut body: impl FnMut() + Send + 'static) -> std::io::Result<()> {
        let (stop, health, label) = (self.stop.clone(), self.health.clone(), name.to_owned());
        self.start(name, move || {
            let mut pause = RESTART_PAUSE;
            while let Err(panic) = catch_unwind(AssertUnwindSafe(&mut body)) {
                health.panicked(&label, panic.as_ref(), &format!("it starts again in {} s", pause.as_secs()));
                health.set(&label, ThreadStatus::Restarting);
                if stop.wait(pause) {
                    break;
                }
                health.set(&label, ThreadStatus::Running);
                pause = (pause * 2).min(MAX_RESTART_PAUSE);
            }
        })
    }

    /// Starts the thread, with its state kept in [`Health`] from start to end.
    fn start(&mut self, name: &str, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let (health, label) = (self.health.clone(), name.to_owned());
        health.set(name, ThreadStatus::Running);
        let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            body();
            health.set(&label, ThreadStatus::Stopped);
        });
        match spawned {
            Ok(handle) => {
                self.threads.push(handle);
                Ok(())
            }
            Err(e) => {
                self.health.set(name, ThreadStatus::Stopped);
                Err(e)
            }
        }
    }

    /// Asks every thread to stop and waits for them.
    pub fn stop(&mut self) {
        self.stop.ask();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn stopping_wakes_a_waiting_thread_and_joins_it() {
        let mut workers = Workers::default();
        let ticks = Arc::new(AtomicU32::new(0));
        let counted = ticks.clone();
        workers
            .every("test-tick", Duration::from_millis(5), move || {
                counted.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap_or_else(|e| panic!("{e}"));
        workers.every("test-slow", Duration::from_secs(3600), || {}).unwrap_or_else(|e| panic!("{e}"));
        while ticks.load(Ordering::SeqCst) < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = std::time::Instant::now();
        workers.stop();
        assert!(started.elapsed() < Duration::from_secs(5), "an hour-long wait ends at the stop");
        let after = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(ticks.load(Ordering::SeqCst), after, "no tick after the stop");
    }

    /// Waits up to 10 s for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let started = std::time::Instant::now();
        while !done() {
            if started.elapsed() > Duration::from_secs(10) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    #[test]
    fn a_panicking_tick_is_counted_and_the_next_tick_runs() {
        let health = Arc::new(Health::default());
        let mut workers = Workers::new(health.clone());
        let ticks = Arc::new(AtomicU32::new(0));
        let counted = ticks.clone();
        workers
            .every("test-panicky", Duration::from_millis(2), move || {
                assert!(counted.fetch_add(1, Ordering::SeqCst) != 0, "the first tick fails");
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(eventually(|| ticks.load(Ordering::SeqCst) >= 3), "ticks go on after the panic");
        let state = health.threads()["test-panicky"];
        assert_eq!((state.status, state.panics), (ThreadStatus::Running, 1));
        workers.stop();
        assert_eq!(health.threads()["test-panicky"].status, ThreadStatus::Stopped);
    }

    /// The periodic jobs that talk to other systems (reconciliation, the PAKN pull) drive one
    /// current-thread runtime from tick to tick: a tick that panics inside `block_on` leaves
    /// the runtime usable for the next ones.
    #[test]
    fn a_tick_that_panics_inside_its_runtime_leaves_the_runtime_usable() {
        let health = Arc::new(Health::default());
        let mut workers = Workers::new(health.clone());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        let (called, completed) = (AtomicU32::new(0), Arc::new(AtomicU32::new(0)));
        let done = completed.clone();
        workers
            .every("test-runtime", Duration::from_millis(2), move || {
                let call = called.fetch_add(1, Ordering::SeqCst);
                runtime.block_on(async move {
                    // A timer: the runtime's driver is used before the panic and after it.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    assert!(call != 0, "the first tick fails inside the runtime");
                });
                done.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(eventually(|| completed.load(Ordering::SeqCst) >= 3), "later ticks run on the same runtime");
        workers.stop();
        assert_eq!(health.threads()["test-runtime"].panics, 1);
    }

    #[test]
    fn a_panicking_body_starts_again_and_the_stop_ends_it() {
        let health = Arc::new(Health::default());
        let mut workers = Workers::new(health.clone());
        let runs = Arc::new(AtomicU32::new(0));
        let (counted, stop) = (runs.clone(), workers.stop_signal());
        workers
            .spawn("test-dispatcher", move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                assert!(run != 0, "the first run fails");
                while !stop.wait(Duration::from_millis(5)) {}
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(eventually(|| health.threads()["test-dispatcher"].status == ThreadStatus::Restarting), "restarting after the panic");
        assert!(eventually(|| runs.load(Ordering::SeqCst) == 2), "the body runs again after the pause");
        let state = health.threads()["test-dispatcher"];
        assert_eq!((state.status, state.panics), (ThreadStatus::Running, 1));
        workers.stop();
        assert_eq!(health.threads()["test-dispatcher"].status, ThreadStatus::Stopped);
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a body that returns is not started again");
    }
}
