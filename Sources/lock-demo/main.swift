import Foundation

// lock-demo: N worker processes hand out order numbers under one distributed mutex.
// The same binary runs as the parent (no `--worker`) or as a worker (`--worker …`, started by the parent).
let argv = Array(CommandLine.arguments.dropFirst())
let status: Int32
if argv.first == "--worker" {
    do {
        let settings = try Worker.settings(from: Array(argv.dropFirst()))
        status = await Worker(settings: settings).run()
    } catch {
        note("\(error)")
        status = 2
    }
} else {
    do {
        let options = try DemoOptions(argv)
        if options.help {
            print(Usage.text)
            status = 0
        } else {
            Interrupts.install()
            status = await DemoRun(options: options).run()
        }
    } catch {
        FileHandle.standardError.write(Data("lock-demo: \(error)\n\n\(Usage.text)\n".utf8))
        status = 2
    }
}
exit(status)
