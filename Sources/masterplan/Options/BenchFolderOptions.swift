import ArgumentParser

/// `--keep-folder` of the benches that run the executor in a temporary folder.
struct BenchFolderOptions: ParsableArguments {
    @Flag(help: "Keep the temporary folder (workspaces, PostgreSQL log) and print its path.")
    var keepFolder = false
}
