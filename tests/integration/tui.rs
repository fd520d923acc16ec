//! The dashboard without a terminal: `update(Action)` driven the way keys
//! drive it, and every view drawn into ratatui's `TestBackend` and
//! snapshotted, on the sample logs, an empty run and a hostile one.

use std::sync::OnceLock;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use rolecall::cli::Cli;
use rolecall::ingest::raw_record;
use rolecall::pipeline::Outcome;
use rolecall::tui::action::{Action, ExportFormat, Tab};
use rolecall::tui::app::{App, Effect, Loading, Mode, Screen};
use rolecall::tui::data::Data;
use rolecall::tui::table::TableKind;
use rolecall::tui::view;
use unicode_width::UnicodeWidthStr;

use crate::common::{Gh, Scenario};
use crate::output::hostile_scenario;

/// The sample logs through the real pipeline, with their policy and keys,
/// run once for the whole file (the report is cloned per test).
fn sample_outcome() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        use clap::Parser;
        let cli = Cli::parse_from([
            "rolecall",
            "tui",
            "sample-logs",
            "--policy",
            "sample-logs/rolecall.toml",
            "--jwks",
            "sample-logs/keys/gitlab-jwks.json",
        ]);
        let rolecall::cli::Command::Tui(args) = cli.command else {
            unreachable!()
        };
        let cfg = args.input.config(&[]).expect("sample configuration");
        rolecall::pipeline::run(&cfg).expect("the sample logs run")
    })
}

fn data_of(outcome: &Outcome) -> Data {
    Data::build(outcome.report.clone(), outcome.tables.get("sessions"))
}

fn sample_app(width: u16, height: u16) -> App {
    App::with_data(data_of(sample_outcome()), width, height, true)
}

/// The screen as text, one line per row, trailing blanks cut.
fn text_of(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buffer.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            skip = UnicodeWidthStr::width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn draw(app: &App) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    terminal.backend().buffer().clone()
}

fn screen(app: &App) -> String {
    text_of(&draw(app))
}

/// Types `text` into the open prompt and submits it.
fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::InputSubmit);
}

fn search(app: &mut App, term: &str) {
    app.update(Action::StartSearch);
    type_in(app, term);
}

/// Replaces the filter (the prompt opens with the current one, to edit).
fn filter(app: &mut App, text: &str) {
    app.update(Action::StartFilter);
    while matches!(&app.mode, Mode::Filter(s) if !s.is_empty()) {
        app.update(Action::InputBackspace);
    }
    type_in(app, text);
}

/// Carries out a raw-event request the way the runner does.
fn load_raw(app: &mut App, effect: Option<Effect>) {
    let Some(Effect::LoadRaw { at, title }) = effect else {
        panic!("expected a raw-event request, got {effect:?}")
    };
    let data = app.data.as_ref().unwrap();
    let (file, record, line) = at.locate(&data.report);
    let text = raw_record(file, record, line, 1 << 30).expect("the record is re-read");
    app.update(Action::RawLoaded { title, text });
}

fn selected_finding(app: &App) -> &rolecall::tui::data::FindingRow {
    let data = app.data.as_ref().unwrap();
    &data.findings[app.findings.selected_row().unwrap()]
}

// --- snapshots of every view -------------------------------------------

