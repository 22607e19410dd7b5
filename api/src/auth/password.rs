//! Argon2id password hashing (RustCrypto `argon2`, default parameters m=19456, t=2, p=1).
//!
//! Hashing is CPU-heavy and works in 19 MiB: callers run it through [`off_thread`], on at most
//! two threads of its own, each of which keeps that memory from one hash to the next
//! (`compute`). So the server holds at most 38 MiB for passwords, whatever the number of logins
//! or of blocking threads.

use std::cell::RefCell;
use std::sync::{Mutex, OnceLock, mpsc};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

thread_local! {
    /// The working memory of this thread's hashes, kept from one to the next.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 with `params` over this thread's kept memory (allocated once, at the largest
/// size asked): a fresh 19 MiB per hash makes glibc raise its mmap threshold and keep the
/// freed blocks in the heap, fragmented, so that every login left ~13 MB behind.
fn compute(algorithm: Algorithm, version: Version, params: Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let blocks = params.block_count();
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]).is_ok()
    })
}

/// The PHC string of `password` with a fresh random salt.
///
/// # Errors
/// When the hasher fails (only on allocation failure).
pub fn hash(password: &str) -> Result<String, String> {
    let params = Params::default();
    let salt = Salt::generate();
    let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
    if !compute(Algorithm::Argon2id, Version::V0x13, params.clone(), password.as_bytes(), &salt, &mut out) {
        return Err("argon2 failed".into());
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string (compared in constant time).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm.as_str()), Params::try_from(&parsed)) else { return false };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut out = vec![0_u8; expected.len()];
    compute(algorithm, version, params, password.as_bytes(), salt, &mut out)
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// Spends the same time as a real verification, for unknown user names, so that the response
/// time does not tell whether an account exists.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("dummy password 0").unwrap_or_default());
    let _ = verify(password, phc);
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on the password threads (one per core, at most two, started on first use) and
/// waits for it without blocking the caller's thread.
///
/// # Errors
/// When the password threads are gone (cannot start, or a job panicked).
pub async fn off_thread<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    static JOBS: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 2);
        let mut started = 0;
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("motcua-password-{i}")).spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let next = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            started += usize::from(spawned.is_ok());
        }
        (started > 0).then(|| Mutex::new(sender))
    });
    let Some(jobs) = jobs else { return Err("the password threads could not start".into()) };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(job());
    });
    jobs.lock().map_err(|e| e.to_string())?.send(job).map_err(|e| e.to_string())?;
    rx.await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse 1").unwrap_or_default();
        let b = hash("correct horse 1").unwrap_or_default();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &a));
        assert!(!verify("wrong horse 1", &a));
        assert!(!verify("correct horse 1", "not a hash"));
    }

    #[test]
    fn hashes_agree_with_the_crates_own_both_ways_and_other_parameters_verify() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default().hash_password(b"stored before 2").map(|h| h.to_string()).unwrap_or_default();
        assert!(verify("stored before 2", &theirs));
        assert!(!verify("stored before 3", &theirs));
        let ours = hash("stored after 2").unwrap_or_default();
        let parsed = PasswordHash::new(&ours).ok();
        assert!(parsed.is_some_and(|p| Argon2::default().verify_password(b"stored after 2", &p).is_ok()));
        // A stronger hash (more memory) made elsewhere verifies too; the kept memory grows.
        let strong = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(32 * 1024, 3, 1, None).unwrap_or_default());
        let strong = strong.hash_password(b"stronger 4").map(|h| h.to_string()).unwrap_or_default();
        assert!(verify("stronger 4", &strong));
        assert!(verify("stored before 2", &theirs), "and a smaller one after it");
    }

    #[tokio::test]
    async fn the_password_threads_answer() {
        let phc = off_thread(|| hash("threaded 5")).await.unwrap_or_else(Err).unwrap_or_default();
        assert!(off_thread(move || verify("threaded 5", &phc)).await.unwrap_or(false));
    }
}
