//! `Watch::get` next to a plain `Arc` clone, the floor for handing out shared settings.
//!
//! `cargo bench --bench watch --features watch`. Times both in alternating rounds of a million
//! calls (each result dropped), on the calling thread while the watch's own thread sleeps, and
//! prints the medians and their ratio. The target is a ratio within 2.
//! A second pass does the same with another thread calling `get` all the while.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use settings::{Loader, SecretString, Settings, Watch};

#[derive(Settings)]
#[allow(dead_code)]
struct App {
    name: String,
    port: u16,
    api_key: SecretString,
}

const CALLS: u32 = 1_000_000;
const ROUNDS: usize = 31;

fn time(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(label: &str, watch: &Watch<App>, plain: &Arc<App>) {
    let (mut arc, mut got, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let a = time(|| drop(black_box(Arc::clone(black_box(plain)))));
        let g = time(|| drop(black_box(black_box(watch).get())));
        arc.push(a);
        got.push(g);
        ratios.push(g / a);
    }
    println!(
        "{label}: Arc::clone {:.1} ns, Watch::get {:.1} ns, ratio {:.2} (median of {ROUNDS} rounds of {CALLS})",
        median(&mut arc),
        median(&mut got),
        median(&mut ratios)
    );
}

fn main() {
    let watch: Watch<App> = Loader::new()
        .vars([("NAME", "bench"), ("PORT", "8080"), ("API_KEY", "k")])
        .refresh_every(Duration::from_secs(3600))
        .poll_files_every(Duration::ZERO)
        .watch()
        .expect("the settings load");
    let plain = watch.get();
    run("alone", &watch, &plain);

    let watch = Arc::new(watch);
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (watch, stop) = (watch.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                drop(black_box(watch.get()));
            }
        })
    };
    run("with another reader", &watch, &plain);
    stop.store(true, Ordering::Relaxed);
    let _ = other.join();
}