#[test]
fn findings_view_snapshot() {
    let app = sample_app(140, 34);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn sessions_view_snapshot() {
    let mut app = sample_app(140, 34);
    app.update(Action::Show(Tab::Sessions));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn roles_view_snapshot() {
    let mut app = sample_app(140, 34);
    app.update(Action::Show(Tab::Roles));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn keys_view_snapshot() {
    let mut app = sample_app(150, 20);
    app.update(Action::Show(Tab::Keys));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_key_opens_to_its_calls_and_the_sessions_it_shares_a_runner_with() {
    let mut app = sample_app(150, 80);
    app.update(Action::Show(Tab::Keys));
    let data = app.data.as_ref().unwrap();
    assert_eq!(
        data.keys[app.keys.selected_row().unwrap()].user,
        "ci-deployer"
    );
    app.update(Action::Enter);
    let Screen::Detail { title, lines, .. } = app.screen().clone() else {
        panic!("Enter opens the key")
    };
    assert!(title.starts_with("Key AKIA"), "{title}");
    insta::assert_snapshot!(screen(&app));
    // Enter on the shared session opens it.
    let at = lines
        .iter()
        .position(|l| {
            l.plain().contains("run 9125400077")
                && matches!(l.event, Some(rolecall::tui::detail::RawAt::Event(_)))
        })
        .expect("the same-runner session is listed");
    for _ in 0..at {
        app.update(Action::Down);
    }
    app.update(Action::Enter);
    assert!(
        app.screen().title().starts_with("Session ASIA"),
        "{}",
        app.screen().title()
    );
    app.update(Action::Back);
    // Enter on a call shows its raw record.
    let call = lines
        .iter()
        .position(|l| {
            l.plain().contains("s3:PutObject")
                && matches!(l.event, Some(rolecall::tui::detail::RawAt::Record { .. }))
        })
        .expect("the latest calls are listed");
    app.update(Action::Home);
    for _ in 0..call {
        app.update(Action::Down);
    }
    let effect = app.update(Action::Enter);
    load_raw(&mut app, effect);
    let Screen::Raw { lines, .. } = app.screen() else {
        panic!("Enter on a call shows its record")
    };
    let raw = lines.join("\n");
    assert!(raw.contains("\"userName\": \"ci-deployer\""), "{raw}");
    assert!(raw.contains("PutObject"), "{raw}");
}

#[test]
fn timeline_view_snapshot() {
    let mut app = sample_app(140, 34);
    app.update(Action::Show(Tab::Timeline));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn session_detail_snapshot() {
    let mut app = sample_app(140, 60);
    search(&mut app, "credential-ip-drift");
    app.update(Action::Enter);
    assert!(matches!(app.screen(), Screen::Detail { .. }));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn finding_without_a_session_detail_snapshot() {
    let mut app = sample_app(120, 30);
    search(&mut app, "assume-failure-burst");
    assert!(selected_finding(&app).session.is_none());
    app.update(Action::Enter);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn raw_event_snapshot() {
    let mut app = sample_app(120, 40);
    search(&mut app, "credential-ip-drift");
    app.update(Action::Enter);
    let effect = app.update(Action::Raw);
    load_raw(&mut app, effect);
    assert!(matches!(app.screen(), Screen::Raw { .. }));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn help_overlay_snapshot() {
    let mut app = sample_app(120, 34);
    app.update(Action::ToggleHelp);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn narrow_terminal_snapshots() {
    let mut app = sample_app(80, 24);
    let findings = screen(&app);
    app.update(Action::Enter);
    let detail = screen(&app);
    app.update(Action::Show(Tab::Sessions));
    let sessions = screen(&app);
    for s in [&findings, &detail, &sessions] {
        assert!(
            s.lines().all(|l| l.width() <= 80),
            "nothing spills past 80 columns:\n{s}"
        );
    }
    insta::assert_snapshot!("narrow_findings", findings);
    insta::assert_snapshot!("narrow_detail", detail);
    insta::assert_snapshot!("narrow_sessions", sessions);
}

#[test]
fn loading_gauge_snapshot() {
    let mut app = App::new(80, 24, true);
    app.update(Action::Progress(Loading {
        stage: "reading the sources".into(),
        done: 40,
        total: 106,
    }));
    let s = screen(&app);
    assert!(s.contains("40 of 106 files"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn a_failed_run_shows_why() {
    let mut app = App::new(80, 24, true);
    app.update(Action::LoadFailed(
        "detection `x` failed:\u{1b}[2J boom".into(),
    ));
    let s = screen(&app);
    assert!(s.contains("could not read the sources"), "{s}");
    assert!(!s.contains('\u{1b}'), "the error is sanitized: {s}");
}

#[test]
fn empty_result_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = rolecall::pipeline::Config {
        sources: vec![dir.path().to_string_lossy().to_string()],
        policy: Default::default(),
        ingest: Default::default(),
        rules: None,
        queries: rolecall::detect::sql::builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let outcome = rolecall::pipeline::run(&cfg).unwrap();
    let mut app = App::with_data(data_of(&outcome), 100, 20, true);
    let findings = screen(&app);
    assert!(findings.contains("nothing to show"), "{findings}");
    app.update(Action::Enter);
    assert!(
        matches!(app.screen(), Screen::Table(TableKind::Findings)),
        "Enter on nothing stays put"
    );
    app.update(Action::Show(Tab::Timeline));
    let timeline = screen(&app);
    assert!(timeline.contains("no exchanges"), "{timeline}");
    insta::assert_snapshot!("empty_findings", findings);
    insta::assert_snapshot!("empty_timeline", timeline);
}

#[test]
fn hostile_strings_are_inert_in_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = hostile_scenario().outcome_in(dir.path());
    let mut app = App::with_data(data_of(&outcome), 120, 40, true);
    let mut screens = vec![screen(&app)];
    app.update(Action::Show(Tab::Sessions));
    screens.push(screen(&app));
    app.update(Action::Enter);
    screens.push(screen(&app));
    // The call with the hostile user agent, then its raw record.
    app.update(Action::End);
    let effect = app.update(Action::Raw);
    load_raw(&mut app, effect);
    screens.push(screen(&app));
    app.update(Action::Show(Tab::Roles));
    screens.push(screen(&app));
    for s in &screens {
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!s.contains(bad), "{bad:?} reached the screen:\n{s}");
        }
        assert!(
            !s.contains("c2lnbmF0dXJl"),
            "a JWT signature reached the screen:\n{s}"
        );
    }
    assert!(screens[1].contains("repo:acme/"), "{}", screens[1]);
    insta::assert_snapshot!("hostile_sessions", screens[1]);
    insta::assert_snapshot!("hostile_detail", screens[2]);
}

// --- colour ------------------------------------------------------------

#[test]
fn severities_are_coloured_and_no_color_turns_colour_off() {
    let app = sample_app(120, 30);
    let buffer = draw(&app);
    // The first row is the most severe finding: its severity cell is red.
    assert_eq!(
        selected_finding(&app).severity,
        rolecall::model::Severity::Critical
    );
    assert_eq!(buffer[(0, 3)].symbol(), "c");
    assert_eq!(buffer[(0, 3)].fg, Color::Red);

    let plain = App::with_data(data_of(sample_outcome()), 120, 30, false);
    let buffer = draw(&plain);
    let coloured: Vec<_> = buffer
        .content
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .map(|c| (c.symbol().to_string(), c.fg, c.bg))
        .take(3)
        .collect();
    assert!(
        coloured.is_empty(),
        "no colour without colour: {coloured:?}"
    );
}

// --- behaviour: update(Action) ------------------------------------------

#[test]
fn search_jumps_to_the_first_match_and_n_steps_through_them() {
    let mut app = sample_app(120, 30);
    search(&mut app, "credential-ip-drift");
    let s = app.search.clone().unwrap();
    assert!(s.matches.len() >= 2, "{:?}", s.matches);
    assert_eq!(app.findings.selected, s.matches[0]);
    assert_eq!(selected_finding(&app).rule, "credential-ip-drift");
    assert!(screen(&app).contains(&format!("match 1 of {}", s.matches.len())));

    app.update(Action::NextMatch);
    assert_eq!(app.findings.selected, s.matches[1]);
    app.update(Action::PrevMatch);
    app.update(Action::PrevMatch);
    assert_eq!(
        app.findings.selected,
        *s.matches.last().unwrap(),
        "N wraps from the first to the last"
    );

    search(&mut app, "no-such-thing-anywhere");
    assert_eq!(app.search.as_ref().unwrap().matches.len(), 0);
    assert!(screen(&app).contains("match 0 of 0"));
    app.update(Action::Back);
    assert!(app.search.is_none(), "Esc clears the search");
}

#[test]
fn keys_typed_into_a_prompt_are_text_not_commands() {
    let mut app = sample_app(120, 30);
    app.update(Action::StartSearch);
    for c in "q1s".chars() {
        assert_eq!(
            app.update(Action::Input(c)),
            None,
            "q does not quit while typing"
        );
    }
    assert_eq!(app.mode, Mode::Search("q1s".into()));
    app.update(Action::InputCancel);
    assert_eq!(app.mode, Mode::Normal);
    assert!(matches!(app.screen(), Screen::Table(TableKind::Findings)));
}

#[test]
fn filters_narrow_the_findings_and_bad_ones_explain_themselves() {
    let mut app = sample_app(120, 30);
    let all = app.findings.order.len();
    assert_eq!(all, app.data.as_ref().unwrap().report.findings.len());

    filter(&mut app, "sev:critical");
    let data = app.data.as_ref().unwrap();
    let critical = data
        .report
        .findings
        .iter()
        .filter(|f| f.severity == rolecall::model::Severity::Critical)
        .count();
    assert!(critical > 0);
    assert_eq!(app.findings.order.len(), critical);

    filter(&mut app, "sev:high+ rule:drift");
    assert!(!app.findings.order.is_empty());
    for &r in &app.findings.order {
        assert_eq!(
            app.data.as_ref().unwrap().findings[r].rule,
            "credential-ip-drift"
        );
    }
    assert!(screen(&app).contains("filter: sev:high+ rule:drift"));

    filter(&mut app, "sev:apocalyptic");
    assert!(
        app.status.as_deref().unwrap_or("").starts_with("filter:"),
        "{:?}",
        app.status
    );
    assert!(
        !app.findings.order.is_empty(),
        "a bad filter leaves the last good one"
    );

    filter(&mut app, "");
    assert_eq!(app.findings.order.len(), all);
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut app = sample_app(120, 30);
    app.update(Action::Show(Tab::Sessions));
    app.update(Action::CycleSort);
    assert_eq!(app.sessions.sort, 1);
    let column = |app: &App| -> Vec<String> {
        let src = rolecall::tui::table::source(app.data.as_ref().unwrap(), TableKind::Sessions);
        app.sessions.order.iter().map(|&r| src.cell(r, 1)).collect()
    };
    let cells = column(&app);
    let mut sorted = cells.clone();
    sorted.sort();
    assert_eq!(cells, sorted, "ascending by the second column");
    app.update(Action::ReverseSort);
    let cells = column(&app);
    let mut reversed = sorted.clone();
    reversed.reverse();
    assert_eq!(cells, reversed, "S reverses");
    assert!(screen(&app).contains("▼"));
}

#[test]
fn enter_drills_into_the_session_and_esc_comes_back_where_it_was() {
    let mut app = sample_app(120, 40);
    app.update(Action::Down);
    app.update(Action::Down);
    let before = app.findings.selected;
    let finding = selected_finding(&app).clone();
    let si = finding
        .session
        .expect("the third finding rests on a session");
    app.update(Action::Enter);
    let Screen::Detail { lines, .. } = app.screen() else {
        panic!("Enter opens the detail")
    };
    let text: String = lines.iter().map(|l| l.plain() + "\n").collect();
    let session = &app.data.as_ref().unwrap().sessions[si];
    assert!(text.contains(&session.key), "{text}");
    assert!(
        text.contains(&finding.rule),
        "the finding is explained: {text}"
    );
    assert!(
        app.breadcrumb().starts_with("Findings › Session"),
        "{}",
        app.breadcrumb()
    );
    assert!(screen(&app).contains("Findings › Session"));

    app.update(Action::Back);
    assert!(matches!(app.screen(), Screen::Table(TableKind::Findings)));
    assert_eq!(
        app.findings.selected, before,
        "the selection survives the round trip"
    );
    app.update(Action::Back);
    assert!(
        matches!(app.screen(), Screen::Table(TableKind::Findings)),
        "Esc at the top stays"
    );
}

#[test]
fn a_role_opens_its_sessions() {
    let mut app = sample_app(120, 30);
    app.update(Action::Show(Tab::Roles));
    let data = app.data.as_ref().unwrap();
    let role = data.roles[app.roles.selected_row().unwrap()].clone();
    app.update(Action::Enter);
    assert!(matches!(app.screen(), Screen::Table(TableKind::Sessions)));
    let data = app.data.as_ref().unwrap();
    assert!(!app.sessions.order.is_empty());
    for &r in &app.sessions.order {
        assert!(
            data.sessions[r].role.contains(&role.role),
            "{} vs {}",
            data.sessions[r].role,
            role.role
        );
    }
    assert_eq!(app.breadcrumb(), "Roles › Sessions");
}

#[test]
fn a_timeline_bucket_opens_its_sessions() {
    let mut app = sample_app(120, 30);
    app.update(Action::Show(Tab::Timeline));
    // The busiest bucket.
    let data = app.data.as_ref().unwrap();
    let (_, buckets) =
        rolecall::tui::timeline::buckets(&data.exchanges, app.timeline_zoom, app.timeline_group);
    let (busiest, bucket) = buckets
        .iter()
        .enumerate()
        .max_by_key(|(_, b)| b.total())
        .unwrap();
    let expected = bucket.total() as usize;
    for _ in 0..busiest {
        app.update(Action::Right);
    }
    assert_eq!(app.timeline_cursor, busiest);
    app.update(Action::Enter);
    assert!(matches!(app.screen(), Screen::Table(TableKind::Sessions)));
    assert!(app.sessions.filter.raw.starts_with("time:"));
    assert_eq!(
        app.sessions.order.len(),
        expected,
        "the bucket's successful exchanges (failures are counted apart) are its sessions"
    );

    app.update(Action::Back);
    let before = app.timeline_zoom;
    app.update(Action::ZoomOut);
    assert_eq!(app.timeline_zoom, before + 1);
    app.update(Action::ZoomIn);
    app.update(Action::ZoomIn);
    assert_eq!(app.timeline_zoom, before - 1);
    app.update(Action::ToggleGroup);
    assert!(screen(&app).contains("by role"));
}

#[test]
fn navigation_pages_and_stays_in_bounds() {
    let mut app = sample_app(120, 12);
    app.update(Action::Show(Tab::Sessions));
    let n = app.sessions.order.len();
    app.update(Action::Up);
    assert_eq!(app.sessions.selected, 0);
    app.update(Action::PageDown);
    assert_eq!(app.sessions.selected, rolecall::tui::app::table_rows(12));
    app.update(Action::End);
    assert_eq!(app.sessions.selected, n - 1);
    app.update(Action::Down);
    assert_eq!(app.sessions.selected, n - 1);
    let rows = rolecall::tui::app::table_rows(12);
    assert!(
        app.sessions.offset < n && n - 1 < app.sessions.offset + rows,
        "the last row is in view"
    );
    app.update(Action::Home);
    assert_eq!((app.sessions.selected, app.sessions.offset), (0, 0));
}

#[test]
fn a_click_selects_the_row_under_the_pointer() {
    let mut app = sample_app(120, 30);
    app.update(Action::Click { column: 10, row: 5 });
    assert_eq!(
        app.findings.selected, 2,
        "rows start under the column header on line 3"
    );
    app.update(Action::Click { column: 10, row: 1 });
    assert_eq!(
        app.findings.selected, 2,
        "a click on the header changes nothing"
    );
    app.update(Action::ScrollDown);
    assert_eq!(app.findings.selected, 5);
}

#[test]
fn resizing_keeps_the_selection_in_view() {
    let mut app = sample_app(120, 40);
    app.update(Action::Show(Tab::Sessions));
    for _ in 0..30 {
        app.update(Action::Down);
    }
    app.update(Action::Resize(80, 12));
    let rows = rolecall::tui::app::table_rows(12);
    assert!(app.sessions.selected >= app.sessions.offset);
    assert!(app.sessions.selected < app.sessions.offset + rows);
}

#[test]
fn export_writes_the_filtered_view_escaped() {
    let mut app = sample_app(120, 30);
    filter(&mut app, "sev:critical");
    let rows = app.findings.order.len();
    app.update(Action::StartExport);
    assert_eq!(app.mode, Mode::ExportPrompt);
    let Some(Effect::Export {
        stem,
        extension,
        contents,
    }) = app.update(Action::ExportAs(ExportFormat::Csv))
    else {
        panic!("export asks the runner to write")
    };
    assert_eq!((stem.as_str(), extension), ("rolecall-findings", "csv"));
    let lines: Vec<&str> = contents.lines().collect();
    assert_eq!(lines.len(), rows + 1, "header plus the filtered rows");
    assert!(lines[0].starts_with("severity,time,rule"), "{}", lines[0]);
    assert!(lines[1..].iter().all(|l| l.starts_with("critical,")));

    app.update(Action::StartExport);
    let Some(Effect::Export { contents, .. }) = app.update(Action::ExportAs(ExportFormat::Json))
    else {
        panic!()
    };
    let doc: serde_json::Value = serde_json::from_str(&contents).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), rows);
    assert!(doc[0]["message"].as_str().is_some_and(|m| !m.is_empty()));

    app.update(Action::StartExport);
    assert_eq!(app.update(Action::Input('x')), None);
    assert_eq!(app.status.as_deref(), Some("export cancelled"));
}

#[test]
fn a_hostile_csv_export_is_not_a_formula() {
    let outcome = hostile_scenario().outcome();
    let mut app = App::with_data(data_of(&outcome), 120, 40, true);
    app.update(Action::Show(Tab::Sessions));
    app.update(Action::StartExport);
    let Some(Effect::Export { contents, .. }) = app.update(Action::ExportAs(ExportFormat::Csv))
    else {
        panic!()
    };
    assert!(!contents.contains('\u{1b}'), "{contents}");
    for line in contents.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.trim_start_matches('"').starts_with(['=', '+', '@']),
                "a cell starts a formula: {line}"
            );
        }
    }
}

#[test]
fn quit_is_an_effect_from_any_view() {
    let mut app = sample_app(120, 30);
    assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
    app.update(Action::ToggleHelp);
    assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
    app.update(Action::Enter);
    assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
}

#[test]
fn summary_view_snapshot() {
    let mut app = sample_app(120, 60);
    app.update(Action::Show(Tab::Summary));
    assert!(app.screen().is_summary());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn input_errors_stand_out_and_the_summary_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Scenario::new();
    s.github(&Gh::default());
    s.write(dir.path());
    std::fs::write(
        dir.path().join("broken.ndjson"),
        "{\"eventVersion\":\"1.08\",\n",
    )
    .unwrap();
    let cfg = rolecall::pipeline::Config {
        sources: vec![dir.path().to_string_lossy().to_string()],
        policy: Default::default(),
        ingest: Default::default(),
        rules: None,
        queries: rolecall::detect::sql::builtin_queries(),
        allow_partial: false,
        ..Default::default()
    };
    let outcome = rolecall::pipeline::run(&cfg).unwrap();
    let mut app = App::with_data(data_of(&outcome), 120, 40, true);
    let top = screen(&app);
    assert!(
        top.lines()
            .next()
            .unwrap()
            .contains("1 input errors (see 5)"),
        "{top}"
    );
    app.update(Action::Show(Tab::Summary));
    let summary = screen(&app);
    assert!(summary.contains("Input errors (1)"), "{summary}");
    assert!(
        summary.contains("broken.ndjson: line 2: the JSON ends early"),
        "the file and line are named:\n{summary}"
    );
    assert!(summary.contains("results may be incomplete"), "{summary}");
}

#[test]
fn tab_cycles_through_every_view() {
    let mut app = sample_app(120, 30);
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(app.screen().title());
        app.update(Action::NextTab);
    }
    assert_eq!(
        seen,
        ["Findings", "Sessions", "Roles", "Timeline", "Summary", "Keys"]
    );
    assert_eq!(app.screen().title(), "Findings");
}
