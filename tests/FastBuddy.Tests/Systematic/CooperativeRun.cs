using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Systematic;

/// <summary>
/// One run of a scenario under a deterministic scheduler: every logical thread is a real thread, but exactly one
/// runs at a time, from one schedule point to the next; at each point the scheduler picks who runs next.
/// </summary>
/// <remarks>
/// A logical thread gives up the processor only at a schedule point (the library's <c>SchedulePoints</c> and the
/// test's own <see cref="PointHooks.Reach"/>), never inside a zone lock. Two kinds of point tell the scheduler
/// that the thread cannot go on by itself: a <c>Spin</c> point (one turn of a wait loop: the thread is offered
/// again only once another thread made progress, or when no other thread can move) and a <c>Taking</c> point
/// (the thread takes a magazine's drain lock next: it is offered only while no paused thread holds that lock), so
/// no thread ever blocks on a wait that only a paused one can end. When every thread left waits on a lock, or
/// every one only spins for <see cref="SpinLimit"/> decisions in a row, the run is reported as a deadlock or a
/// livelock. Handing over goes through one semaphore per thread and one for the controller, which also orders
/// every memory access of one step before the next step. A step that does not reach a point or finish within the
/// step timeout is reported as a hang (its threads are left behind, blocked).
/// </remarks>
internal sealed class CooperativeRun
{
    /// <summary>Chooses the next thread: gets the runnable threads (the last one to run first, if it can) and returns one of them.</summary>
    public delegate int Chooser(IReadOnlyList<int> runnable);

    private sealed class Worker(string name)
    {
        public readonly string Name = name;
        public readonly SemaphoreSlim Go = new(0);
        public Thread? Thread;
        public volatile bool Done;
        public string At = "start";
        public PointKind Kind;
        public Lock? Taking;
        /// <summary>The progress count when it last reached a spin point.</summary>
        public long SpunAt;
        public Exception? Failure;

    }

    /// <summary>Decisions in a row at which every thread that could run was only spinning: a livelock.</summary>
    public const int SpinLimit = 400;

    private readonly SemaphoreSlim _controller = new(0);
    private readonly List<string> _trace = [];
    private Action<string>? _onPoint;
    private long _progress;
    private readonly HashSet<Lock> _takenByARun = new(ReferenceEqualityComparer.Instance);

    /// <summary>The run ended early (a hang, a deadlock, a livelock): some threads are still paused or blocked.</summary>
    public bool LeftThreadsBehind { get; private set; }

    /// <summary>Each step: which thread ran, from which point.</summary>
    public IReadOnlyList<string> Trace => _trace;

    /// <summary>Runs <paramref name="threads"/> to completion under <paramref name="choose"/>. Returns the first failure, or null.</summary>
    public string? Run(IReadOnlyList<(string Name, Action Body)> threads, Chooser choose, TimeSpan stepTimeout, Action<string>? onPoint = null)
    {
        _onPoint = onPoint;
        var workers = new Worker[threads.Count];
        for (int i = 0; i < workers.Length; i++)
        {
            int index = i;
            Worker w = workers[i] = new Worker(threads[i].Name);
            Action body = threads[i].Body;
            w.Thread = new Thread(() => Body(w, body)) { IsBackground = true, Name = "systematic " + w.Name };
        }
        foreach (Worker w in workers)
            w.Thread!.Start();

        var runnable = new List<int>(workers.Length);
        int last = -1, spinsInARow = 0;
        while (true)
        {
            bool anyLeft = Runnable(workers, last, runnable, out bool onlySpinning);
            if (!anyLeft)
                break;
            if (runnable.Count == 0)
            {
                LeftThreadsBehind = true;
                return $"deadlock: every thread left waits for a lock another holds ({Waiting(workers)})";
            }
            spinsInARow = onlySpinning ? spinsInARow + 1 : 0;
            if (spinsInARow > SpinLimit)
            {
                LeftThreadsBehind = true;
                return $"livelock: every thread left only spins ({Waiting(workers)})";
            }
            int next = choose(runnable);
            Worker w = workers[next];
            if (w.Taking is not null)
                _takenByARun.Add(w.Taking); // it takes the lock now (and may hold it across its next points)
            _trace.Add($"{next}:{w.Name}@{w.At}");
            last = next;
            w.Go.Release();
            if (!_controller.Wait(stepTimeout))
            {
                LeftThreadsBehind = true;
                return $"hang: thread {next} ({w.Name}) did not reach a schedule point within {stepTimeout.TotalSeconds} s after {w.At}";
            }
        }
        foreach (Worker w in workers)
            w.Thread!.Join();
        foreach (Worker w in workers)
        {
            if (w.Failure is not null)
                return $"thread {w.Name} threw at {w.At}: {w.Failure}";
        }
        return null;
    }

    /// <summary>
    /// The threads that may be chosen, the last one to run first when it can go on. A spinning thread is one only
    /// when some other thread made progress since its turn (a turn that sees the same state is not worth trying
    /// again); when no thread can move otherwise, the spinning ones are offered anyway (a wait that ends on time).
    /// False when every thread has finished.
    /// </summary>
    private bool Runnable(Worker[] workers, int last, List<int> runnable, out bool onlySpinning)
    {
        runnable.Clear();
        onlySpinning = false;
        bool anyLeft = false;
        for (int pass = 0; pass < 2 && runnable.Count == 0; pass++)
        {
            onlySpinning = pass == 1;
            if (last >= 0 && Eligible(workers[last], onlySpinning))
                runnable.Add(last);
            for (int i = 0; i < workers.Length; i++)
            {
                anyLeft |= !workers[i].Done;
                if (i != last && Eligible(workers[i], onlySpinning))
                    runnable.Add(i);
            }
        }
        return anyLeft;
    }

    private bool Eligible(Worker w, bool evenWithoutProgress)
        => !w.Done && CanTake(w.Taking) && (w.Kind != PointKind.Spin || evenWithoutProgress || _progress > w.SpunAt);

    /// <summary>
    /// No paused logical thread holds <paramref name="next"/>. Only locks a logical thread went on to take count
    /// (until the lock is seen free again): a thread outside the run that holds one for a moment (a sweep of the
    /// magazine directory, from another test) must not change the choices, which would make the run irreproducible.
    /// </summary>
    private bool CanTake(Lock? next)
    {
        if (next is null || !_takenByARun.Contains(next))
            return true;
        if (!next.TryEnter())
            return false;
        next.Exit();
        _takenByARun.Remove(next);
        return true;
    }

    private static string Waiting(Worker[] workers)
        => string.Join(", ", workers.Where(w => !w.Done).Select(w => $"{w.Name} at {w.At}"));

    private void Body(Worker w, Action body)
    {
        using (PointHooks.OnThisThread((point, kind, taking) => Yield(w, point, kind, taking)))
        {
            w.Go.Wait();
            try
            {
                body();
            }
            catch (Exception e)
            {
                w.Failure = e;
            }
        }
        _progress++;
        w.Done = true;
        _controller.Release();
    }

    private void Yield(Worker w, string point, PointKind kind, Lock? taking)
    {
        _onPoint?.Invoke(point);
        w.At = point;
        w.Kind = kind;
        w.Taking = taking;
        if (kind == PointKind.Spin)
            w.SpunAt = _progress;
        else
            _progress++;
        _controller.Release();
        w.Go.Wait();
        w.Kind = PointKind.Step;
        w.Taking = null;
    }
}
