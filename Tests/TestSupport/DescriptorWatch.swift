import Foundation
import Synchronization

/// Catches a descriptor closed twice: while `body` runs, another thread opens descriptors as fast as
/// it can and checks each is still open a moment later. A second `close` of a number that `body`
/// already closed hits one of them (the number is reused at once), so `lost` counts such closes.
public enum DescriptorWatch {
    public struct Tally: Sendable {
        /// Descriptors the watching thread opened.
        public var opened: Int
        /// Of those, the ones closed under it.
        public var lost: Int
    }

    public static func tally(while body: () -> Void) -> Tally {
        let stop = Atomic<Bool>(false)
        let lost = Atomic<Int>(0)
        let opened = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            while !stop.load(ordering: .relaxed) {
                let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                opened.add(1, ordering: .relaxed)
                var gone = false
                for _ in 0..<20 where fcntl(fd, F_GETFD) < 0 { gone = true }
                if gone { lost.add(1, ordering: .relaxed) } else { close(fd) }
            }
            finished.signal()
        }.start()
        body()
        stop.store(true, ordering: .relaxed)
        finished.wait()
        return Tally(opened: opened.load(ordering: .relaxed), lost: lost.load(ordering: .relaxed))
    }
}
