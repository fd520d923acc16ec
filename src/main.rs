//! The `rolecall` binary: everything happens in `cli`.

fn main() -> std::process::ExitCode {
    rolecall::cli::main()
}
