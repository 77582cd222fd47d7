namespace FastBuddy.Tests.Systematic;

/// <summary>
/// One run of a scenario under a deterministic scheduler: every logical thread is a real thread, but exactly one
/// runs at a time, from one schedule point to the next; at each point the scheduler picks who runs next.
/// </summary>
/// <remarks>
/// A logical thread gives up the processor only at a schedule point (the library's <c>SchedulePoints</c> and the
/// test's own <see cref="PointHooks.Reach"/>), never inside an arena lock, so no thread ever blocks on a lock held
/// by a paused one. Handing over goes through one semaphore per thread and one for the controller, which also
/// orders every memory access of one step before the next step. A step that does not reach a point or finish
/// within the step timeout is reported as a hang (its threads are left behind, blocked).
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
        public Exception? Failure;
    }

    private readonly SemaphoreSlim _controller = new(0);
    private readonly List<string> _trace = [];

    /// <summary>Each step: which thread ran, from which point.</summary>
    public IReadOnlyList<string> Trace => _trace;

    /// <summary>Runs <paramref name="threads"/> to completion under <paramref name="choose"/>. Returns the first failure, or null.</summary>
    public string? Run(IReadOnlyList<(string Name, Action Body)> threads, Chooser choose, TimeSpan stepTimeout)
    {
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
        int last = -1;
        while (true)
        {
            runnable.Clear();
            if (last >= 0 && !workers[last].Done)
                runnable.Add(last);
            for (int i = 0; i < workers.Length; i++)
            {
                if (i != last && !workers[i].Done)
                    runnable.Add(i);
            }
            if (runnable.Count == 0)
                break;
            int next = choose(runnable);
            Worker w = workers[next];
            _trace.Add($"{next}:{w.Name}@{w.At}");
            last = next;
            w.Go.Release();
            if (!_controller.Wait(stepTimeout))
                return $"hang: thread {next} ({w.Name}) did not reach a schedule point within {stepTimeout.TotalSeconds} s after {w.At}";
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

    private void Body(Worker w, Action body)
    {
        using (PointHooks.OnThisThread(point => Yield(w, point)))
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
        w.Done = true;
        _controller.Release();
    }

    private void Yield(Worker w, string point)
    {
        w.At = point;
        _controller.Release();
        w.Go.Wait();
    }
}
