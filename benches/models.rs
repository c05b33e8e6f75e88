//! States per second of each model at the default bounds (or `SEQCHECK_MODEL_SCALE`).
//!
//! Run with `cargo bench --bench models`; criterion reports the throughput in generated
//! states per second ("elem/s"), and each model's own report is printed once first.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqcheck::models::{self, MODEL_NAMES, ModelChoice};

fn bench_models(c: &mut Criterion) {
    let scale = match models::scale_from_env() {
        Ok(scale) => scale,
        Err(e) => {
            eprintln!("{e}; using scale 1");
            1
        }
    };
    let mut group = c.benchmark_group("models");
    group.sample_size(10);
    for name in MODEL_NAMES {
        let choice = ModelChoice {
            name,
            broken: false,
        };
        let first = models::check_one(choice, scale);
        println!("{first}");
        group.throughput(Throughput::Elements(first.total_states as u64));
        group.bench_function(name, |b| b.iter(|| models::check_one(choice, scale)));
    }
    group.finish();
}

criterion_group!(benches, bench_models);
criterion_main!(benches);
