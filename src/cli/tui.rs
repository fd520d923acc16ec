//! `rolecall tui`: the engine runs on a background thread while the
//! dashboard opens at once with a progress gauge, then fills in.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;

use super::{Exit, InputArgs};
use crate::ingest::{raw_record, Progress};
use crate::tui::action::Action;
use crate::tui::app::Loading;
use crate::tui::data::Data;
use crate::tui::Ending;

#[derive(Args, Debug)]
pub struct TuiArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: &TuiArgs) -> Result<Exit> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "rolecall tui needs a terminal; use `rolecall scan` or `rolecall sessions` in pipes and scripts"
        );
    }
    let mut cfg = args.input.config(&[])?;
    cfg.ingest.remote.progress = false;
    let progress = Arc::new(Progress::default());
    progress.set_stage("reading the sources");
    cfg.ingest.progress = Some(progress.clone());
    let max_file_bytes = cfg.ingest.max_file_bytes;
    let (tx, rx) = mpsc::channel::<Action>();

    // Progress, ten times a second, until the run is done.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let ticker_tx = tx.clone();
    let ticker_progress = progress.clone();
    std::thread::spawn(move || loop {
        let p = Loading {
            stage: ticker_progress.stage(),
            done: ticker_progress.files_done.load(Ordering::Relaxed),
            total: ticker_progress.files_total.load(Ordering::Relaxed),
        };
        if ticker_tx.send(Action::Progress(p)).is_err()
            || done_rx.recv_timeout(Duration::from_millis(100)).is_ok()
        {
            return;
        }
    });
    let build_progress = progress.clone();
    std::thread::spawn(move || {
        let message = match crate::pipeline::run(&cfg) {
            Ok(outcome) => {
                build_progress.set_stage("preparing the views");
                Action::Loaded(Box::new(Data::build(
                    outcome.report,
                    outcome.tables.get("sessions"),
                )))
            }
            Err(e) => Action::LoadFailed(format!("{e:#}")),
        };
        let _ = done_tx.send(());
        let _ = tx.send(message);
    });

    let raw = move |data: &Data, at: crate::tui::detail::RawAt| -> Result<String, String> {
        let (file, record, line) = at.locate(&data.report);
        raw_record(file, record, line, max_file_bytes)
    };
    Ok(match crate::tui::run(rx, &raw)? {
        Ending::Quit => Exit::Clean,
        Ending::Interrupted => Exit::Interrupted,
        Ending::HangUp => Exit::HangUp,
        Ending::Terminated => Exit::Terminated,
    })
}
