import Foundation
import ToolSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            // Ctrl-C / SIGTERM: the run's loops poll `requested` and clean up (workers killed, server
            // stopped); a second signal, or cleanup past 8 s, kills the workers and exits (status 130).
            signal(SIGPIPE, SIG_IGN)  // a worker that died must not take the parent down with a write
            Interrupts.install(threadName: "lock-demo-signals", grace: 8, warn: note, againMessage: nil, graceMessage: nil) { _ in
                FileHandle.standardError.write(Data("\nlock-demo: interrupted: stopping workers and the server…\n".utf8))
            }
            status = await DemoRun(options: options).run()
        }
    } catch {
        FileHandle.standardError.write(Data("lock-demo: \(error)\n\n\(Usage.text)\n".utf8))
        status = 2
    }
}
exit(status)
