#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex with one or more condition variables (all understood by ThreadSanitizer),
/// for the few places that hand work to threads of their own: envelopes synced several at a
/// time, and an envelope's digest computed while the next block is encrypted or decrypted.
/// Waiters for different things wait on different conditions, so that handing over one job
/// wakes one worker, not every thread that waits for anything.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    init(conditions count: Int = 1) {
        precondition(count >= 1)
        self.count = count
        conditions = .allocate(capacity: count)
        pthread_mutex_init(mutex, nil)
        for i in 0..<count { pthread_cond_init(conditions + i, nil) }
    }

    deinit {
        for i in 0..<count { pthread_cond_destroy(conditions + i) }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        conditions.deallocate()
    }

    /// Runs `body` holding the mutex.
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal or broadcast on `condition`; only inside ``locked(_:)``.
    func wait(_ condition: Int = 0) { pthread_cond_wait(conditions + condition, mutex) }

    /// Wakes every waiter on `condition`; inside ``locked(_:)``.
    func broadcast(_ condition: Int = 0) { pthread_cond_broadcast(conditions + condition) }

    /// Wakes one waiter on `condition` (if any); inside ``locked(_:)``.
    func signal(_ condition: Int = 0) { pthread_cond_signal(conditions + condition) }
}

enum Threads {
    private final class Start {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached thread running `body`; false if the system refuses one (the caller
    /// then does the work itself).
    static func detach(_ body: @escaping @Sendable () -> Void) -> Bool {
        let start = Unmanaged.passRetained(Start(body)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let rc = pthread_create(&thread, &attributes, { argument in
            Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().body()
            return nil
        }, start)
        if rc != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            return false
        }
        return true
    }

    /// Starts a joinable thread running `body`, for workers that must all run at once (each
    /// may wait for another), which a bounded thread pool does not promise.
    static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Start(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<Start>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    static func join(_ thread: pthread_t) { pthread_join(thread, nil) }
}

/// One thread that hands jobs to `handler` in the order they are submitted, and says when a
/// job is done. Started on the first job; it ends at ``close()``. A job is a value (no closure
/// to allocate), queued in room reserved up front: submitting allocates nothing.
final class SerialWorker<Job>: @unchecked Sendable {
    /// The worker waits on `work` (for jobs); callers wait on `done` (for jobs to finish).
    private static var work: Int { 0 }
    private static var done: Int { 1 }
    private let monitor = Monitor(conditions: 2)
    private let handler: (Job) -> Void
    private var jobs: [Job] = []
    private var submitted = 0
    private var completed = 0
    private var running = false
    private var closing = false

    /// `handler` runs on the worker's thread, one job at a time; room is reserved for
    /// `capacity` jobs waiting at once.
    init(capacity: Int, handler: @escaping (Job) -> Void) {
        self.handler = handler
        jobs.reserveCapacity(capacity)
    }

    /// Hands `job` over; returns its ticket, for ``wait(for:)``. When no thread can be
    /// started, the job runs at once.
    func submit(_ job: Job) -> Int {
        let (ticket, start) = monitor.locked { () -> (Int, Bool) in
            jobs.append(job)
            submitted += 1
            monitor.signal(Self.work)
            let start = !running
            running = true
            return (submitted, start)
        }
        if start, !Threads.detach({ [self] in run() }) {
            // No thread: run what is queued here and now.
            monitor.locked { running = false }
            drainHere()
        }
        return ticket
    }

    private func drainHere() {
        while let job = monitor.locked({ jobs.isEmpty ? nil : jobs.removeFirst() }) {
            handler(job)
            monitor.locked {
                completed += 1
                monitor.broadcast(Self.done)
            }
        }
    }

    private func run() {
        while true {
            let job = monitor.locked { () -> Job? in
                while jobs.isEmpty && !closing { monitor.wait(Self.work) }
                if jobs.isEmpty {
                    running = false
                    monitor.broadcast(Self.done)
                    return nil
                }
                return jobs.removeFirst()
            }
            guard let job else { return }
            handler(job)
            monitor.locked {
                completed += 1
                monitor.broadcast(Self.done)
            }
        }
    }

    /// Waits until the job with `ticket` (and every one before it) is done.
    func wait(for ticket: Int) {
        monitor.locked {
            while completed < ticket { monitor.wait(Self.done) }
        }
    }

    /// Waits until every job handed over is done.
    func drain() {
        monitor.locked {
            while completed < submitted { monitor.wait(Self.done) }
        }
    }

    /// Finishes the jobs handed over and lets the thread end; waits for it.
    func close() {
        monitor.locked {
            closing = true
            monitor.broadcast(Self.work)
            while running || completed < submitted { monitor.wait(Self.done) }
        }
    }
}
