fn main() -> std::process::ExitCode {
    kingress::cli::main()
}
