//! The server's background threads (housekeeping, audit chainer, statistics folder, report
//! scheduler, outbox dispatcher), stopped and joined together.
//!
//! Every thread holds the database pool; a thread left running after the server stopped would
//! keep the pool (and its reconnecting workers) alive until the process exits, and a process
//! that exits while a thread is inside the database client library can crash in the library's
//! exit handlers. So the server stops them when it stops, and dropping [`Workers`] stops them too.

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

/// The running background threads.
#[derive(Debug, Default)]
pub struct Workers {
    stop: Arc<Stop>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// The stop signal, for threads that wait in their own way.
    pub fn stop_signal(&self) -> Arc<Stop> {
        self.stop.clone()
    }

    /// Starts a thread that runs `tick` every `interval` (first after one interval) until stopped.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn every(&mut self, name: &str, interval: Duration, mut tick: impl FnMut() + Send + 'static) -> std::io::Result<()> {
        let stop = self.stop.clone();
        self.spawn(name, move || {
            while !stop.wait(interval) {
                tick();
            }
        })
    }

    /// Starts a thread running `body`, which must return soon after the stop signal.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn(&mut self, name: &str, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let handle = std::thread::Builder::new().name(name.to_owned()).spawn(body)?;
        self.threads.push(handle);
        Ok(())
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
}
