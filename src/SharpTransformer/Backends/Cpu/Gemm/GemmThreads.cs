using System.Diagnostics;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Busy-waiting for another GEMM worker: pause-spins for up to 100 µs without giving the core away (on a busy machine
/// a yield can cost a whole scheduler time slice while the other worker is microseconds from done), then yields.
/// </summary>
internal struct Spinner
{
    private static readonly long PureSpinTicks = Stopwatch.Frequency / 10_000;
    private long _deadline;

    /// <summary>Waits a little.</summary>
    public void Spin()
    {
        long now = Stopwatch.GetTimestamp();
        if (_deadline == 0) _deadline = now + PureSpinTicks;
        if (now < _deadline) Thread.SpinWait(8);
        else Thread.Yield();
    }
}

/// <summary>One parallel GEMM job: <see cref="Execute"/> runs once per worker, all workers concurrently.</summary>
internal abstract class GemmJob
{
    private int _arrived;
    private int _generation;

    private volatile bool _faulted;

    /// <summary>Number of workers taking part (set by <see cref="GemmThreads.Run"/>).</summary>
    public int Workers { get; set; }

    /// <summary>Set when a worker threw: the others stop waiting for it instead of spinning forever.</summary>
    public bool Faulted
    {
        get => _faulted;
        set => _faulted = value;
    }

    /// <summary>Spins (yielding, never sleeping) until <paramref name="counter"/> reaches <paramref name="target"/>; throws if another worker failed.</summary>
    public void WaitUntil(ref int counter, int target)
    {
        var spin = new Spinner();
        while (Volatile.Read(ref counter) < target)
        {
            if (_faulted) throw new OperationCanceledException("Another Sgemm worker failed.");
            spin.Spin();
        }
    }

    /// <summary>The work of worker <paramref name="worker"/> (0 = the calling thread).</summary>
    public abstract void Execute(int worker);

    /// <summary>
    /// Spin barrier over the <see cref="Workers"/> workers. Safe because every worker runs on its own thread
    /// (the caller plus dedicated threads), so all of them are live at once; it spins, then yields, never sleeps.
    /// </summary>
    public void Barrier()
    {
        if (Workers == 1) return;
        int gen = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == Workers)
        {
            Volatile.Write(ref _arrived, 0);
            Interlocked.Increment(ref _generation);
            return;
        }
        var spin = new Spinner();
        while (Volatile.Read(ref _generation) == gen)
        {
            if (_faulted) throw new OperationCanceledException("Another Sgemm worker failed.");
            spin.Spin();
        }
    }
}

/// <summary>
/// A tiny pool of dedicated worker threads for GEMM. Parallel.For would do, but GEMM needs a barrier between packing
/// the shared A panels and using them, which is only safe when every worker is guaranteed its own thread, and the
/// per-call cost matters for the many mid-sized multiplies of a transformer step: a worker spins for a short while
/// after each job (as BLAS thread pools do) so back-to-back calls do not pay an OS wake-up each.
/// One caller at a time uses the pool; a concurrent caller runs its job single-threaded instead of waiting.
/// </summary>
internal static class GemmThreads
{
    /// <summary>How long an idle worker spins for the next job before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs

    private static readonly object Gate = new();
    private static Worker[] _workers = [];
    private static int _pending;
    private static readonly ManualResetEventSlim Done = new(false, spinCount: 1);

    /// <summary>Runs <paramref name="job"/> on up to <paramref name="threads"/> workers and returns when all are done.</summary>
    public static void Run(GemmJob job, int threads)
    {
        if (threads <= 1 || !Monitor.TryEnter(Gate))
        {
            job.Workers = 1;
            job.Execute(0);
            return;
        }
        try
        {
            if (_workers.Length < threads - 1)
            {
                var grown = new Worker[threads - 1];
                Array.Copy(_workers, grown, _workers.Length);
                for (int i = _workers.Length; i < grown.Length; i++) grown[i] = new Worker(i + 1);
                _workers = grown;
            }
            job.Workers = threads;
            job.Faulted = false;
            Done.Reset();
            Volatile.Write(ref _pending, threads - 1);
            for (int i = 0; i < threads - 1; i++) _workers[i].Start(job);
            Exception? error = null;
            try { job.Execute(0); }
            catch (Exception e) { error = e; job.Faulted = true; }
            // The other workers are normally within microseconds of finishing: spin a little, then block (on a
            // machine with more runnable threads than cores, spinning would only delay them).
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _pending) != 0 && Stopwatch.GetTimestamp() < until) Thread.SpinWait(8);
            // A Set may be stale (a worker of the previous call sets it just after decrementing), so only the counter
            // decides: workers always decrement before they set, and we always re-check after resetting.
            while (Volatile.Read(ref _pending) != 0)
            {
                Done.Wait();
                Done.Reset();
            }
            // Report the first real failure, not the cancellations it caused in the other workers.
            for (int i = 0; i < threads - 1; i++)
            {
                var e = _workers[i].TakeError();
                if (e is not null && (error is null || error is OperationCanceledException)) error = e;
            }
            if (error is not null) throw new AggregateException("Sgemm worker failed.", error);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    private sealed class Worker
    {
        private readonly int _index;
        private readonly SemaphoreSlim _wake = new(0);
        private GemmJob? _job;
        private int _sleeping;
        private Exception? _error;

        public Worker(int index)
        {
            _index = index;
            var t = new Thread(Loop) { IsBackground = true, Name = $"sgemm-{index}" };
            t.Start();
        }

        public void Start(GemmJob job)
        {
            Interlocked.Exchange(ref _job, job);
            if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1) _wake.Release();
        }

        public Exception? TakeError()
        {
            var e = _error;
            _error = null;
            return e;
        }

        private GemmJob? Take() => Volatile.Read(ref _job) is null ? null : Interlocked.Exchange(ref _job, null);

        private void Loop()
        {
            while (true)
            {
                var job = Take();
                if (job is null)
                {
                    // Spin a little for the next job, then sleep until Start wakes us (re-checking after announcing it).
                    long until = Stopwatch.GetTimestamp() + SpinTicks;
                    while ((job = Take()) is null && Stopwatch.GetTimestamp() < until) Thread.SpinWait(8);
                    if (job is null)
                    {
                        Interlocked.Exchange(ref _sleeping, 1);
                        job = Take();
                        if (job is null)
                        {
                            _wake.Wait();
                            Interlocked.Exchange(ref _sleeping, 0);
                            continue; // take the job at the top (a stale release just loops)
                        }
                        Interlocked.Exchange(ref _sleeping, 0);
                    }
                }
                try { job.Execute(_index); }
                catch (Exception e) { _error = e; job.Faulted = true; }
                if (Interlocked.Decrement(ref _pending) == 0) Done.Set();
            }
        }
    }
}
